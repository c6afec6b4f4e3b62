#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "emulators/http_names.hpp"
#include "telegram/text.hpp"

// The wire side of the Bot API emulator: request parameters in their three
// encodings, Telegram's HTML check, and the JSON of users, messages and
// answers. Pure functions, so fake_telegram.cpp holds only the state.

namespace zaki::fakes::tg {

/// Request parameters by name: decoded strings, number literals, or the raw
/// text of JSON objects and arrays (e.g. `reply_markup`).
using params = std::unordered_map<std::string, std::string>;

/// Collects the parameters of `req` from its query string and its body
/// (JSON or x-www-form-urlencoded). Returns false for a malformed JSON body.
bool parse_params(const request& req, params& out);

/// Returns the parameter `key` as an integer, if present and numeric.
std::optional<int64_t> int_param(const params& ps, const std::string& key);

/// Returns the parameter `key`, or an empty string.
std::string str_param(const params& ps, const std::string& key);

/// Decodes %XX escapes and '+' of a URL component.
std::string url_decode(std::string_view s);

/// Returns `s` in ASCII lower case.
std::string lower(std::string_view s);

/// The router's own count (telegram/text.hpp): the fake checks lengths as
/// Telegram does.
using zaki::utf16_length;

/// Checks `text` like Telegram's HTML parse mode; returns the error
/// description ("can't parse entities: ...") or nothing when it parses.
std::optional<std::string> check_html(std::string_view text);

/// Returns the current Unix time in seconds.
int64_t unix_now();

/// Returns a private user's `User` object.
std::string user_json(int64_t user_id);

/// Returns the bot's `User` object for bot id `bot_id`.
std::string bot_json(int64_t bot_id);

/// Returns a `Chat` object (private for positive ids, else a group).
std::string chat_json(int64_t chat_id);

/// Returns a `Message` sent by the bot.
std::string bot_message_json(int64_t bot_id, int64_t message_id,
                             int64_t chat_id, std::string_view text,
                             std::string_view reply_markup);

/// Returns an update carrying a private text message of `user_id`.
std::string text_update_json(int64_t update_id, int64_t message_id,
                             int64_t user_id, std::string_view text);

/// Returns an update carrying a callback query on a bot message.
std::string callback_update_json(int64_t update_id, int64_t bot_id,
                                 std::string_view query_id, int64_t user_id,
                                 int64_t message_id, std::string_view data);

/// Returns `{"ok":true,"result":<result>}`.
std::string ok(std::string_view result);

/// Returns `{"ok":false,"error_code":..,"description":..}`, with
/// `parameters.retry_after` when `retry_after` > 0.
std::string error(int code, std::string_view description, int retry_after = 0);

/// Returns Telegram's description for an injected failure with `status`.
std::string default_description(int status);

} // namespace zaki::fakes::tg
