#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// A small JSON tree and string writer for the loopback fakes, over
// rapidjson (header-only). The fakes must not depend on simdjson (the test
// gateway is linked statically and Debian ships no static simdjson), and the
// bodies they read are small, so a tree of plain values is enough.

namespace zaki::fakes {

/// One parsed JSON value. Strings are decoded; every value also keeps its
/// raw text (a view into the parsed input, valid while the input lives).
struct json_value {
  /// The JSON type of a value.
  enum kind_t {
    null_kind,
    bool_kind,
    number_kind,
    string_kind,
    array_kind,
    object_kind
  };

  kind_t kind = null_kind;

  /// `true` or `false` for booleans.
  bool boolean = false;

  /// The decoded text of a string, or the literal text of a number.
  std::string text;

  /// The elements of an array.
  std::vector<json_value> items;

  /// The members of an object, in input order.
  std::vector<std::pair<std::string, json_value>> members;

  /// The text of an object or array exactly as it appeared in the input
  /// (a view into it); `true`, `false` or `null` for those literals.
  std::string_view raw;

  /// Returns the member `key` of an object, or null if absent.
  const json_value* get(std::string_view key) const;

  /// Returns the value as an integer if it is an integral number or a
  /// string holding one (Telegram accepts both for ids).
  std::optional<int64_t> as_int() const;

  /// Returns the text of a string, the literal of a number, or the raw text
  /// of anything else.
  std::string as_text() const;
};

/// Parses `input` as one JSON value with nothing but whitespace after it.
/// Returns nothing on any syntax error or when nesting exceeds `max_depth`.
std::optional<json_value> parse_json(std::string_view input,
                                     size_t max_depth = 64);

/// Appends `s` to `out` as a quoted JSON string (quotes included).
void append_json_string(std::string& out, std::string_view s);

/// Returns `s` as a quoted JSON string.
std::string json_string(std::string_view s);

} // namespace zaki::fakes
