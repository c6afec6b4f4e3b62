#include "telegram/split.hpp"

namespace zaki {

namespace {

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

size_t units_of_lead(unsigned char c) {
  return c >= 0xF0 ? 2 : 1;
}

/// Returns the largest byte count of `text` that fits in `limit` units and
/// ends on a code point boundary.
size_t fitting_prefix(std::string_view text, size_t limit) {
  size_t units = 0;
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    auto n = units_of_lead(c);
    if (units + n > limit)
      break;
    units += n;
    ++i;
    while (i < text.size() && is_continuation(text[i]))
      ++i;
  }
  return i;
}

} // namespace

std::vector<std::string> split_message(std::string_view text, size_t limit) {
  std::vector<std::string> chunks;
  // Telegram rejects blank texts ("message text is empty"): a separator
  // left over after a full chunk must not become a chunk of its own.
  auto keep = [&chunks](std::string_view chunk) {
    if (chunk.find_first_not_of(" \t\r\n") != std::string_view::npos)
      chunks.emplace_back(chunk);
  };
  if (limit < 2)
    limit = 2;
  while (!text.empty()) {
    auto fit = fitting_prefix(text, limit);
    if (fit == text.size()) {
      keep(text);
      break;
    }
    auto head = text.substr(0, fit);
    // Prefer a paragraph, then a line, then a word boundary, but not one so
    // early that the chunk becomes tiny.
    size_t cut = std::string_view::npos;
    size_t skip = 0;
    auto min_cut = fit / 4;
    if (auto p = head.rfind("\n\n"); p != std::string_view::npos && p > min_cut)
      cut = p, skip = 2;
    else if (auto l = head.rfind('\n');
             l != std::string_view::npos && l > min_cut)
      cut = l, skip = 1;
    else if (auto s = head.rfind(' ');
             s != std::string_view::npos && s > min_cut)
      cut = s, skip = 1;
    if (cut == std::string_view::npos) {
      cut = fit;
      skip = 0;
    }
    keep(text.substr(0, cut));
    text.remove_prefix(cut + skip);
  }
  return chunks;
}

} // namespace zaki
