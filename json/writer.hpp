#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zaki {

/// Appends `s` to `out` as the body of a JSON string: quotes, backslashes and
/// control characters are escaped, UTF-8 passes through unchanged.
void append_json_escaped(std::string& out, std::string_view s);

/// Builds compact JSON text incrementally. simdjson 3.0.1 has no writer, so
/// every outgoing body (Bot API calls, gateway requests, admin answers) goes
/// through this one small class; commas are inserted automatically.
class json_writer {
public:
  json_writer();

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
  void before_value();

  /// Writes an integer without a temporary string.
  template <class Integer>
  void append_integer(Integer v);

  std::string out_;
  /// Opens a container level (no element yet).
  void push_level();

  void pop_level();

  /// Marks that the innermost container got an element; returns whether it
  /// had one before (a comma is due).
  bool mark_element();

  // One bit per open container, set once it holds an element: the first 64
  // levels inline (no allocation per document), deeper ones in `deep_`.
  uint64_t bits_ = 0;
  size_t depth_ = 0;
  std::vector<bool> deep_;
  bool after_key_ = false;
};

} // namespace zaki
