#include "json/writer.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace zaki {

namespace {

bool needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

/// Returns the index of the first character of `s` from `i` on that needs
/// an escape, or `s.size()`. Reply texts are long and mostly plain, so the
/// scan tests 16 bytes at a time where SSE2 is there.
size_t next_escape(std::string_view s, size_t i) {
#ifdef __SSE2__
  const auto quote = _mm_set1_epi8('"');
  const auto backslash = _mm_set1_epi8('\\');
  const auto control_max = _mm_set1_epi8(0x1F);
  for (; i + 16 <= s.size(); i += 16) {
    auto block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    // Unsigned c <= 0x1F is max(c, 0x1F) == 0x1F.
    auto hits = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(block, quote),
                   _mm_cmpeq_epi8(block, backslash)),
      _mm_cmpeq_epi8(_mm_max_epu8(block, control_max), control_max));
    if (auto mask = _mm_movemask_epi8(hits))
      return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < s.size(); ++i)
    if (needs_escape(static_cast<unsigned char>(s[i])))
      return i;
  return s.size();
}

} // namespace

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  // Each run of characters that need no escape is appended at once.
  size_t run = 0;
  for (size_t i = next_escape(s, 0); i < s.size(); i = next_escape(s, i + 1)) {
    auto c = static_cast<unsigned char>(s[i]);
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0x0F];
    }
  }
  out.append(s.data() + run, s.size() - run);
}

json_writer::json_writer() {
  out_.reserve(256);
}

void json_writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ > 0 && mark_element())
    out_ += ',';
}

void json_writer::push_level() {
  if (depth_ < 64)
    bits_ &= ~(uint64_t{1} << depth_);
  else
    deep_.push_back(false);
  ++depth_;
}

void json_writer::pop_level() {
  if (depth_ == 0)
    return;
  --depth_;
  if (depth_ >= 64)
    deep_.pop_back();
}

bool json_writer::mark_element() {
  auto level = depth_ - 1;
  if (level < 64) {
    auto mask = uint64_t{1} << level;
    bool had = (bits_ & mask) != 0;
    bits_ |= mask;
    return had;
  }
  bool had = deep_.back();
  deep_.back() = true;
  return had;
}

json_writer& json_writer::begin_object() {
  before_value();
  out_ += '{';
  push_level();
  return *this;
}

json_writer& json_writer::end_object() {
  out_ += '}';
  pop_level();
  return *this;
}

json_writer& json_writer::begin_array() {
  before_value();
  out_ += '[';
  push_level();
  return *this;
}

json_writer& json_writer::end_array() {
  out_ += ']';
  pop_level();
  return *this;
}

json_writer& json_writer::key(std::string_view k) {
  before_value();
  out_ += '"';
  append_json_escaped(out_, k);
  out_ += "\":";
  after_key_ = true;
  return *this;
}

json_writer& json_writer::value(std::string_view v) {
  before_value();
  out_ += '"';
  append_json_escaped(out_, v);
  out_ += '"';
  return *this;
}

json_writer& json_writer::value(const char* v) {
  return value(std::string_view{v});
}

template <class Integer>
void json_writer::append_integer(Integer v) {
  before_value();
  char buf[24]; // 20 digits and a sign
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out_.append(buf, static_cast<size_t>(res.ptr - buf));
}

json_writer& json_writer::value(int64_t v) {
  append_integer(v);
  return *this;
}

json_writer& json_writer::value(uint64_t v) {
  append_integer(v);
  return *this;
}

json_writer& json_writer::value(int v) {
  return value(static_cast<int64_t>(v));
}

json_writer& json_writer::value(double v) {
  if (!std::isfinite(v))
    return null();
  before_value();
  char buf[32];
  auto n = std::snprintf(buf, sizeof(buf), "%.17g", v);
  out_.append(buf, static_cast<size_t>(n));
  return *this;
}

json_writer& json_writer::value(bool v) {
  before_value();
  out_ += v ? "true" : "false";
  return *this;
}

json_writer& json_writer::null() {
  before_value();
  out_ += "null";
  return *this;
}

json_writer& json_writer::raw(std::string_view encoded) {
  before_value();
  out_ += encoded;
  return *this;
}

std::string json_writer::take() {
  std::string result;
  result.swap(out_);
  depth_ = 0;
  deep_.clear();
  after_key_ = false;
  return result;
}

} // namespace zaki
