#include "telegram/markdown.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "telegram/split.hpp"

// The Markdown converter: LLM-flavoured Markdown to Telegram HTML. It never
// has to be trusted blindly: it only emits tags it opened itself around a
// closed region, and the tests run its output through the checker
// (telegram_html.cpp). At the end, the chunking of long answers.

namespace zaki {

namespace {

unsigned char uc(char c) {
  return static_cast<unsigned char>(c);
}

} // namespace

// -- Markdown -------------------------------------------------------------------

namespace {

constexpr size_t npos = std::string_view::npos;

// Regions nest at most this deep; deeper markers stay literal. This bounds
// the recursion for hostile input such as thousands of nested markers.
constexpr int max_depth = 6;

// Backtick runs longer than this never delimit code.
constexpr size_t max_tick_run = 16;

// Formats active around a region. Telegram forbids a tag inside one of its
// own kind, code or links inside links, and (per the Bot API's nesting rules)
// code or links inside blockquotes.
enum format : unsigned {
  f_bold = 1,
  f_italic = 2,
  f_strike = 4,
  f_link = 8,
  f_quote = 16,
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
         || c == '\v';
}

// Letters, digits and every non-ASCII byte: markers touching them from the
// outside are part of a word (snake_case, 2*3*4, привет_мир) and stay literal.
bool is_word(char c) {
  auto x = uc(c);
  return (x >= '0' && x <= '9') || (x >= 'a' && x <= 'z')
         || (x >= 'A' && x <= 'Z') || x >= 0x80;
}

bool is_ascii_punct(char c) {
  auto x = uc(c);
  return x >= 0x21 && x <= 0x7E && !is_word(c);
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

// Converts one line (or a part of one inside a closed marker pair). Every
// tag it emits wraps a recursively converted, already delimited region, so
// the output nests properly by construction. Failed closer searches are
// cached per marker kind: a closer that does not exist after position p
// does not exist after any later position either, which keeps hostile input
// linear per nesting level.
class inline_region {
public:
  inline_region(std::string& out, std::string_view s, unsigned active,
                int depth)
    : out_(out), s_(s), active_(active), depth_(depth) {
    for (auto& x : no_tick_close_)
      x = npos;
    for (auto& row : no_delim_close_)
      for (auto& x : row)
        x = npos;
  }

  void convert() {
    size_t i = 0;
    while (i < s_.size()) {
      switch (s_[i]) {
        case '\\':
          if (i + 1 < s_.size() && is_ascii_punct(s_[i + 1])) {
            flush(i);
            append_html_escaped(out_, s_.substr(i + 1, 1));
            i += 2;
            literal_ = i;
          } else {
            ++i;
          }
          break;
        case '`':
          i = on_backticks(i);
          break;
        case '*':
        case '_':
        case '~':
          i = on_delimiter(i);
          break;
        case '[':
          i = on_bracket(i);
          break;
        case '<':
          i = on_angle(i);
          break;
        case 'h':
          i = on_bare_url(i);
          break;
        default:
          ++i;
      }
    }
    flush(s_.size());
  }

private:
  void flush(size_t upto) {
    if (upto > literal_)
      append_html_escaped(out_, s_.substr(literal_, upto - literal_));
    literal_ = upto;
  }

  size_t find_tick_close(size_t from, size_t run) {
    if (no_tick_close_[run] <= from)
      return npos;
    for (auto j = from; j < s_.size();) {
      if (s_[j] != '`') {
        ++j;
        continue;
      }
      auto r = run_length(s_, j);
      if (r == run)
        return j;
      j += r;
    }
    no_tick_close_[run] = std::min(no_tick_close_[run], from);
    return npos;
  }

  size_t find_delim_close(size_t from, char c, size_t run) {
    auto& cache = no_delim_close_[c == '*' ? 0 : (c == '_' ? 1 : 2)][run];
    if (cache <= from)
      return npos;
    auto n = s_.size();
    for (auto j = from; j < n;) {
      auto ch = s_[j];
      if (ch == '\\') {
        j += 2;
      } else if (ch == '`') {
        auto r = run_length(s_, j);
        auto close = r <= max_tick_run ? find_tick_close(j + r, r) : npos;
        j = close == npos ? j + r : close + r;
      } else if (ch == c) {
        auto r = run_length(s_, j);
        // A closer follows a non-space and is not glued to a following word.
        if (r == run && !is_space(s_[j - 1])
            && (j + r == n || !is_word(s_[j + r])))
          return j;
        j += r;
      } else {
        ++j;
      }
    }
    cache = std::min(cache, from);
    return npos;
  }

  size_t on_backticks(size_t i) {
    auto run = run_length(s_, i);
    if (run > max_tick_run)
      return i + run;
    auto close = find_tick_close(i + run, run);
    if (close == npos)
      return i + run;
    auto content = s_.substr(i + run, close - i - run);
    if (content.size() >= 2 && content.front() == ' ' && content.back() == ' '
        && !is_blank(content))
      content = content.substr(1, content.size() - 2);
    auto end = close + run;
    if (is_blank(content))
      return end; // nothing to show in monospace: keep the backticks
    flush(i);
    if ((active_ & (f_link | f_quote)) == 0) {
      out_ += "<code>";
      append_html_escaped(out_, content);
      out_ += "</code>";
    } else {
      append_html_escaped(out_, content);
    }
    literal_ = end;
    return end;
  }

  size_t on_delimiter(size_t i) {
    auto c = s_[i];
    auto run = run_length(s_, i);
    auto after = i + run;
    if ((c == '~' ? run != 2 : run > 3) || depth_ >= max_depth)
      return after;
    // An opener precedes a non-space and is not glued to a preceding word.
    if (after >= s_.size() || is_space(s_[after])
        || (i > 0 && is_word(s_[i - 1])))
      return after;
    auto close = find_delim_close(after, c, run);
    if (close == npos)
      return after;
    unsigned adds = c == '~'    ? f_strike
                    : run == 1 ? f_italic
                    : run == 2 ? f_bold
                               : f_bold | f_italic;
    unsigned fresh = adds & ~active_;
    flush(i);
    if (fresh & f_bold)
      out_ += "<b>";
    if (fresh & f_italic)
      out_ += "<i>";
    if (fresh & f_strike)
      out_ += "<s>";
    inline_region{out_, s_.substr(after, close - after), active_ | adds,
                  depth_ + 1}
      .convert();
    if (fresh & f_strike)
      out_ += "</s>";
    if (fresh & f_italic)
      out_ += "</i>";
    if (fresh & f_bold)
      out_ += "</b>";
    literal_ = close + run;
    return literal_;
  }

  // [text](url "optional title")
  size_t on_bracket(size_t i) {
    auto n = s_.size();
    if ((active_ & (f_link | f_quote)) != 0 || depth_ >= max_depth)
      return i + 1;
    auto j = i + 1;
    while (j < n && s_[j] != ']' && s_[j] != '[')
      j += s_[j] == '\\' ? 2 : 1;
    if (j + 1 >= n || s_[j] != ']' || s_[j + 1] != '(')
      return i + 1;
    auto text = s_.substr(i + 1, j - i - 1);
    auto k = j + 2;
    auto url_start = k;
    int parens = 0;
    for (; k < n && !is_space(s_[k]); ++k) {
      if (s_[k] == '(') {
        ++parens;
      } else if (s_[k] == ')') {
        if (parens == 0)
          break;
        --parens;
      }
    }
    auto url = s_.substr(url_start, k - url_start);
    while (k < n && s_[k] == ' ')
      ++k;
    if (k < n && k > url_start + url.size() && (s_[k] == '"' || s_[k] == '\'')) {
      auto q = s_.find(s_[k], k + 1);
      if (q == npos)
        return i + 1;
      k = q + 1;
      while (k < n && s_[k] == ' ')
        ++k;
    }
    if (k >= n || s_[k] != ')')
      return i + 1;
    auto end = k + 1;
    // A link with another scheme (javascript:, data:, file:) or an empty
    // text stays literal as a whole, so nothing inside it becomes markup.
    if (!is_safe_link_url(url) || is_blank(text))
      return end;
    flush(i);
    out_ += "<a href=\"";
    append_html_escaped(out_, url);
    out_ += "\">";
    inline_region{out_, text, active_ | f_link, depth_ + 1}.convert();
    out_ += "</a>";
    literal_ = end;
    return end;
  }

  // <https://example.com>
  size_t on_angle(size_t i) {
    if ((active_ & (f_link | f_quote)) != 0)
      return i + 1;
    auto close = s_.find('>', i + 1);
    if (close == npos)
      return i + 1;
    auto url = s_.substr(i + 1, close - i - 1);
    if (!is_safe_link_url(url))
      return i + 1;
    flush(i);
    out_ += "<a href=\"";
    append_html_escaped(out_, url);
    out_ += "\">";
    append_html_escaped(out_, url);
    out_ += "</a>";
    literal_ = close + 1;
    return literal_;
  }

  // Bare URLs stay literal (Telegram links them itself), so underscores or
  // asterisks in a path never turn into emphasis.
  size_t on_bare_url(size_t i) {
    if (i > 0 && is_word(s_[i - 1]))
      return i + 1;
    auto rest = s_.substr(i, 8);
    if (rest.substr(0, 7) != "http://" && rest != "https://")
      return i + 1;
    auto j = i;
    while (j < s_.size() && !is_space(s_[j]) && s_[j] != '<')
      ++j;
    return j;
  }

  std::string& out_;
  std::string_view s_;
  unsigned active_;
  int depth_;
  size_t literal_ = 0;
  size_t no_tick_close_[max_tick_run + 1];
  size_t no_delim_close_[3][4];
};

void convert_inline(std::string& out, std::string_view s, unsigned active) {
  inline_region{out, s, active, 0}.convert();
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

std::string_view quote_content(std::string_view line) {
  auto indent = leading_spaces(line);
  if (indent > 3 || indent >= line.size() || line[indent] != '>')
    return {};
  auto rest = line.substr(indent + 1);
  if (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  return rest;
}

bool is_quote(std::string_view line) {
  auto indent = leading_spaces(line);
  return indent <= 3 && indent < line.size() && line[indent] == '>';
}

bool is_rule(std::string_view line) {
  auto t = trim(line);
  if (t.empty() || (t[0] != '-' && t[0] != '*' && t[0] != '_'))
    return false;
  size_t count = 0;
  for (char c : t) {
    if (c == t[0])
      ++count;
    else if (c != ' ')
      return false;
  }
  return count >= 3;
}

void convert_fenced(std::string& out, const std::vector<std::string_view>& lines,
                    size_t first, size_t last, const fence& f) {
  std::string content;
  for (auto li = first; li < last; ++li) {
    auto line = lines[li];
    line.remove_prefix(std::min(leading_spaces(line), f.indent));
    if (li > first)
      content += '\n';
    content.append(line.data(), line.size());
  }
  if (is_blank(content))
    return;
  if (f.language.empty()) {
    out += "<pre>";
  } else {
    out += "<pre><code class=\"language-";
    out.append(f.language.data(), f.language.size());
    out += "\">";
  }
  append_html_escaped(out, content);
  out += f.language.empty() ? "</pre>" : "</code></pre>";
}

// Returns true if the line was a heading, a bullet or a rule.
bool convert_line_block(std::string& out, std::string_view line) {
  auto indent = leading_spaces(line);
  auto rest = line.substr(indent);
  if (indent <= 3 && !rest.empty() && rest[0] == '#') {
    auto level = run_length(rest, 0);
    if (level <= 6 && (level == rest.size() || rest[level] == ' ')) {
      auto text = trim(rest.substr(level));
      // Drop an optional closing sequence: "## Title ##".
      auto hashes = text.find_last_not_of('#');
      if (hashes != npos && hashes + 1 < text.size() && text[hashes] == ' ')
        text = trim(text.substr(0, hashes));
      if (!text.empty()) {
        out += "<b>";
        convert_inline(out, text, f_bold);
        out += "</b>";
      }
      return true;
    }
  }
  if (is_rule(line)) {
    out += "\xE2\x80\x94\xE2\x80\x94\xE2\x80\x94";
    return true;
  }
  if (rest.size() >= 2 && (rest[0] == '-' || rest[0] == '*' || rest[0] == '+')
      && rest[1] == ' ') {
    out.append(line.data(), indent);
    out += "\xE2\x80\xA2 ";
    convert_inline(out, rest.substr(2), 0);
    return true;
  }
  return false;
}

} // namespace

std::string markdown_to_telegram_html(std::string_view md) {
  std::vector<std::string_view> lines;
  for (size_t pos = 0;;) {
    auto nl = md.find('\n', pos);
    auto line = md.substr(pos, nl == npos ? npos : nl - pos);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    lines.push_back(line);
    if (nl == npos)
      break;
    pos = nl + 1;
  }
  std::string out;
  out.reserve(md.size() + md.size() / 4 + 16);
  for (size_t li = 0; li < lines.size();) {
    if (li > 0)
      out += '\n';
    auto line = lines[li];
    if (auto f = parse_fence_open(line)) {
      // An unclosed fence runs to the end, as in CommonMark: a chunk cut
      // inside a code block still shows the code as code.
      auto end = li + 1;
      while (end < lines.size() && !is_fence_close(lines[end], *f))
        ++end;
      convert_fenced(out, lines, li + 1, end, *f);
      li = end < lines.size() ? end + 1 : end;
      continue;
    }
    if (is_quote(line)) {
      auto end = li;
      bool blank = true;
      for (; end < lines.size() && is_quote(lines[end]); ++end)
        blank = blank && is_blank(quote_content(lines[end]));
      if (blank) {
        // Only empty quote lines: an empty blockquote would be an empty
        // entity, so keep the markers as text.
        for (auto k = li; k < end; ++k) {
          if (k > li)
            out += '\n';
          append_html_escaped(out, lines[k]);
        }
      } else {
        out += "<blockquote>";
        for (auto k = li; k < end; ++k) {
          if (k > li)
            out += '\n';
          convert_inline(out, quote_content(lines[k]), f_quote);
        }
        out += "</blockquote>";
      }
      li = end;
      continue;
    }
    if (!convert_line_block(out, line))
      convert_inline(out, line, 0);
    ++li;
  }
  return out;
}

// -- chunks of long answers -----------------------------------------------------

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
      if (auto f = open_fence_at_end(source);
          f && f->run <= max_tick_run) {
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
