#include "telegram/html.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

// Two parts: primitives (escaping, UTF-8/UTF-16, URL policy) and the checker
// that guards everything sent with parse_mode HTML. The Markdown converter
// lives in telegram_markdown.cpp and is checked against this file.

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
  auto flush = [&](size_t i) {
    out.append(s.data() + run, i - run);
  };
  for (size_t i = 0; i < s.size();) {
    auto c = uc(s[i]);
    const char* rep = nullptr;
    size_t len = 1;
    if (c < 0x80) {
      switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        default: break;
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

bool is_valid_code_language(std::string_view lang) {
  if (lang.empty() || lang.size() > 32)
    return false;
  for (char c : lang) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
      || (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '#' || c == '.'
      || c == '-';
    if (!ok)
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
  static constexpr named names[]
    = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}};
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
  {"b", tag_kind::bold},
  {"strong", tag_kind::bold},
  {"i", tag_kind::italic},
  {"em", tag_kind::italic},
  {"u", tag_kind::underline},
  {"ins", tag_kind::underline},
  {"s", tag_kind::strike},
  {"strike", tag_kind::strike},
  {"del", tag_kind::strike},
  {"span", tag_kind::spoiler},
  {"tg-spoiler", tag_kind::spoiler},
  {"a", tag_kind::link},
  {"code", tag_kind::code},
  {"pre", tag_kind::pre},
  {"blockquote", tag_kind::quote},
  {"tg-emoji", tag_kind::emoji},
};

struct attribute {
  std::string_view name;
  std::string value; // unescaped
  bool has_value;
};

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
        && is_valid_code_language(std::string_view{attrs[0].value}.substr(9));
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
        && attrs[0].value.find_first_not_of("0123456789") == std::string::npos;
    default: return attrs.empty();
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

} // namespace zaki
