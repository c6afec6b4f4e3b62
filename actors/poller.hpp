#pragma once

#include <memory>

#include <caf/typed_response_promise.hpp>

#include "http/client.hpp"
#include "messages/interfaces.hpp"
#include "runtime/context.hpp"
#include "supervision/backoff.hpp"

namespace zaki {

/// Where the poll loop is (the admin tree shows `to_string`).
enum class poller_phase : uint8_t {
  starting,
  /// deleteWebhook in flight (a webhook and getUpdates exclude each other).
  delete_webhook,
  /// getUpdates in flight.
  polling,
  /// The user supervisor is recording a batch.
  handover,
  /// Waiting after a failure.
  backoff,
  /// The bot token is invalid: nothing polls until it is fixed.
  fatal,
  /// Stopped for the shutdown.
  stopped,
};

/// Returns the phase's name, e.g. "deleteWebhook".
inline const char* to_string(poller_phase x) {
  switch (x) {
    case poller_phase::starting: return "starting";
    case poller_phase::delete_webhook: return "deleteWebhook";
    case poller_phase::polling: return "polling";
    case poller_phase::handover: return "handover";
    case poller_phase::backoff: return "backoff";
    case poller_phase::fatal: return "fatal";
    case poller_phase::stopped: return "stopped";
  }
  return "unknown";
}

/// State of the POLLER actor.
struct poller_state {
  static inline const char* name = "poller";
  context_ptr ctx;
  std::shared_ptr<http_client> client;
  /// Highest update_id handed over + 1; sent with the next getUpdates.
  int64_t offset = 0;
  /// Sequence number of the call in flight (stale answers are ignored).
  uint64_t seq = 0;
  poller_phase phase = poller_phase::starting;
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
