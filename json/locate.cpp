// Where a document is broken: simdjson reports what failed but not the line
// and column, and an operator fixing users.json by hand needs both, so the
// document is validated a second time with rapidjson, whose reader stops at
// the first error and says where. And a fast balance test that tells a
// truncated document from a complete one, which simdjson's on-demand parser
// does not check.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#ifdef __SSE2__
#  include <emmintrin.h>
#endif

namespace zaki {

namespace {

/// Ignores every value, but stops the parser at the 513th open container.
class depth_guard : public rapidjson::BaseReaderHandler<> {
public:
  bool StartObject() {
    return ++depth_ <= max_depth;
  }

  bool EndObject(rapidjson::SizeType) {
    --depth_;
    return true;
  }

  bool StartArray() {
    return ++depth_ <= max_depth;
  }

  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return true;
  }

private:
  static constexpr size_t max_depth = 512;
  size_t depth_ = 0;
};

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// Returns "line L, column C" of byte `pos`; columns count characters.
std::string line_and_column(std::string_view text, size_t pos) {
  size_t line = 1;
  size_t col = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

} // namespace

std::string locate_json_error(std::string_view text) {
  // rapidjson parses a copy in place: it then decodes strings where they
  // are instead of copying each one, which makes it as fast as the
  // hand-written checker it replaced (benches/README.md, "Library swaps").
  // Its recursive parser is the faster one; the handler bounds the
  // recursion by refusing to open a container 512 deep.
  std::string copy{text};
  rapidjson::InsituStringStream in{&copy[0]};
  depth_guard guard;
  rapidjson::Reader reader;
  auto res = reader.Parse<rapidjson::kParseInsituFlag>(in, guard);
  if (res.Code() == rapidjson::kParseErrorTermination)
    return line_and_column(text, res.Offset()) + ": nesting too deep";
  if (!res.IsError()) {
    // rapidjson takes a NUL byte for the end of the input.
    if (in.Tell() < text.size())
      return line_and_column(text, in.Tell())
        + ": unexpected content after the document";
    return {};
  }
  auto pos = res.Offset();
  // rapidjson stops after the letters of a bad literal ("tru"): point at
  // its start, where the operator has to look.
  if (res.Code() == rapidjson::kParseErrorValueInvalid)
    while (pos > 0 && pos <= text.size() && is_letter(text[pos - 1]))
      --pos;
  return line_and_column(text, pos) + ": "
    + rapidjson::GetParseError_En(res.Code());
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
      case '"': in_string_ = true; return true;
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
      default: return true; // a backslash outside a string: not ours to judge
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
