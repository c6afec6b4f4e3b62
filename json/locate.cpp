// A small recursive-descent JSON checker whose only job is to say *where*
// a document is broken: simdjson reports what failed but not the line and
// column, and an operator fixing users.json by hand needs both. And a fast
// balance test that tells a truncated document from a complete one, which
// simdjson's on-demand parser does not check.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace zaki {

namespace {

class locator {
public:
  explicit locator(std::string_view text) : text_(text) {
    // nop
  }

  std::string run() {
    skip_ws();
    if (!value(0))
      return where();
    skip_ws();
    if (pos_ != text_.size()) {
      what_ = "unexpected content after the document";
      return where();
    }
    return {};
  }

private:
  std::string where() const {
    size_t line = 1;
    size_t col = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) {
        ++col;
      }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(col)
           + ": " + what_;
  }

  bool fail(const char* what) {
    what_ = what;
    return false;
  }

  void skip_ws() {
    while (pos_ < text_.size()
           && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r'
               || text_[pos_] == '\t'))
      ++pos_;
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word)
      return fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool string() {
    ++pos_; // opening quote
    while (pos_ < text_.size()) {
      auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20)
        return fail("control character in a string");
      if (c == '\\') {
        ++pos_;
        if (pos_ >= text_.size())
          break;
        auto e = text_[pos_];
        if (e == 'u') {
          for (int i = 1; i <= 4; ++i)
            if (pos_ + i >= text_.size() || !isxdigit(text_[pos_ + i]))
              return fail("invalid \\u escape");
          pos_ += 4;
        } else if (std::string_view{"\"\\/bfnrt"}.find(e)
                   == std::string_view::npos) {
          return fail("invalid escape");
        }
      }
      ++pos_;
    }
    return fail("unterminated string");
  }

  bool number() {
    auto start = pos_;
    if (text_[pos_] == '-')
      ++pos_;
    size_t digits = 0;
    while (pos_ < text_.size()
           && (isdigit(text_[pos_]) || text_[pos_] == '.' || text_[pos_] == 'e'
               || text_[pos_] == 'E' || text_[pos_] == '+'
               || text_[pos_] == '-')) {
      digits += isdigit(text_[pos_]) ? 1 : 0;
      ++pos_;
    }
    if (digits == 0) {
      pos_ = start;
      return fail("invalid number");
    }
    return true;
  }

  static bool isdigit(char c) {
    return c >= '0' && c <= '9';
  }

  static bool isxdigit(char c) {
    return isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  bool container(size_t depth, char close, bool is_object) {
    ++pos_;
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == close) {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (is_object) {
        if (pos_ >= text_.size() || text_[pos_] != '"')
          return fail("expected a quoted key");
        if (!string())
          return false;
        skip_ws();
        if (pos_ >= text_.size() || text_[pos_] != ':')
          return fail("expected ':' after a key");
        ++pos_;
        skip_ws();
      }
      if (!value(depth + 1))
        return false;
      skip_ws();
      if (pos_ >= text_.size())
        return fail(is_object ? "unterminated object" : "unterminated array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == close) {
        ++pos_;
        return true;
      }
      return fail(is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }

  bool value(size_t depth) {
    if (depth > 512)
      return fail("nesting too deep");
    if (pos_ >= text_.size())
      return fail("unexpected end of input");
    switch (text_[pos_]) {
      case '{':
        return container(depth, '}', true);
      case '[':
        return container(depth, ']', false);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        if (text_[pos_] == '-' || isdigit(text_[pos_]))
          return number();
        return fail("unexpected character");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  const char* what_ = "";
};

} // namespace

std::string locate_json_error(std::string_view text) {
  return locator{text}.run();
}

namespace {

/// The state of `json_is_balanced` between two bytes that matter.
class balance_scan {
public:
  /// Takes the byte `c` at `pos`, one of `"`, `\\`, `{`, `}`, `[` and `]`;
  /// returns false when the brackets cannot balance any more.
  bool take(char c, size_t pos) {
    if (in_string_) {
      if (pos == escaped_)
        return true;
      if (c == '\\')
        escaped_ = pos + 1; // whatever comes next is part of the string
      else if (c == '"')
        in_string_ = false;
      return true;
    }
    switch (c) {
      case '"':
        in_string_ = true;
        return true;
      case '{':
      case '[':
        if (depth_ == max_depth)
          return false;
        if (c == '{')
          kinds_[depth_ / 64] |= uint64_t{1} << (depth_ % 64);
        else
          kinds_[depth_ / 64] &= ~(uint64_t{1} << (depth_ % 64));
        ++depth_;
        return true;
      case '}':
      case ']': {
        if (depth_ == 0)
          return false;
        --depth_;
        bool object = (kinds_[depth_ / 64] >> (depth_ % 64)) & 1;
        return object == (c == '}');
      }
      default:
        return true; // a backslash outside a string: not ours to judge
    }
  }

  bool balanced() const {
    return !in_string_ && depth_ == 0;
  }

  static bool matters(char c) {
    return c == '"' || c == '\\' || c == '{' || c == '}' || c == '['
           || c == ']';
  }

private:
  static constexpr size_t max_depth = 512;
  // One bit per open bracket: 1 for an object, 0 for an array.
  uint64_t kinds_[max_depth / 64] = {};
  size_t depth_ = 0;
  bool in_string_ = false;
  size_t escaped_ = static_cast<size_t>(-1);
};

} // namespace

bool json_is_balanced(std::string_view text) {
  balance_scan scan;
  const char* p = text.data();
  size_t n = text.size();
  size_t i = 0;
#ifdef __SSE2__
  // Sixteen bytes at a time: most bytes are letters and digits, and a
  // block without any of the six bytes that matter is skipped at once.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i open_brace = _mm_set1_epi8('{');
  const __m128i close_brace = _mm_set1_epi8('}');
  const __m128i open_bracket = _mm_set1_epi8('[');
  const __m128i close_bracket = _mm_set1_epi8(']');
  for (; i + 16 <= n; i += 16) {
    auto block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    auto hits = _mm_or_si128(
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(block, quote),
                                _mm_cmpeq_epi8(block, backslash)),
                   _mm_or_si128(_mm_cmpeq_epi8(block, open_brace),
                                _mm_cmpeq_epi8(block, close_brace))),
      _mm_or_si128(_mm_cmpeq_epi8(block, open_bracket),
                   _mm_cmpeq_epi8(block, close_bracket)));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(hits));
    while (mask != 0) {
      auto bit = static_cast<size_t>(__builtin_ctz(mask));
      mask &= mask - 1;
      if (!scan.take(p[i + bit], i + bit))
        return false;
    }
  }
#endif
  for (; i < n; ++i)
    if (balance_scan::matters(p[i]) && !scan.take(p[i], i))
      return false;
  return scan.balanced();
}

} // namespace zaki
