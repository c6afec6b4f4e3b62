#pragma once

#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>

#include "messages/atoms.hpp"
#include "messages/interfaces.hpp"

// Typed lookups of the registered actors: every actor finds its peers by
// role (messages/atoms.hpp, `names`) and the role of an interface is stated
// once, here, instead of at each `registry().get<T>(name)`.

namespace zaki {

/// The registry name of the actor behind the interface `Handle`.
template <class Handle>
struct peer_name;

template <>
struct peer_name<root_actor> {
  static constexpr caf::atom_value value = names::root;
};

template <>
struct peer_name<store_actor> {
  static constexpr caf::atom_value value = names::store;
};

template <>
struct peer_name<telegram_actor> {
  static constexpr caf::atom_value value = names::telegram;
};

template <>
struct peer_name<poller_actor> {
  static constexpr caf::atom_value value = names::poller;
};

template <>
struct peer_name<user_supervisor_actor> {
  static constexpr caf::atom_value value = names::user_supervisor;
};

template <>
struct peer_name<provisioner_actor> {
  static constexpr caf::atom_value value = names::provisioner;
};

template <>
struct peer_name<provisioner_impl_actor> {
  static constexpr caf::atom_value value = names::provisioner;
};

template <>
struct peer_name<health_actor> {
  static constexpr caf::atom_value value = names::health;
};

template <>
struct peer_name<admin_actor> {
  static constexpr caf::atom_value value = names::admin;
};

template <>
struct peer_name<access_actor> {
  static constexpr caf::atom_value value = names::access;
};

/// Returns the actor registered as `name` with the interface `Handle`, or
/// an invalid handle when none is (yet, or any more).
template <class Handle>
Handle peer(caf::actor_system& sys, caf::atom_value name) {
  return sys.registry().get<Handle>(name);
}

/// Returns the actor with the interface `Handle` under its role's name.
template <class Handle>
Handle peer(caf::actor_system& sys) {
  return peer<Handle>(sys, peer_name<Handle>::value);
}

/// Returns the peer `Handle` of the actor `self`, under its role's name.
template <class Handle, class Self>
Handle peer(Self* self) {
  return peer<Handle>(self->system());
}

/// Returns the actor registered as `name` with the interface `Handle`, for
/// interfaces served under several names (`status_client_actor`).
template <class Handle, class Self>
Handle peer(Self* self, caf::atom_value name) {
  return peer<Handle>(self->system(), name);
}

} // namespace zaki
