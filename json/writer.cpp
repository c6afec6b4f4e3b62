#include "json/writer.hpp"

#include <cmath>

#ifdef __SSE2__
#  include <emmintrin.h>
#endif

namespace zaki {

namespace {

bool needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

} // namespace

// Reply texts are long and mostly plain, so the scan tests 16 bytes at a
// time where SSE2 is there.
size_t next_json_escape(std::string_view s, size_t i) {
#ifdef __SSE2__
  const auto quote = _mm_set1_epi8('"');
  const auto backslash = _mm_set1_epi8('\\');
  const auto control_max = _mm_set1_epi8(0x1F);
  for (; i + 16 <= s.size(); i += 16) {
    auto block
      = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    // Unsigned c <= 0x1F is max(c, 0x1F) == 0x1F.
    auto hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(block, quote),
                                          _mm_cmpeq_epi8(block, backslash)),
                             _mm_cmpeq_epi8(_mm_max_epu8(block, control_max),
                                            control_max));
    if (auto mask = _mm_movemask_epi8(hits))
      return i
        + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < s.size(); ++i)
    if (needs_escape(static_cast<unsigned char>(s[i])))
      return i;
  return s.size();
}

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  // Each run of characters that need no escape is appended at once.
  size_t run = 0;
  for (size_t i = next_json_escape(s, 0); i < s.size();
       i = next_json_escape(s, i + 1)) {
    auto c = static_cast<unsigned char>(s[i]);
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0x0F];
    }
  }
  out.append(s.data() + run, s.size() - run);
}

json_writer::json_writer()
  : stack_pool_(stack_buffer_, sizeof(stack_buffer_)), sink_{&out_},
    writer_(sink_, &stack_pool_, inline_levels) {
  out_.reserve(256);
}

json_writer& json_writer::begin_object() {
  writer_.StartObject();
  return *this;
}

json_writer& json_writer::end_object() {
  writer_.EndObject();
  return *this;
}

json_writer& json_writer::begin_array() {
  writer_.StartArray();
  return *this;
}

json_writer& json_writer::end_array() {
  writer_.EndArray();
  return *this;
}

json_writer& json_writer::key(std::string_view k) {
  writer_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  return *this;
}

json_writer& json_writer::value(std::string_view v) {
  writer_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  return *this;
}

json_writer& json_writer::value(const char* v) {
  return value(std::string_view{v});
}

json_writer& json_writer::value(int64_t v) {
  writer_.Int64(v);
  return *this;
}

json_writer& json_writer::value(uint64_t v) {
  writer_.Uint64(v);
  return *this;
}

json_writer& json_writer::value(int v) {
  writer_.Int(v);
  return *this;
}

json_writer& json_writer::value(double v) {
  // rapidjson refuses NaN and infinities; JSON has no such numbers.
  if (!std::isfinite(v))
    return null();
  writer_.Double(v);
  return *this;
}

json_writer& json_writer::value(bool v) {
  writer_.Bool(v);
  return *this;
}

json_writer& json_writer::null() {
  writer_.Null();
  return *this;
}

json_writer& json_writer::raw(std::string_view encoded) {
  writer_.RawValue(encoded.data(), encoded.size(), rapidjson::kObjectType);
  return *this;
}

std::string json_writer::take() {
  std::string result;
  result.swap(out_);
  writer_.Reset(sink_);
  // Bodies wait in queues (a reply in the pacer, a request until its
  // answer), 10,000 of them at a burst: most are far shorter than the
  // 256 bytes reserved, and the copy is cheap next to the wait.
  if (result.capacity() - result.size() > 64)
    result.shrink_to_fit();
  return result;
}

} // namespace zaki
