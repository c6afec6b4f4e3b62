#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>

#include "messages/interfaces.hpp"
#include "runtime/context.hpp"
#include "storage/user_registry.hpp"
#include "supervision/restart_governor.hpp"

namespace zaki {

using root_self = root_actor::stateful_pointer<struct root_state>;

/// How the root starts one of its children (OTP child spec, `permanent`).
struct child_spec {
  /// Name in the tree and in CAF's registry.
  std::string name;
  caf::atom_value key;
  /// Spawns the child linked to the root and returns its handle.
  std::function<caf::actor(root_self)> start;
};

/// State of the ROOT supervisor (one_for_one over the long-lived actors).
struct root_state {
  static inline const char* name = "root";
  context_ptr ctx;
  std::vector<child_spec> specs;
  std::vector<caf::actor> running;
  std::vector<uint32_t> restarts;
  std::unordered_map<caf::actor_addr, size_t> by_addr;
  /// Restart intensity over all children together (OTP one_for_one).
  restart_governor governor;
  bool shutting_down = false;
};

/// Spawns the children in order, registers them by name, restarts a child
/// that fails (at most `root.max-restarts` times in `root.restart-window`,
/// `root.restart-delay` apart, else the root fails), and runs the
/// orderly shutdown: stop polling, drain, confirm the offset, stop children.
root_actor::behavior_type root(root_self self, context_ptr ctx,
                               std::vector<child_spec> specs);

/// Returns the standard children: store, telegram, access, user_supervisor,
/// poller.
/// `initial` is the registry loaded by main.
std::vector<child_spec> core_children(const context_ptr& ctx,
                                      user_registry initial);

} // namespace zaki
