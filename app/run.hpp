#pragma once

#include <functional>
#include <vector>

#include "actors/root.hpp"
#include "runtime/config.hpp"
#include "runtime/context.hpp"

namespace zaki {

/// Called once the tree runs, with the actor system (demo: start users).
using started_hook = std::function<void(caf::actor_system&, root_actor)>;

/// Runs the router until SIGINT/SIGTERM (or a fatal error): starts the actor
/// tree under a root with `children` (see `router_children`), reloads
/// users.json on SIGHUP, shuts down in order, and returns the process exit
/// code.
int run_service(config& cfg, const context_ptr& ctx,
                std::vector<child_spec> children,
                started_hook on_started = nullptr);

/// Returns a fresh random instance id for lock files and logs.
std::string make_instance_id();

} // namespace zaki
