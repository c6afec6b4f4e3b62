#pragma once

#include <vector>

#include "actors/root.hpp"
#include "runtime/context.hpp"
#include "storage/user_registry.hpp"

namespace zaki {

/// Returns the root's children of the router, in start order: store,
/// telegram, user_supervisor, poller (the message path), then admin (so
/// that later actors can register readiness checks with it), then
/// health_supervisor and provisioner (the containers). `users` is the
/// registry main loaded. The one place where the tree is put together.
std::vector<child_spec> router_children(const context_ptr& ctx,
                                        user_registry users);

} // namespace zaki
