#pragma once

#include <cstddef>
#include <string_view>

namespace zaki {

/// One member of a JSON object as spans of the document: `key` with its
/// quotes (still escaped), `value` the complete value text.
struct json_member {
  std::string_view key;
  std::string_view value;
};

/// Walks the members of the JSON object `object_text` (which must start
/// with `{`) without parsing their values, so that a large object can be
/// decoded one small member at a time. Expects well-formed JSON (check with
/// `locate_json_error` first): returns false on anything else, calling `fn`
/// for the members before it. `fn` returns false to stop early.
template <class F>
bool for_each_json_member(std::string_view object_text, F fn);

/// Returns the end of the JSON value that starts at `pos` of `text`, or
/// `npos` if the text ends first.
size_t skip_json_value(std::string_view text, size_t pos);

/// Returns the first non-whitespace position at or after `pos`.
size_t skip_json_space(std::string_view text, size_t pos);

template <class F>
bool for_each_json_member(std::string_view text, F fn) {
  constexpr auto npos = std::string_view::npos;
  size_t pos = skip_json_space(text, 0);
  if (pos >= text.size() || text[pos] != '{')
    return false;
  pos = skip_json_space(text, pos + 1);
  if (pos < text.size() && text[pos] == '}')
    return true;
  for (;;) {
    if (pos >= text.size() || text[pos] != '"')
      return false;
    auto key_end = skip_json_value(text, pos);
    if (key_end == npos)
      return false;
    auto colon = skip_json_space(text, key_end);
    if (colon >= text.size() || text[colon] != ':')
      return false;
    auto value_start = skip_json_space(text, colon + 1);
    auto value_end = skip_json_value(text, value_start);
    if (value_end == npos)
      return false;
    if (!fn(json_member{text.substr(pos, key_end - pos),
                        text.substr(value_start, value_end - value_start)}))
      return true;
    pos = skip_json_space(text, value_end);
    if (pos >= text.size())
      return false;
    if (text[pos] == '}')
      return true;
    if (text[pos] != ',')
      return false;
    pos = skip_json_space(text, pos + 1);
  }
}

} // namespace zaki
