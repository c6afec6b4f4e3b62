#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/writer.h>

namespace zaki {

/// Appends `s` to `out` as the body of a JSON string: quotes, backslashes and
/// control characters are escaped, UTF-8 passes through unchanged.
void append_json_escaped(std::string& out, std::string_view s);

/// Returns the index of the first character of `s` from `i` on that needs
/// an escape in a JSON string, or `s.size()`; 16 bytes at a time with SSE2.
size_t next_json_escape(std::string_view s, size_t i);

/// rapidjson's output stream over a std::string (rapidjson's own
/// StringBuffer would cost a copy per document in `take`).
struct json_sink {
  using Ch = char;

  std::string* out;

  void Put(char c) {
    out->push_back(c);
  }

  void Flush() {
    // nop
  }
};

/// The rapidjson writer behind json_writer. Its stack of open containers
/// lives in a pool over a buffer of the json_writer: no allocation per
/// document for the first levels.
using json_rapid_writer
  = rapidjson::Writer<json_sink, rapidjson::UTF8<>, rapidjson::UTF8<>,
                      rapidjson::MemoryPoolAllocator<>>;

} // namespace zaki

namespace rapidjson {

// rapidjson writes strings and raw values byte by byte through the output
// stream, except into its own StringBuffer, for which it specializes these
// two members to copy runs at once. The same for our sink: reply texts are
// long and mostly plain (benches/README.md, "Library swaps").

template <>
inline bool zaki::json_rapid_writer::ScanWriteUnescapedString(StringStream& is,
                                                              size_t length) {
  std::string_view s{is.head_, length};
  auto from = static_cast<size_t>(is.src_ - is.head_);
  auto stop = zaki::next_json_escape(s, from);
  os_->out->append(is.src_, stop - from);
  is.src_ = is.head_ + stop;
  return stop < length;
}

template <>
inline bool
zaki::json_rapid_writer::WriteRawValue(const char* json, size_t length) {
  os_->out->append(json, length);
  return true;
}

} // namespace rapidjson

namespace zaki {

/// Builds compact JSON text incrementally: sugar over `rapidjson::Writer`
/// (simdjson 3.0.1 has no writer), so every outgoing body (Bot API calls,
/// gateway requests, admin answers) goes through this one small class;
/// rapidjson inserts the commas. Holds a pointer to its own buffer, so it
/// is neither copied nor moved.
class json_writer {
public:
  json_writer();

  json_writer(const json_writer&) = delete;

  json_writer& operator=(const json_writer&) = delete;

  /// Opens an object; as a member, call `key` first.
  json_writer& begin_object();

  /// Closes the innermost object.
  json_writer& end_object();

  /// Opens an array.
  json_writer& begin_array();

  /// Closes the innermost array.
  json_writer& end_array();

  /// Writes the key of the next object member.
  json_writer& key(std::string_view k);

  /// Writes a string value.
  json_writer& value(std::string_view v);

  /// Writes a string value (avoids the bool overload for literals).
  json_writer& value(const char* v);

  /// Writes a signed integer value.
  json_writer& value(int64_t v);

  /// Writes an unsigned integer value.
  json_writer& value(uint64_t v);

  /// Writes an integer value.
  json_writer& value(int v);

  /// Writes a floating-point value (non-finite values become null).
  json_writer& value(double v);

  /// Writes `true` or `false`.
  json_writer& value(bool v);

  /// Writes `null`.
  json_writer& null();

  /// Writes pre-encoded JSON text as the next value.
  json_writer& raw(std::string_view encoded);

  /// Shorthand for `key(k).value(v)`.
  template <class T>
  json_writer& field(std::string_view k, T&& v) {
    key(k);
    return value(std::forward<T>(v));
  }

  /// Returns the text written so far.
  const std::string& str() const {
    return out_;
  }

  /// Moves the text out; the writer is empty afterwards.
  std::string take();

private:
  /// Open levels kept in `stack_buffer_`; deeper documents allocate.
  static constexpr size_t inline_levels = 16;

  // The pool's chunk header and the stack of rapidjson's (count, in array)
  // levels.
  alignas(std::max_align_t) char stack_buffer_[64 + inline_levels * 16];
  rapidjson::MemoryPoolAllocator<> stack_pool_;
  std::string out_;
  json_sink sink_;
  json_rapid_writer writer_;
};

} // namespace zaki
