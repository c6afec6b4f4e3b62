#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zaki {

/// Telegram's limit for `callback_data`, in bytes.
constexpr size_t max_callback_data_size = 64;

/// What an inline button of ours asks for.
enum class callback_kind : uint8_t {
  /// Re-send the original message of a request ("z1:r:<request id>").
  retry,
  /// Delete the error message of a request ("z1:d:<request id>").
  dismiss,
  /// Confirm a /restart ("z1:rs:<nonce>").
  restart_confirm,
  /// Cancel a /restart ("z1:rc:<nonce>").
  restart_cancel,
  /// Stop the streamed answer of a request ("z1:s:<request id>").
  stop,
  /// An admin approves a pending user ("z1:a:<nonce>"); the nonce names
  /// the request in the access actor, so a forged one matches nothing.
  approve,
  /// An admin rejects a pending user ("z1:x:<nonce>").
  reject,
  /// An admin turns a page of /users or /containers ("z1:p:<nonce>"); the
  /// nonce names the page in the admin's user actor.
  page,
};

/// A decoded button press. `id` is a request id for retry/dismiss and a
/// nonce for the restart buttons; both have the request id format (12
/// characters of [0-9a-z]), so a nonce is best made with new_request_id().
struct callback_action {
  callback_kind kind;
  std::string id;
};

/// Returns whether two actions are equal.
bool operator==(const callback_action& x, const callback_action& y);

/// Returns the callback data for a button, e.g. "z1:r:3kq0v7x2m9ab", or an
/// empty string when `id` is not a valid request id (never send that:
/// Telegram rejects empty callback data).
std::string encode_callback(callback_kind kind, std::string_view id);

/// Returns the callback data for `action`; see the overload above.
std::string encode_callback(const callback_action& action);

/// Parses callback data. Data from other bots, from older formats (anything
/// not starting with "z1:"), oversized, with unknown actions or malformed ids
/// gives nullopt; never throws. A decoded action is only well-formed, not
/// trusted: check that the pressing user owns the id and that it is not
/// stale, and answer every press with answerCallbackQuery.
std::optional<callback_action> decode_callback(std::string_view data);

/// Outcomes of a button press, each with a short toast for
/// answerCallbackQuery (at most 200 characters).
enum class callback_reply : uint8_t {
  /// Retry accepted: the original message goes to the assistant again.
  retrying,
  /// Retry pressed again for a message that was already re-sent.
  retry_already_sent,
  /// The original message is no longer kept (window expired, user removed).
  retry_expired,
  /// The error message was deleted.
  dismissed,
  /// The restart was started.
  restart_started,
  /// The restart was cancelled.
  restart_cancelled,
  /// The restart confirmation is stale (another one came later or expired).
  restart_expired,
  /// Forged, foreign, old or someone else's button.
  unknown_button,
  /// Stop accepted: the answer so far stays.
  stopped,
  /// Stop pressed on an answer that is complete already.
  stop_too_late,
};

/// Returns the toast text for `reply`: plain text, at most 200 characters.
std::string_view toast_text(callback_reply reply);

} // namespace zaki
