#pragma once

#include "messages/interfaces.hpp"
#include "runtime/context.hpp"
#include "storage/user_registry.hpp"

namespace zaki {

/// State of the STORE actor: the in-memory copy of users.json.
struct store_state {
  static inline const char* name = "store";
  context_ptr ctx;
  user_registry users;
  uint64_t reloads = 0;
  uint64_t writes = 0;
  std::string last_error;
};

/// Spawns the store with an already loaded registry (main refuses to start
/// when users.json does not parse, so the actor never starts without one).
store_actor::behavior_type store(store_actor::stateful_pointer<store_state> self,
                                 context_ptr ctx, user_registry initial);

} // namespace zaki
