#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "chat/error_catalogue.hpp"
#include "gateway/codec.hpp"
#include "messages/types.hpp"

// Which failed gateway exchanges deserve another attempt. Every attempt is
// a full new run of the user's agent, so only what another attempt can fix
// is retried: not an answer that was too large (it would be fetched again
// just as large), not a billing refusal, not a hang (the first run may
// still be working), not a connection that broke mid-answer (the gateway
// got the message). A Retry-After hint is honoured when it fits the
// deadline. Pure functions, tested without actors.

namespace zaki {

/// What the policy needs to know about one failed attempt.
struct retry_input {
  /// HTTP status, or 0 for a transport failure.
  int status = 0;
  http_failure failure = http_failure::none;
  /// Seconds of a Retry-After header, or 0.
  int retry_after = 0;
  /// How `classify_gateway_result` judged the answer.
  gateway_outcome outcome = gateway_outcome::retryable;
  /// `error.type` of an error body, when present.
  std::string_view error_type;
  /// Attempts made so far (1 after the first) and allowed in total.
  uint64_t attempt = 1;
  uint64_t max_attempts = 3;
  /// Delay before the second attempt; doubles with every further one.
  std::chrono::milliseconds backoff_initial{1000};
  /// The longest wait the request deadline allows before the next attempt.
  std::chrono::milliseconds wait_budget{120000};
};

/// Why an attempt is or is not retried; `to_string` names it for logs.
enum class retry_reason : uint8_t {
  /// Retried after the exponential backoff.
  backoff,
  /// Retried after the gateway's Retry-After.
  retry_after,
  /// Not retried: the outcome is not transient (4xx, bad answer, ...).
  not_transient,
  /// Not retried: every attempt is used.
  attempts_exhausted,
  /// Not retried: the answer exceeds gateway.max-body.
  too_large,
  /// Not retried: 429 `insufficient_quota`, a billing refusal.
  quota,
  /// Not retried: no byte within the deadline, a hang.
  hang,
  /// Not retried: the connection broke after part of the answer.
  interrupted,
  /// Not retried: Retry-After asks for longer than the deadline allows.
  retry_after_too_long,
};

/// Returns a short name of `x` for log lines.
const char* to_string(retry_reason x);

/// The verdict on one failed attempt.
struct retry_decision {
  bool retry = false;
  /// The wait before the next attempt (when `retry`).
  std::chrono::milliseconds delay{0};
  /// Whether jitter may be added to `delay` (not below a Retry-After).
  bool jitter = false;
  retry_reason reason = retry_reason::not_transient;
};

/// Decides whether and when a failed attempt is retried.
retry_decision decide_retry(const retry_input& in);

/// Returns the catalogue code that tells the user accurately what failed.
error_code gateway_error_code(const retry_input& in);

} // namespace zaki
