#include "json/members.hpp"

namespace zaki {

namespace {

constexpr auto npos = std::string_view::npos;

/// `pos` is at the opening quote; returns the position after the closing one.
size_t skip_string(std::string_view text, size_t pos) {
  for (size_t i = pos + 1; i < text.size(); ++i) {
    if (text[i] == '\\')
      ++i; // the escaped character, whatever it is
    else if (text[i] == '"')
      return i + 1;
  }
  return npos;
}

} // namespace

size_t skip_json_space(std::string_view text, size_t pos) {
  while (pos < text.size()
         && (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\r'
             || text[pos] == '\t'))
    ++pos;
  return pos;
}

size_t skip_json_value(std::string_view text, size_t pos) {
  if (pos >= text.size())
    return npos;
  char c = text[pos];
  if (c == '"')
    return skip_string(text, pos);
  if (c == '{' || c == '[') {
    // Brackets are counted, strings skipped (they may hold brackets).
    size_t depth = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      char x = text[i];
      if (x == '"') {
        i = skip_string(text, i);
        if (i == npos)
          return npos;
        --i;
      } else if (x == '{' || x == '[') {
        ++depth;
      } else if (x == '}' || x == ']') {
        if (--depth == 0)
          return i + 1;
      }
    }
    return npos;
  }
  // A number or a literal runs to the next delimiter.
  size_t i = pos;
  while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']'
         && text[i] != ' ' && text[i] != '\n' && text[i] != '\r'
         && text[i] != '\t')
    ++i;
  return i == pos ? npos : i;
}

} // namespace zaki
