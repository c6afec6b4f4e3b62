#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/types.hpp"

namespace zaki {

/// The error part of a Bot API answer (`ok:false`).
struct bot_api_error {
  int error_code = 0;
  std::string description;
  /// parameters.retry_after in seconds (429), or 0.
  int retry_after = 0;
  /// parameters.migrate_to_chat_id, or 0.
  int64_t migrate_to_chat_id = 0;
};

/// Decoded getUpdates answer.
struct decoded_updates {
  /// Whether the body was a well-formed `ok:true` answer.
  bool ok = false;
  /// Why decoding failed (when `ok` is false and `api_error` is empty).
  std::string error;
  bot_api_error api_error;
  /// Messages of every kind (text, media, edits) and button presses, in
  /// update order.
  inbound_batch messages;
  /// Highest update_id seen in the answer (also of skipped updates), or 0.
  int64_t max_update_id = 0;
  /// Updates nobody wrote to the bot (joins, channel posts, member
  /// changes): confirmed, not routed.
  size_t skipped = 0;
  /// Updates with an update_id whose content did not decode.
  size_t malformed = 0;
  /// Updates (also counted in `malformed`) whose update_id cannot confirm
  /// them: missing, not an integer, below 1, or so large that `id + 1`
  /// would overflow the offset. They are never routed: an offset can only
  /// move past them when a usable update follows.
  size_t unusable = 0;
};

/// Returns whether `id` can be confirmed with `offset = id + 1`.
constexpr bool usable_update_id(int64_t id) {
  return id > 0 && id < INT64_MAX;
}

/// Tunables of update decoding.
struct decode_options {
  /// Photos: the largest size within this many bytes is picked.
  int64_t max_image_bytes = 10 << 20;
};

/// Decodes a getUpdates answer. `body` gains simdjson's padding capacity.
decoded_updates decode_updates(std::string& body);

/// Decodes a getUpdates answer with explicit options.
decoded_updates decode_updates(std::string& body, const decode_options& opts);

/// Decodes the error fields of any Bot API answer; returns false when the
/// body is not JSON of the Bot API's shape.
bool decode_api_error(std::string& body, bot_api_error& out);

/// Decodes the `result.message_id` of a sendMessage answer, or 0.
int64_t decode_sent_message_id(std::string& body);

/// Returns the JSON body of a getUpdates call.
std::string encode_get_updates(int64_t offset, uint64_t limit,
                               int64_t timeout_seconds);

/// Returns the JSON body of a sendMessage call.
std::string encode_send_message(int64_t chat_id, std::string_view text,
                                std::string_view parse_mode,
                                std::string_view reply_markup);

/// Returns the JSON body of a sendMessage call that replies to message
/// `reply_to` of the chat (groups); 0 replies to nothing.
std::string encode_send_message(int64_t chat_id, std::string_view text,
                                std::string_view parse_mode,
                                std::string_view reply_markup,
                                int64_t reply_to);

/// Returns the JSON body of a sendChatAction call.
std::string encode_chat_action(int64_t chat_id, std::string_view action);

/// Returns the JSON body of an answerCallbackQuery call.
std::string encode_answer_callback(std::string_view callback_id,
                                   std::string_view text);

/// Returns the JSON body of a deleteMessage call.
std::string encode_delete_message(int64_t chat_id, int64_t message_id);

} // namespace zaki
