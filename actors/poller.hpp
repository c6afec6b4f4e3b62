#pragma once

#include <memory>

#include <caf/typed_response_promise.hpp>

#include "messages/interfaces.hpp"
#include "supervision/backoff.hpp"
#include "runtime/context.hpp"
#include "http/client.hpp"

namespace zaki {

/// State of the POLLER actor.
struct poller_state {
  static inline const char* name = "poller";
  context_ptr ctx;
  std::shared_ptr<http_client> client;
  /// Highest update_id handed over + 1; sent with the next getUpdates.
  int64_t offset = 0;
  /// Sequence number of the call in flight (stale answers are ignored).
  uint64_t seq = 0;
  /// deleteWebhook, poll, handover, backoff, stopped, fatal.
  std::string phase = "starting";
  std::unique_ptr<backoff> delay;
  bool webhook_deleted = false;
  bool stopping = false;
  uint64_t polls = 0;
  uint64_t updates = 0;
  uint64_t skipped = 0;
  uint64_t malformed = 0;
  uint64_t failures = 0;
  /// Updates whose update_id cannot be confirmed (counted once per offset).
  uint64_t unusable = 0;
  /// The offset at which unusable updates were last logged, or -1: they
  /// come back with every poll until a usable update follows.
  int64_t unusable_logged_at = -1;
  std::string last_error;
  /// True while the last poll succeeded (readiness).
  bool healthy = false;
  /// True once any Bot API call succeeded: a 404 is then a failure of the
  /// moment (a proxy, a Bot API server in maintenance), not a wrong token.
  bool worked = false;
  caf::typed_response_promise<bool> confirm_promise;

  ~poller_state();
};

/// Spawns the getUpdates long-poll loop; it starts with deleteWebhook.
poller_actor::behavior_type
poller(poller_actor::stateful_pointer<poller_state> self, context_ptr ctx);

} // namespace zaki
