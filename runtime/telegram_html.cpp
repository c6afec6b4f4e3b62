#include "runtime/telegram_html.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

// Three parts: primitives (escaping, UTF-8/UTF-16, URL policy), the checker
// that guards everything sent with parse_mode HTML, and the Markdown
// converter. The converter never has to be trusted blindly: it only emits
// tags it opened itself around a closed region, and the tests run its output
// through the checker.

namespace zaki {

namespace {

unsigned char uc(char c) {
  return static_cast<unsigned char>(c);
}

// Returns the length of the valid UTF-8 sequence at s[i], or 0 if invalid.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto c0 = uc(s[i]);
  if (c0 < 0x80)
    return 1;
  size_t n;
  if (c0 >= 0xC2 && c0 <= 0xDF)
    n = 2;
  else if (c0 >= 0xE0 && c0 <= 0xEF)
    n = 3;
  else if (c0 >= 0xF0 && c0 <= 0xF4)
    n = 4;
  else
    return 0;
  if (i + n > s.size())
    return 0;
  auto c1 = uc(s[i + 1]);
  // The second byte's range excludes overlong forms, UTF-16 surrogates and
  // code points above U+10FFFF.
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c0 == 0xE0)
    lo = 0xA0;
  else if (c0 == 0xED)
    hi = 0x9F;
  else if (c0 == 0xF0)
    lo = 0x90;
  else if (c0 == 0xF4)
    hi = 0x8F;
  if (c1 < lo || c1 > hi)
    return 0;
  for (size_t k = 2; k < n; ++k)
    if ((uc(s[i + k]) & 0xC0) != 0x80)
      return 0;
  return n;
}

} // namespace

void append_html_escaped(std::string& out, std::string_view s) {
  size_t run = 0; // start of the pending run of bytes copied unchanged
  auto flush = [&](size_t i) { out.append(s.data() + run, i - run); };
  for (size_t i = 0; i < s.size();) {
    auto c = uc(s[i]);
    const char* rep = nullptr;
    size_t len = 1;
    if (c < 0x80) {
      switch (c) {
        case '&':
          rep = "&amp;";
          break;
        case '<':
          rep = "&lt;";
          break;
        case '>':
          rep = "&gt;";
          break;
        case '"':
          rep = "&quot;";
          break;
        default:
          break;
      }
    } else {
      len = utf8_sequence_length(s, i);
      if (len == 0) {
        rep = "\xEF\xBF\xBD"; // U+FFFD replaces one invalid byte
        len = 1;
      }
    }
    if (rep != nullptr) {
      flush(i);
      out += rep;
      run = i + len;
    }
    i += len;
  }
  flush(s.size());
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  append_html_escaped(out, s);
  return out;
}

size_t utf16_length(std::string_view utf8) {
  size_t n = 0;
  for (char ch : utf8) {
    auto c = uc(ch);
    n += (c & 0xC0) == 0x80 ? 0 : (c >= 0xF0 ? 2 : 1);
  }
  return n;
}

bool is_safe_link_url(std::string_view url) {
  if (url.size() > 2048)
    return false;
  auto starts_with_ci = [&](std::string_view prefix) {
    if (url.size() <= prefix.size())
      return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      auto c = uc(url[i]);
      if (c >= 'A' && c <= 'Z')
        c = static_cast<unsigned char>(c - 'A' + 'a');
      if (c != uc(prefix[i]))
        return false;
    }
    return true;
  };
  if (!starts_with_ci("http://") && !starts_with_ci("https://")
      && !starts_with_ci("tg://"))
    return false;
  for (char ch : url) {
    auto c = uc(ch);
    if (c <= 0x20 || c == 0x7F || c == '<' || c == '>')
      return false;
  }
  return true;
}

