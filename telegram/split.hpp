#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "telegram/text.hpp"

namespace zaki {

/// Telegram's limit of a message text, in UTF-16 code units.
constexpr size_t telegram_text_limit = 4096;

/// Splits `text` into chunks of at most `limit` UTF-16 code units each,
/// cutting preferably at a blank line, then a newline, then a space, and
/// never inside a UTF-8 sequence (so never inside a surrogate pair).
/// Returns no chunks for empty text.
std::vector<std::string> split_message(std::string_view text,
                                       size_t limit = telegram_text_limit);

} // namespace zaki
