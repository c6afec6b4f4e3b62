#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "messages/types.hpp"

namespace zaki {

/// Longest stored file name in bytes (the date prefix included), well under
/// the 255 bytes of common file systems.
constexpr size_t max_inbox_name = 120;

/// Returns a file name that is safe to create in a user's inbox: no path
/// separators, no `..`, no NUL or control characters, no leading dot, at
/// most `max_inbox_name - 11` bytes cut at a UTF-8 boundary (the extension
/// kept), and a default derived from `kind` and `mime_type` when nothing
/// usable is left.
std::string sanitize_file_name(std::string_view name, inbound_kind kind,
                               std::string_view mime_type);

/// Returns `<date>-<name>`, the name under `inbox/`, with `date` as
/// YYYY-MM-DD (UTC) of `unix_seconds`.
std::string inbox_file_name(int64_t unix_seconds, std::string_view name);

} // namespace zaki
