#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace zaki {

/// Returns the percent-decoded value of `name` in the query string `query`
/// (`a=1&b=x%2Fy`; `+` is a space), or nothing when absent or badly encoded.
std::optional<std::string> query_param(std::string_view query,
                                       std::string_view name);

/// Returns `text` percent-encoded for a query value (unreserved kept).
std::string query_encode(std::string_view text);

} // namespace zaki
