#include "chat/error_catalogue.hpp"

#include "messages/errors.hpp"

namespace zaki {

namespace {

// The wording addresses the user directly, says what happened without
// internals (no hosts, ports, stack traces) and ends with something the user
// can actually do. Codes that a retry cannot fix carry no Retry button, so
// nobody is invited to press a button that is bound to fail again.
std::vector<error_entry> make_catalogue() {
  using ec = error_code;
  return {
    {ec::session_lock_timeout, "ZR-SESSION-LOCK-TIMEOUT", "\xE2\x8F\xB3",
     "Your assistant is still busy",
     "It is still working on an earlier message and could not take this one "
     "in time.",
     "Wait a minute, then press Retry. If this keeps happening, send "
     "/restart.",
     true, true, true, false, 409},
    {ec::container_starting, "ZR-CONTAINER-STARTING", "\xF0\x9F\x9A\x80",
     "Your assistant is starting up",
     "It was not running and is starting now. This usually takes less than a "
     "minute.",
     "Press Retry in a moment to send your message again.", true, true, true,
     false, 503},
    {ec::container_down, "ZR-CONTAINER-DOWN", "\xF0\x9F\x92\xA4",
     "Your assistant is not running",
     "It has stopped, so your message could not be delivered.",
     "Press Retry in a minute. If it still fails, send /restart.", true, true,
     true, false, 503},
    {ec::container_failed, "ZR-CONTAINER-FAILED", "\xE2\x9D\x8C",
     "Your assistant could not start",
     "It failed to start several times in a row, so I paused it.",
     "Press Retry or send /restart to try again. If it keeps failing, "
     "contact support and give them the error code below.",
     true, true, true, false, 503},
    {ec::gateway_timeout, "ZR-GATEWAY-TIMEOUT", "\xE2\x8C\x9B",
     "Your assistant is taking too long",
     "It did not answer in time, so I stopped waiting. It may be stuck on a "
     "long task, or its AI service may be slow.",
     "Press Retry to send your message again. For big tasks, try smaller "
     "steps.",
     true, true, true, false, 504},
    {ec::gateway_unauthorized, "ZR-GATEWAY-UNAUTHORIZED", "\xF0\x9F\x94\x92",
     "I can't connect to your assistant",
     "Your assistant refused my connection because its access key does not "
     "match. This is a setup problem on our side, not something you did.",
     "Please contact support and give them the error code below. Retrying "
     "will not help until it is fixed.",
     false, true, true, false, 502},
    {ec::gateway_bad_response, "ZR-GATEWAY-BAD-RESPONSE", "\xF0\x9F\xA7\xA9",
     "I couldn't read your assistant's answer",
     "Its answer arrived damaged or in an unexpected form, so I can't show "
     "it.",
     "Press Retry to ask again. If it keeps happening, send /restart.", true,
     true, true, false, 502},
    {ec::gateway_error, "ZR-GATEWAY-ERROR", "\xE2\x9A\xA0\xEF\xB8\x8F",
     "Your assistant ran into a problem",
     "It reported an internal error while handling your message.",
     "Press Retry. If it happens again, send /restart.", true, true, true,
     false, 502},
    {ec::provider_auth_failed, "ZR-PROVIDER-AUTH", "\xF0\x9F\x94\x91",
     "Your assistant's AI service rejected its key",
     "Your assistant is running, but the AI service it uses did not accept "
     "its API key. The key may be wrong, expired or revoked.",
     "If you set up the key yourself, check it with your AI provider and "
     "update it. Otherwise, contact support with the error code below.",
     false, true, true, false, 502},
    {ec::provider_failed, "ZR-PROVIDER-FAILED", "\xF0\x9F\x8C\xA9\xEF\xB8\x8F",
     "Your assistant's AI service is having trouble",
     "Your assistant tried several times, but its AI service failed or did "
     "not respond. This is usually temporary.",
     "Wait a few minutes, then press Retry.", true, true, true, false, 502},
    {ec::provider_quota, "ZR-PROVIDER-QUOTA", "\xF0\x9F\x92\xB3",
     "Your assistant's AI service account is out of credit",
     "The AI service refused the request because the account reached its "
     "quota or billing limit.",
     "If you manage that account, check its billing and limits. Otherwise, "
     "contact support with the error code below.",
     false, true, true, false, 502},
    {ec::rate_limited, "ZR-CHAT-RATE-LIMITED", "\xF0\x9F\x9A\xA6",
     "You're sending messages very fast",
     "To keep things fair for everyone, I paused your messages for a moment.",
     "Wait a little, then press Retry.", true, true, true, false, 429},
    {ec::not_provisioned, "ZR-ACCOUNT-NOT-PROVISIONED", "\xF0\x9F\x91\x8B",
     "You don't have an assistant yet",
     "There is no assistant set up for your account on this bot.",
     "Send /start to set one up. If that does not work, ask the bot's "
     "administrator for access.",
     false, true, true, false, 403},
    {ec::bot_token_invalid, "ZR-BOT-TOKEN-INVALID", "\xF0\x9F\x9B\x91",
     "Telegram rejected the bot token",
     "Telegram answered 401 Unauthorized: the configured bot token is wrong "
     "or was revoked, so the router stopped polling.",
     "Get a valid token from @BotFather, put it where the configuration "
     "expects it (file or environment variable) and restart the router.",
     false, false, false, true, 503},
    {ec::queue_full, "ZR-QUEUE-FULL", "\xF0\x9F\x93\xAC",
     "Too many messages are waiting",
     "Your assistant still has several messages to answer, and I can't queue "
     "more right now.",
     "Wait for the answers to arrive, then press Retry to send this one.", true,
     true, true, false, 503},
    {ec::capacity_exhausted, "ZR-CAPACITY-EXHAUSTED", "\xF0\x9F\x9A\xA7",
     "All assistant places are taken",
     "Too many assistants are running right now, so yours cannot start.",
     "Press Retry in a few minutes.", true, true, true, false, 503},
    {ec::backend_unavailable, "ZR-BACKEND-UNAVAILABLE",
     "\xF0\x9F\x8F\x97\xEF\xB8\x8F", "Assistants can't be started right now",
     "The service that runs assistants is not responding.",
     "Press Retry in a few minutes. If it lasts, contact support with the "
     "error code below.",
     true, true, true, false, 503},
    {ec::internal, "ZR-ROUTER-INTERNAL", "\xE2\x9A\xA0\xEF\xB8\x8F",
     "Something went wrong on our side",
     "An unexpected problem stopped your message from reaching your "
     "assistant.",
     "Press Retry. If it happens again, contact support and give them the "
     "error code below.",
     true, true, true, false, 500},
    {ec::storage_unwritable, "ZR-STORAGE-READ-ONLY", "\xF0\x9F\x92\xBE",
     "I can't store anything right now",
     "The service's storage is read-only or full, so I can't pass your "
     "message on safely. Your assistant did not receive it. This is a "
     "problem on our side, not something you did.",
     "Please tell the bot's administrator (the code below helps them). "
     "Press Retry once they have fixed it.",
     true, true, true, false, 503},
    {ec::gateway_interrupted, "ZR-GATEWAY-INTERRUPTED",
     "\xE2\x9C\x82\xEF\xB8\x8F", "Your assistant's answer was cut off",
     "Your assistant received your message, but the connection broke while "
     "its answer was on the way, so I could not show it.",
     "Ask it to repeat its last answer, or press Retry to send your message "
     "again (it may then work on it twice).",
     true, true, true, false, 502},
    {ec::gateway_rejected, "ZR-GATEWAY-REJECTED", "\xF0\x9F\x9A\xAB",
     "Your assistant refused this message",
     "Your assistant received your message but answered that it cannot "
     "handle this request. Sending the same message again will not help.",
     "Rephrase or shorten your message and send it again. If every message "
     "gets this answer, send /restart or contact support with the code "
     "below.",
     false, true, true, false, 502},
    {ec::gateway_answer_too_large, "ZR-GATEWAY-ANSWER-TOO-LARGE",
     "\xF0\x9F\x93\x9A", "Your assistant's answer is too long",
     "Your assistant answered, but its answer is larger than I can pass on "
     "to Telegram, so I stopped reading it.",
     "Ask for a shorter answer, for example a summary, or ask for it in "
     "parts.",
     false, true, true, false, 502},
    {ec::media_download_failed, "ZR-MEDIA-DOWNLOAD", "\xF0\x9F\x93\xA5",
     "I could not fetch your file",
     "Telegram did not hand me the photo or file you sent, so your "
     "assistant did not receive it.",
     "Press Retry in a moment. If it keeps failing, send the file again "
     "from your device.",
     true, true, true, false, 502},
    {ec::media_save_failed, "ZR-MEDIA-SAVE", "\xF0\x9F\x92\xBE",
     "I could not store your file",
     "Your file arrived, but there is no room to store it for your "
     "assistant, so nothing was saved and your assistant did not receive "
     "it.",
     "Delete files your assistant no longer needs, or tell the bot's "
     "administrator; then press Retry.",
     true, true, true, false, 507},
  };
}

} // namespace

const std::vector<error_entry>& all_errors() {
  static const std::vector<error_entry> catalogue = make_catalogue();
  return catalogue;
}

const error_entry& describe(error_code code) {
  const auto& xs = all_errors();
  auto index = static_cast<size_t>(code);
  // The table is in enum order (checked by the tests); an out-of-range value
  // can only come from a cast, and the generic entry is the safe answer.
  if (index < xs.size() && xs[index].code == code)
    return xs[index];
  return xs[static_cast<size_t>(error_code::internal)];
}

std::string_view to_string(error_code code) {
  return describe(code).id;
}

std::optional<error_code> error_code_from_id(std::string_view id) {
  for (const auto& entry : all_errors())
    if (entry.id == id)
      return entry.code;
  return std::nullopt;
}

error_code error_code_of(errc code) {
  // No default: a new errc must get a catalogue entry (-Wswitch).
  switch (code) {
    case errc::not_provisioned: return error_code::not_provisioned;
    case errc::container_starting: return error_code::container_starting;
    case errc::container_down: return error_code::container_down;
    case errc::container_failed: return error_code::container_failed;
    case errc::capacity_exhausted: return error_code::capacity_exhausted;
    case errc::backend_unavailable: return error_code::backend_unavailable;
    case errc::session_lock_timeout: return error_code::session_lock_timeout;
    case errc::none:
    case errc::internal: return error_code::internal;
  }
  return error_code::internal;
}

error_code classify_gateway_error(int http_status,
                                  std::string_view error_type) {
  // The body's type is more specific than the status, and it is the only
  // signal for an SSE error event after a 200.
  if (error_type == "authentication_error")
    return error_code::provider_auth_failed;
  if (error_type == "insufficient_quota")
    return error_code::provider_quota;
  if (http_status == 401 || http_status == 403)
    return error_code::gateway_unauthorized;
  if (http_status == 402)
    return error_code::provider_quota;
  if (http_status == 408 || http_status == 429 || http_status == 502)
    return error_code::provider_failed;
  if (http_status == 504)
    return error_code::gateway_timeout;
  if (http_status >= 500 && http_status <= 599)
    return error_code::gateway_error;
  // The gateway got the message and refused it (a bad request, an unknown
  // model or route): its own message, not "something went wrong".
  if (http_status == 400 || http_status == 404)
    return error_code::gateway_rejected;
  if (http_status >= 400 && http_status <= 499)
    return error_code::internal;
  if (error_type == "api_error" || error_type == "rate_limit_error")
    return error_code::provider_failed;
  if (!error_type.empty())
    return error_code::gateway_error;
  return error_code::gateway_bad_response;
}

} // namespace zaki
