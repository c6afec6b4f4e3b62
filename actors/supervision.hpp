#pragma once

#include <unordered_map>

#include <caf/actor_addr.hpp>
#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>

#include "runtime/settings.hpp"
#include "supervision/restart_governor.hpp"

namespace zaki {

/// The restart policies of the three supervisors, from the settings: one
/// governor, three sets of numbers.
restart_policy root_restart_policy(const settings& s);
restart_policy user_restart_policy(const settings& s);
restart_policy health_restart_policy(const settings& s);

/// Returns whether a child ended in order (no restart, no crash report).
inline bool orderly_exit(const caf::error& reason) {
  return reason == caf::exit_reason::normal
    || reason == caf::exit_reason::user_shutdown;
}

/// Installs the exit handler the supervisors share. The exit of a child
/// (a key of `self->state.*children`) leaves that map and goes to
/// `on_child(key, reason)`; any other exit comes from the parent or an
/// operator and stops the supervisor with the same reason, which takes its
/// linked children with it.
template <class State, class Base, class Key, class OnChild>
void trap_child_exits(caf::stateful_actor<State, Base>* self,
                      std::unordered_map<caf::actor_addr, Key> State::*children,
                      OnChild on_child) {
  self->set_exit_handler([self, children, on_child](caf::exit_msg& msg) {
    auto& by_addr = self->state.*children;
    auto i = by_addr.find(msg.source);
    if (i == by_addr.end()) {
      self->quit(msg.reason);
      return;
    }
    auto key = i->second;
    by_addr.erase(i);
    on_child(key, msg.reason);
  });
}

} // namespace zaki
