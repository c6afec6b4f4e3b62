#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "actors/root.hpp"
#include "containers/container_phase.hpp"
#include "containers/port_allocator.hpp"
#include "containers/provisioning_queue.hpp"
#include "messages/backend.hpp"
#include "messages/interfaces.hpp"
#include "runtime/context.hpp"

namespace zaki {

/// What the provisioner knows about one user's container.
struct provisioned {
  user_record record;
  /// The record is in users.json (written after the first healthy start).
  bool persisted = false;
  container_phase state = container_phase::none;
  /// Requests held until the container is ready (bounded).
  std::vector<caf::typed_response_promise<user_record>> waiters;
  std::chrono::steady_clock::time_point last_ensure;
  std::chrono::steady_clock::time_point failed_at;
  /// The backend's last report (quota applied / not applied).
  container_info info;
  std::string last_error;
  uint32_t starts = 0;
  /// The idle check removed the container (remove-after); the next start
  /// creates it again.
  bool container_removed = false;
};

/// State of the PROVISIONER actor.
struct provisioner_state {
  static inline const char* name = "provisioner";
  context_ptr ctx;
  /// Null with the static backend.
  backend_actor backend;
  std::unordered_map<int64_t, provisioned> users;
  /// Ports recorded for users, and new ones.
  port_allocator ports{0, 0};
  /// Starts in flight, and users waiting for a slot.
  provisioning_queue launches{1};
  uint64_t provisioned_total = 0;
  uint64_t capacity_refusals = 0;
  /// Idle containers stopped or paused (idle_pauses of them paused).
  uint64_t idle_stops = 0;
  uint64_t idle_pauses = 0;
  /// Containers removed after `containers.remove-after` days.
  uint64_t idle_removals = 0;
};

/// Spawns the provisioner. `known` seeds it with users.json (ports in use,
/// tokens of existing users); with a process or docker backend it spawns
/// the backend linked to itself and adopts containers found running.
provisioner_impl_actor::behavior_type
provisioner(provisioner_impl_actor::stateful_pointer<provisioner_state> self,
            context_ptr ctx, std::vector<user_record> known);

/// Returns the root's child specs of the container work: the health
/// supervisor, then the provisioner (reading users.json for seeding).
std::vector<child_spec> container_children(const context_ptr& ctx);

} // namespace zaki
