#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include <caf/actor_clock.hpp>

#include "access/budget.hpp"
#include "access/rate_limit.hpp"
#include "chat/user_session.hpp"
#include "gateway/stream_reader.hpp"
#include "http/client.hpp"
#include "locks/session_lock.hpp"
#include "messages/interfaces.hpp"
#include "runtime/context.hpp"

namespace zaki {

struct operator_pages;

/// State of a USER actor: the queue of one user's messages, the message in
/// flight, and the resources that belong to this user (gateway connection,
/// session lock). They are released when CAF destroys the state, also after
/// a crash.
struct user_state {
  static inline const char* name = "user";
  context_ptr ctx;
  int64_t user_id = 0;
  /// Queued messages (a vector: an empty std::deque allocates ~600 bytes,
  /// and there is one per active user).
  std::vector<inbound_message> queue;
  std::optional<inbound_message> current;
  /// Gateway attempts of the current message so far.
  uint32_t attempt = 0;
  /// Sequence number of the gateway call in flight (stale ones are ignored).
  uint64_t seq = 0;
  user_record record;
  /// One keep-alive connection to the user's gateway, reused across messages.
  std::shared_ptr<http_client> gateway;
  std::chrono::steady_clock::time_point last_activity
    = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point call_started;
  uint64_t handled = 0;
  uint64_t failed = 0;
  int64_t last_latency_us = 0;
  /// The user's session lock: held while a gateway exchange is in flight,
  /// released with the state on every exit path (also a crash).
  session_lock lock;
  /// Lock attempts for the current message and when waiting started.
  uint32_t lock_attempts = 0;
  std::chrono::steady_clock::time_point lock_wait_started;
  /// Whether the gateway's own "session file locked" was swept already.
  bool swept_gateway_locks = false;
  /// Last container state reported by the health supervisor.
  std::string container_state = "unknown";
  /// When this actor started (/status shows its uptime).
  std::chrono::steady_clock::time_point started_at
    = std::chrono::steady_clock::now();
  /// Set for /start: `current` only provisions (ensure or lookup), it is
  /// not sent to the gateway.
  bool provision_only = false;
  /// A Retry press whose callback is answered once the user is looked up
  /// (a removed user gets a toast, not an error); answered by `finish` at
  /// the latest, so no press stays unanswered.
  std::string pending_callback;
  /// The request id whose original `current` re-sends (Retry), for logs.
  std::string retry_of;
  /// The phase of `current` and the deadlines of the session, served by
  /// one timer (`(internal, typing, due)`) armed for the earliest: a tick
  /// is armed only when none fires by the deadline needed, so a user's
  /// messages cost no timer each. Times are taken from the actor clock
  /// (the test coordinator's clock in tests).
  user_session session;
  using tick_time = user_session::time_point;
  /// Until when `record` serves new messages without a lookup
  /// (`user.record-ttl`); empty: the next message looks the user up.
  std::optional<tick_time> record_fresh_until;
  /// Nonce of the open /restart confirmation and until when it is valid.
  std::string restart_nonce;
  std::chrono::steady_clock::time_point restart_nonce_expires;
  /// The streamed answer of the gateway call in flight (empty when the
  /// call is not streamed); fed on the I/O thread, read here only after
  /// the call's completion arrived (actors/user_stream.hpp).
  std::shared_ptr<gateway_stream> stream;
  /// Characters (bytes) of the streamed answer received so far.
  uint64_t stream_chars = 0;
  /// Whether text of the current answer went to the telegram actor.
  bool stream_forwarded = false;
  /// Whether a poll for the stream's pending text is scheduled.
  bool stream_poll_armed = false;
  /// Token usage of the last answer (-1: not reported), for usage records.
  int64_t last_prompt_tokens = -1;
  int64_t last_completion_tokens = -1;
  /// Media (actors/user_media.hpp): notices already given in this
  /// conversation ("kind:sticker", "group:<chat>", ...).
  std::set<std::string> told;
  /// The photo of `current` as a data: URL, sent as an image part.
  std::string image_url;
  /// Whether the file of `current` was fetched (or is not needed).
  bool media_ready = false;

  /// Access (issue 23): whether this actor's user passed the access check
  /// (asked once per actor life), and whether their messages are held
  /// until an admin decides.
  bool admitted = false;
  bool held = false;
  bool held_overflow_told = false;

  /// Limits (issue 23; actors/user_limits.hpp): the message rate bucket
  /// and the daily token budget of this user.
  rate_limit rate;
  daily_budget budget;
  /// Whether the front of the queue waited for a token (counted once).
  bool front_waited = false;
  /// Whether this user is an admin (exempt from the budget).
  bool is_admin = false;
  /// Messages held by the rate limit, and refused over the budget.
  uint64_t rate_held = 0;
  uint64_t budget_refused = 0;
  /// The page buttons of an admin's /users and /containers listings
  /// (actors/operator_commands.hpp); null until the first listing.
  std::shared_ptr<operator_pages> pages;

  ~user_state();
};

/// Spawns the actor of one user; it stops itself after `user.idle-timeout`
/// without messages and is spawned again by the next one.
user_actor::behavior_type user(user_actor::stateful_pointer<user_state> self,
                               context_ptr ctx, int64_t user_id);

} // namespace zaki
