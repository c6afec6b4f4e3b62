#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace zaki {

// Declared in messages/errors.hpp; only the mapping below needs it.
enum class errc : uint8_t;

/// Every failure a user (or, for a few, the operator) can meet. The numeric
/// values are not stable; the string ids in the catalogue are.
enum class error_code : uint8_t {
  /// The gateway's session was locked by another run for too long.
  session_lock_timeout,
  /// The user's container is starting and cannot take messages yet.
  container_starting,
  /// The user's container is stopped or unreachable.
  container_down,
  /// The container failed to start repeatedly; the supervisor gave up.
  container_failed,
  /// The gateway did not answer within the router's deadline (or sent 504).
  gateway_timeout,
  /// The gateway refused the router's token: 401 type `unauthorized`.
  gateway_unauthorized,
  /// The gateway answered something unreadable (bad JSON, wrong shape).
  gateway_bad_response,
  /// The gateway reported an internal error (500 and other 5xx).
  gateway_error,
  /// The assistant's own AI provider key was rejected: 401
  /// `authentication_error`.
  provider_auth_failed,
  /// The assistant's AI provider failed or was unreachable (502/408/429).
  provider_failed,
  /// The assistant's AI provider refused for billing (`insufficient_quota`).
  provider_quota,
  /// The router throttles this user (too many messages too fast).
  rate_limited,
  /// No assistant is set up for this Telegram user.
  not_provisioned,
  /// Telegram rejected the bot token (operator-facing: log and /health).
  bot_token_invalid,
  /// Too many messages are already waiting for this user's assistant.
  queue_full,
  /// The configured maximum number of containers is reached.
  capacity_exhausted,
  /// The container backend (e.g. the Docker daemon) does not answer.
  backend_unavailable,
  /// Anything else: a bug or an unexpected state in the router.
  internal,
  /// The data root (session locks, journal) is read-only or not writable.
  storage_unwritable,
  /// The gateway closed the connection in the middle of its answer.
  gateway_interrupted,
  /// The gateway answered 400 or 404: it got the message and refused it.
  gateway_rejected,
  /// The gateway's answer exceeds gateway.max-body.
  gateway_answer_too_large,
  /// A photo or file the user sent could not be fetched from Telegram
  /// (getFile error, 404, timeout).
  media_download_failed,
  /// A file the user sent could not be saved in their data dir (full).
  media_save_failed,
};

/// One catalogue entry: everything needed to explain a failure to a person.
/// All texts are plain (no HTML, no Markdown) and never mention internals.
struct error_entry {
  error_code code;
  /// Stable id of the form `ZR-AREA-WHAT`, shown to users and grepped by
  /// support; never change a published id.
  std::string_view id;
  /// One emoji put in front of the title.
  std::string_view emoji;
  /// Short headline, e.g. "Your assistant is taking too long".
  std::string_view title;
  /// What happened, in one or two plain sentences.
  std::string_view explanation;
  /// What the reader can do about it.
  std::string_view user_action;
  /// Whether a Retry button (re-send the original message) makes sense.
  bool retry_button;
  /// Whether a Help link button is shown (when a help URL is configured).
  bool help_button;
  /// Whether a Dismiss button (delete the error message) is shown.
  bool dismiss_button;
  /// Whether only the operator sees it (log, /health); never sent to a chat.
  bool operator_only;
  /// HTTP status for the admin API and JSON renderings.
  int http_status;
};

/// Returns the catalogue entry for `code`; valid for the program's lifetime.
const error_entry& describe(error_code code);

/// Returns the stable id of `code`, e.g. "ZR-GATEWAY-TIMEOUT".
std::string_view to_string(error_code code);

/// Returns the code whose id equals `id` (exact, case-sensitive match).
std::optional<error_code> error_code_from_id(std::string_view id);

/// Returns every catalogue entry, in enum order.
const std::vector<error_entry>& all_errors();

/// Returns the catalogue code for an error code that crossed an actor
/// boundary (messages/errors.hpp); `errc::none` maps to `internal`.
error_code error_code_of(errc code);

/// Maps a failed gateway answer to a catalogue code. `http_status` is the
/// HTTP status and `error_type` the `error.type` of the body
/// (`{"error":{"message":...,"type":...}}`), empty when absent. An SSE
/// error event that arrives after a 200 is classified by passing 200 and
/// its type. Rules: 401 `authentication_error` is the provider's key, any
/// other 401/403 is the router's token; `insufficient_quota` is billing;
/// 408/429/502 and `api_error`/`rate_limit_error` are the provider failing;
/// 504 is a timeout; other 5xx are gateway errors; other 4xx are router bugs
/// (internal); a 2xx without an error type is a bad response.
error_code classify_gateway_error(int http_status, std::string_view error_type);

} // namespace zaki
