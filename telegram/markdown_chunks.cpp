#include "telegram/markdown.hpp"

#include <algorithm>
#include <optional>

#include "telegram/split.hpp"

// The chunking of long answers: split the Markdown source, close and reopen
// fenced code blocks cut in two, convert each piece (telegram/markdown.cpp)
// and keep it as HTML only when the checker accepts it.

namespace zaki {

namespace {

constexpr size_t npos = std::string_view::npos;

// Backtick runs longer than this never reopen a fence.
constexpr size_t max_tick_run = 16;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
    || c == '\v';
}

bool is_blank(std::string_view s) {
  for (char c : s)
    if (!is_space(c))
      return false;
  return true;
}

size_t run_length(std::string_view s, size_t i) {
  auto j = i;
  while (j < s.size() && s[j] == s[i])
    ++j;
  return j - i;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

size_t leading_spaces(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && line[n] == ' ')
    ++n;
  return n;
}

struct fence {
  char ch;
  size_t run;
  size_t indent;
  std::string_view language;
};

std::optional<fence> parse_fence_open(std::string_view line) {
  auto indent = leading_spaces(line);
  if (indent > 3 || indent >= line.size())
    return std::nullopt;
  auto ch = line[indent];
  if (ch != '`' && ch != '~')
    return std::nullopt;
  auto run = run_length(line, indent);
  if (run < 3)
    return std::nullopt;
  auto info = trim(line.substr(indent + run));
  if (ch == '`' && info.find('`') != npos)
    return std::nullopt;
  auto lang = info.substr(0, std::min(info.find(' '), info.find('\t')));
  if (!is_valid_code_language(lang))
    lang = {};
  return fence{ch, run, indent, lang};
}

bool is_fence_close(std::string_view line, const fence& f) {
  auto indent = leading_spaces(line);
  if (indent > 3 || indent >= line.size() || line[indent] != f.ch)
    return false;
  auto run = run_length(line, indent);
  return run >= f.run && is_blank(line.substr(indent + run));
}

} // namespace

namespace {

// Room for closing a fence at the end of a piece and reopening it at the
// start of the next: two fence lines of at most 16 markers, a language of at
// most 32 characters and the line breaks.
constexpr size_t fence_margin = 80;

// Pieces are split again (halving the limit) while their HTML is longer than
// Telegram's limit, down to this size; below it they go out as plain text.
constexpr size_t min_resplit_limit = 400;

/// Returns the fence still open at the end of `text`, if any.
std::optional<fence> open_fence_at_end(std::string_view text) {
  std::optional<fence> open;
  for (size_t pos = 0; pos <= text.size();) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == npos ? npos : nl - pos);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (open) {
      if (is_fence_close(line, *open))
        open.reset();
    } else if (auto f = parse_fence_open(line)) {
      open = f;
    }
    if (nl == npos)
      break;
    pos = nl + 1;
  }
  return open;
}

bool has_visible_text(std::string_view s) {
  return !is_blank(s);
}

} // namespace

std::vector<telegram_chunk> markdown_to_telegram_chunks(std::string_view md,
                                                        size_t limit) {
  std::vector<telegram_chunk> out;
  auto piece_limit = limit > 2 * fence_margin ? limit - fence_margin : limit;
  auto pieces = split_message(md, piece_limit);
  std::string carry; // the fence line that reopens a cut code block
  for (size_t i = 0; i < pieces.size(); ++i) {
    auto source = carry + pieces[i];
    carry.clear();
    if (i + 1 < pieces.size()) {
      if (auto f = open_fence_at_end(source); f && f->run <= max_tick_run) {
        // The language views `source`: copy it before `source` grows.
        std::string marker(f->run, f->ch);
        carry = marker;
        carry += f->language;
        carry += '\n';
        source += '\n';
        source += marker;
      }
    }
    if (!has_visible_text(source))
      continue;
    telegram_chunk chunk;
    auto html = markdown_to_telegram_html(source);
    // Each check is a pass over the HTML: every length is taken once.
    bool safe = false;
    size_t raw_units = 0;
    if (is_balanced_telegram_html(html)) {
      auto text_units = html_text_utf16_length(html);
      safe = text_units > 0 && text_units <= telegram_text_limit;
      if (safe)
        raw_units = utf16_length(html);
    }
    if (safe && raw_units > telegram_text_limit
        && limit / 2 >= min_resplit_limit) {
      // Telegram counts the parsed text, but escaping can make the raw
      // HTML several times longer (code full of `&` and `<`); stricter
      // servers count the raw text. Such a piece is self-contained
      // Markdown (fences closed and reopened), so split it again.
      for (auto& sub : markdown_to_telegram_chunks(source, limit / 2))
        out.push_back(std::move(sub));
      continue;
    }
    if (safe && raw_units <= telegram_text_limit) {
      chunk.text = std::move(html);
      chunk.html = true;
    } else {
      chunk.text = source;
    }
    chunk.plain = std::move(source);
    out.push_back(std::move(chunk));
  }
  return out;
}

} // namespace zaki
