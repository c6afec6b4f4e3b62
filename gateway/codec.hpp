#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "messages/types.hpp"

namespace zaki {

/// What the router makes of one gateway exchange.
enum class gateway_outcome {
  /// 2xx with an answer text.
  answered,
  /// Worth another attempt: connection errors, timeouts, 5xx, 408, 429.
  retryable,
  /// 401 `unauthorized`: the gateway refused the router's token.
  unauthorized,
  /// 401 `authentication_error`: the assistant's AI provider key failed.
  provider_auth,
  /// 500 "session file locked": OpenClaw's session lock timed out.
  session_locked,
  /// 400 and other answers that another attempt cannot fix.
  rejected,
  /// 2xx whose body is not a chat completion.
  bad_response,
};

/// The classified result of a gateway exchange.
struct gateway_answer {
  gateway_outcome outcome = gateway_outcome::bad_response;
  /// choices[0].message.content when answered.
  std::string content;
  /// error.type and error.message of an error body, when present.
  std::string error_type;
  std::string error_message;
  /// usage.prompt_tokens and usage.completion_tokens of the answer (-1:
  /// not reported), for usage records.
  /// usage.prompt_tokens and usage.completion_tokens when the gateway
  /// reported them (-1 otherwise).
  int64_t prompt_tokens = -1;
  int64_t completion_tokens = -1;
};

/// Returns the body of POST /v1/chat/completions: only the newest message,
/// `user` set to the Telegram user id so the gateway keeps the session.
std::string encode_chat_request(std::string_view model, int64_t user_id,
                                std::string_view text);

/// Returns the body of a streamed request: as `encode_chat_request`, plus
/// `"stream":true` and `"stream_options":{"include_usage":true}`.
std::string encode_stream_request(std::string_view model, int64_t user_id,
                                  std::string_view text);

/// Returns a request whose user message is OpenAI content parts: a text
/// part (when `text` is not empty) and an `image_url` part with
/// `image_url` (a data: URL); streamed as `encode_stream_request` when
/// `stream` is set.
std::string encode_image_request(std::string_view model, int64_t user_id,
                                 std::string_view text,
                                 std::string_view image_url, bool stream);

/// Classifies an HTTP result of the gateway and extracts the answer.
gateway_answer classify_gateway_result(http_result& res);

} // namespace zaki
