#pragma once

#include <chrono>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "messages/interfaces.hpp"
#include "runtime/context.hpp"
#include "storage/inbox.hpp"
#include "supervision/restart_governor.hpp"

namespace zaki {

/// What the supervisor keeps per user: the actor (if running) and every
/// message handed to it that it has not reported done. A crash replays
/// these, so no message is lost with the actor.
struct user_entry {
  user_actor handle;
  std::vector<inbound_message> unacked;
  /// Update ids of `unacked` messages held for an access decision: not
  /// counted in `unacked_total` (a shutdown does not wait for them), still
  /// in the journal and replayed.
  std::unordered_set<int64_t> held;
  /// Restart intensity and backoff of this user's actor.
  restart_governor governor;
  uint32_t restarts = 0;
  bool restarting = false;
};

/// State of the USER_SUPERVISOR actor (OTP simple_one_for_one).
struct user_supervisor_state {
  static inline const char* name = "user_supervisor";
  context_ptr ctx;
  std::unordered_map<int64_t, user_entry> users;
  std::unordered_map<caf::actor_addr, int64_t> by_addr;
  /// Restart policy of every user actor (`supervisor.*` settings).
  restart_policy policy;
  /// Recently routed update ids: Telegram may deliver an update twice.
  seen_window seen;
  size_t unacked_total = 0;
  uint64_t routed = 0;
  uint64_t duplicates = 0;
  uint64_t restarts = 0;
  uint64_t given_up = 0;
  uint64_t spawned = 0;
  /// Group messages taken care of without a user actor.
  uint64_t settled = 0;
  /// Groups told that the bot works in private chats (chat.groups=ignore),
  /// and groups told that they read the answers (chat.groups=mention).
  std::unordered_set<int64_t> told_groups;
  std::unordered_set<int64_t> told_public;
  static constexpr size_t max_told_groups = 100000;
  /// Journals accepted batches before the poller confirms them.
  zaki::inbox inbox;
  /// Confirmations of batches waiting for their journal write, by
  /// sequence number (the batches themselves are routed already).
  std::unordered_map<uint64_t, caf::typed_response_promise<ok_atom>> writing;
  uint64_t next_batch = 1;
  bool draining = false;
  caf::typed_response_promise<int64_t> drain_promise;
};

/// Spawns the supervisor of all user actors.
user_supervisor_actor::behavior_type user_supervisor(
  user_supervisor_actor::stateful_pointer<user_supervisor_state> self,
  context_ptr ctx);

} // namespace zaki
