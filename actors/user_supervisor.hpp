#pragma once

#include <chrono>
#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "messages/interfaces.hpp"
#include "runtime/context.hpp"
#include "storage/inbox_journal.hpp"

namespace zaki {

/// What the supervisor keeps per user: the actor (if running) and every
/// message handed to it that it has not reported done. A crash replays
/// these, so no message is lost with the actor.
struct user_entry {
  user_actor handle;
  std::vector<inbound_message> unacked;
  /// Times of recent abnormal exits (restart intensity).
  std::vector<std::chrono::steady_clock::time_point> crashes;
  uint32_t restarts = 0;
  bool restarting = false;
};

/// State of the USER_SUPERVISOR actor (OTP simple_one_for_one).
struct user_supervisor_state {
  static inline const char* name = "user_supervisor";
  context_ptr ctx;
  std::unordered_map<int64_t, user_entry> users;
  std::unordered_map<caf::actor_addr, int64_t> by_addr;
  /// Recently routed update ids: Telegram may deliver an update twice.
  std::unordered_set<int64_t> seen;
  std::deque<int64_t> seen_order;
  size_t unacked_total = 0;
  uint64_t routed = 0;
  uint64_t duplicates = 0;
  uint64_t restarts = 0;
  uint64_t given_up = 0;
  uint64_t spawned = 0;
  /// The inbox journal and the thread that writes it (none if disabled).
  std::shared_ptr<inbox_journal> journal;
  std::unique_ptr<journal_worker> journal_io;
  /// Confirmations of batches waiting for their journal write, by
  /// sequence number (the batches themselves are routed already).
  std::unordered_map<uint64_t, caf::typed_response_promise<ok_atom>> writing;
  uint64_t next_batch = 1;
  /// Finished update ids not yet handed to the journal thread: they go
  /// with the next batch's append, or after done_flush_delay when no batch
  /// comes (one wake-up of the journal thread and one write for many).
  std::vector<int64_t> done_marks;
  bool done_flush_queued = false;
  bool draining = false;
  caf::typed_response_promise<int64_t> drain_promise;

  ~user_supervisor_state();
};

/// Spawns the supervisor of all user actors.
user_supervisor_actor::behavior_type
user_supervisor(user_supervisor_actor::stateful_pointer<user_supervisor_state>
                  self,
                context_ptr ctx);

} // namespace zaki
