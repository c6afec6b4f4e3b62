#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// UTF-8 helpers in Telegram's units: the Bot API counts message lengths and
// entity offsets in UTF-16 code units.

namespace zaki {

/// Returns the length of UTF-8 text in UTF-16 code units (Telegram's unit):
/// one per code point, two for code points above U+FFFF (a 4-byte
/// sequence). Continuation bytes count nothing, so invalid input is counted
/// by its lead bytes.
size_t utf16_length(std::string_view utf8);

/// Appends the code point `cp` (at most U+10FFFF) to `out` as UTF-8.
void append_utf8(std::string& out, uint32_t cp);

} // namespace zaki