namespace {

// -- entity decoding ------------------------------------------------------------

// Parses the entity starting at html[i] == '&'. Returns its length and
// stores the code point, or returns 0 for anything Telegram would reject.
size_t parse_entity(std::string_view html, size_t i, uint32_t& cp) {
  auto rest = html.substr(i);
  struct named {
    std::string_view text;
    uint32_t cp;
  };
  static constexpr named names[] = {
    {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}};
  for (const auto& n : names) {
    if (rest.substr(0, n.text.size()) == n.text) {
      cp = n.cp;
      return n.text.size();
    }
  }
  if (rest.size() < 4 || rest[1] != '#')
    return 0;
  size_t k = 2;
  bool hex = rest[k] == 'x' || rest[k] == 'X';
  if (hex)
    ++k;
  uint32_t value = 0;
  size_t digits = 0;
  for (; k < rest.size() && digits < 8; ++k, ++digits) {
    auto c = uc(rest[k]);
    uint32_t d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (hex && c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (hex && c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      break;
    value = value * (hex ? 16 : 10) + d;
  }
  if (digits == 0 || k >= rest.size() || rest[k] != ';')
    return 0;
  if (value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return 0;
  cp = value;
  return k + 1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// -- the checker ----------------------------------------------------------------

enum class tag_kind {
  bold,
  italic,
  underline,
  strike,
  spoiler,
  link,
  code,
  pre,
  quote,
  emoji,
};

struct tag_name {
  std::string_view name;
  tag_kind kind;
};

constexpr tag_name tag_names[] = {
  {"b", tag_kind::bold},         {"strong", tag_kind::bold},
  {"i", tag_kind::italic},       {"em", tag_kind::italic},
  {"u", tag_kind::underline},    {"ins", tag_kind::underline},
  {"s", tag_kind::strike},       {"strike", tag_kind::strike},
  {"del", tag_kind::strike},     {"span", tag_kind::spoiler},
  {"tg-spoiler", tag_kind::spoiler}, {"a", tag_kind::link},
  {"code", tag_kind::code},      {"pre", tag_kind::pre},
  {"blockquote", tag_kind::quote}, {"tg-emoji", tag_kind::emoji},
};

struct attribute {
  std::string_view name;
  std::string value; // unescaped
  bool has_value;
};

bool is_language_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '#'
         || c == '.' || c == '-';
}

bool valid_language(std::string_view lang) {
  if (lang.empty() || lang.size() > 32)
    return false;
  for (char c : lang)
    if (!is_language_char(c))
      return false;
  return true;
}

bool attributes_ok(std::string_view tag, tag_kind kind,
                   const std::vector<attribute>& attrs) {
  auto only = [&](std::string_view name) {
    return attrs.size() == 1 && attrs[0].name == name && attrs[0].has_value;
  };
  switch (kind) {
    case tag_kind::link:
      return only("href") && is_safe_link_url(attrs[0].value);
    case tag_kind::code:
      if (attrs.empty())
        return true;
      return only("class") && attrs[0].value.rfind("language-", 0) == 0
             && valid_language(std::string_view{attrs[0].value}.substr(9));
    case tag_kind::spoiler:
      if (tag == "span")
        return only("class") && attrs[0].value == "tg-spoiler";
      return attrs.empty();
    case tag_kind::quote:
      return attrs.empty()
             || (attrs.size() == 1 && attrs[0].name == "expandable"
                 && !attrs[0].has_value);
    case tag_kind::emoji:
      return only("emoji-id") && !attrs[0].value.empty()
             && attrs[0].value.find_first_not_of("0123456789")
                  == std::string::npos;
    default:
      return attrs.empty();
  }
}

struct open_tag {
  std::string_view name;
  tag_kind kind;
  size_t content_start;
  bool has_code_child = false;
  size_t code_child_end = 0;
};

} // namespace

bool is_balanced_telegram_html(std::string_view html) {
  std::vector<open_tag> stack;
  std::vector<attribute> attrs;
  size_t i = 0;
  while (i < html.size()) {
    auto c = uc(html[i]);
    if (c != '<' && !stack.empty() && stack.back().kind == tag_kind::pre
        && stack.back().has_code_child)
      return false; // text after <pre><code>...</code>
    if (c >= 0x80) {
      auto n = utf8_sequence_length(html, i);
      if (n == 0)
        return false;
      i += n;
      continue;
    }
    if (c == '>')
      return false;
    if (c == '&') {
      uint32_t cp;
      auto n = parse_entity(html, i, cp);
      if (n == 0)
        return false;
      i += n;
      continue;
    }
    if (c != '<') {
      ++i;
      continue;
    }
    auto tag_start = i;
    bool closing = i + 1 < html.size() && html[i + 1] == '/';
    size_t k = i + (closing ? 2 : 1);
    auto name_start = k;
    while (k < html.size()
           && ((html[k] >= 'a' && html[k] <= 'z') || html[k] == '-'))
      ++k;
    auto name = html.substr(name_start, k - name_start);
    const tag_name* info = nullptr;
    for (const auto& t : tag_names)
      if (t.name == name)
        info = &t;
    if (info == nullptr)
      return false;
    if (closing) {
      if (k >= html.size() || html[k] != '>' || stack.empty()
          || stack.back().name != name)
        return false;
      auto top = stack.back();
      stack.pop_back();
      if (top.kind == tag_kind::pre && top.has_code_child
          && top.code_child_end != tag_start)
        return false;
      if (top.kind == tag_kind::code && !stack.empty()
          && stack.back().kind == tag_kind::pre) {
        stack.back().has_code_child = true;
        stack.back().code_child_end = k + 1;
      }
      i = k + 1;
      continue;
    }
    // Attributes: name or name="value" separated by spaces.
    attrs.clear();
    for (;;) {
      if (k >= html.size())
        return false;
      if (html[k] == '>')
        break;
      if (html[k] != ' ')
        return false;
      while (k < html.size() && html[k] == ' ')
        ++k;
      auto an = k;
      while (k < html.size()
             && ((html[k] >= 'a' && html[k] <= 'z') || html[k] == '-'))
        ++k;
      if (k == an)
        return false;
      attribute a{html.substr(an, k - an), {}, false};
      if (k < html.size() && html[k] == '=') {
        if (k + 1 >= html.size() || html[k + 1] != '"')
          return false;
        k += 2;
        a.has_value = true;
        while (k < html.size() && html[k] != '"') {
          auto vc = uc(html[k]);
          if (vc == '<' || vc == '>')
            return false;
          if (vc == '&') {
            uint32_t cp;
            auto n = parse_entity(html, k, cp);
            if (n == 0)
              return false;
            append_utf8(a.value, cp);
            k += n;
          } else {
            a.value += html[k++];
          }
        }
        if (k >= html.size())
          return false;
        ++k; // closing quote
      }
      attrs.push_back(std::move(a));
    }
    if (!attributes_ok(name, info->kind, attrs))
      return false;
    // Nesting: nothing inside code, only a leading code inside pre, pre and
    // blockquote only at top level, no tag inside one of its own kind, no
    // code or link inside a link or blockquote.
    if (!stack.empty()) {
      const auto& top = stack.back();
      if (top.kind == tag_kind::code)
        return false;
      if (top.kind == tag_kind::pre
          && (info->kind != tag_kind::code || top.content_start != tag_start
              || top.has_code_child))
        return false;
      if (info->kind == tag_kind::pre || info->kind == tag_kind::quote)
        return false;
      for (const auto& t : stack) {
        if (t.kind == info->kind)
          return false;
        // Links and blockquotes may hold formatting only, no code or links.
        if ((t.kind == tag_kind::link || t.kind == tag_kind::quote)
            && (info->kind == tag_kind::code || info->kind == tag_kind::link))
          return false;
      }
    }
    stack.push_back(open_tag{name, info->kind, k + 1});
    i = k + 1;
  }
  return stack.empty();
}

size_t html_text_utf16_length(std::string_view html) {
  size_t n = 0;
  size_t i = 0;
  while (i < html.size()) {
    auto c = uc(html[i]);
    if (c == '<') {
      // Attribute values never hold a raw '>' in well-formed input.
      auto end = html.find('>', i);
      if (end == std::string_view::npos)
        break;
      i = end + 1;
    } else if (c == '&') {
      uint32_t cp = 0;
      auto len = parse_entity(html, i, cp);
      if (len == 0) {
        ++n;
        ++i;
      } else {
        n += cp > 0xFFFF ? 2 : 1;
        i += len;
      }
    } else {
      n += (c & 0xC0) == 0x80 ? 0 : (c >= 0xF0 ? 2 : 1);
      ++i;
    }
  }
  return n;
}

bool html_fits(std::string_view html, size_t limit) {
  return html_text_utf16_length(html) <= limit;
}

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
  if (!valid_language(lang))
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

} // namespace zaki
