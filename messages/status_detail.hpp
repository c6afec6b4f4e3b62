#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/config_value.hpp>
#include <caf/settings.hpp>

namespace zaki {

/// Builds the typed `detail` of a `status_node` (actor-specific fields) with
/// the same sugar as `json_writer`, so a status handler reads like the JSON
/// it becomes; the admin encodes it to JSON only at the HTTP edge
/// (`admin/http.cpp`) and readers (readiness checks, metrics, the demo) read
/// typed values instead of parsing text the router wrote itself.
///
/// Integers are stored as `int64_t` (config_value's integer), unsigned
/// counters included. `caf::config_value` has no null: `null()` stores the
/// atom `null`, which the JSON encoder writes as `null` (see `is_null`).
/// Keys are kept sorted (caf::dictionary), so the JSON lists them in
/// alphabetical order.
class status_detail {
public:
  status_detail() = default;

  status_detail(const status_detail&) = delete;

  status_detail& operator=(const status_detail&) = delete;

  /// Opens an object; as a member, call `key` first. The outermost one is
  /// the detail itself.
  status_detail& begin_object();

  /// Closes the innermost object.
  status_detail& end_object();

  /// Opens an array.
  status_detail& begin_array();

  /// Closes the innermost array.
  status_detail& end_array();

  /// Names the next member of the innermost object.
  status_detail& key(std::string_view k);

  status_detail& value(std::string_view v);

  status_detail& value(const char* v);

  status_detail& value(const std::string& v);

  status_detail& value(int64_t v);

  status_detail& value(uint64_t v);

  status_detail& value(int v);

  status_detail& value(uint32_t v);

  status_detail& value(double v);

  status_detail& value(bool v);

  /// Stores "no value" (JSON `null`).
  status_detail& null();

  /// Shorthand for `key(k).value(v)`.
  template <class T>
  status_detail& field(std::string_view k, T&& v) {
    key(k);
    return value(std::forward<T>(v));
  }

  /// Moves the outermost object out; the builder is empty afterwards.
  caf::settings take();

private:
  /// Where the next value goes: a new member of the innermost object (under
  /// the last key) or a new element of the innermost array.
  caf::config_value& next_slot();

  status_detail& put(caf::config_value x);

  caf::config_value root_;
  /// Open objects and arrays, outermost first. Only the innermost grows, so
  /// the pointers to its ancestors stay valid.
  std::vector<caf::config_value*> open_;
  std::string key_;
};

/// True if `x` is the `null` that `status_detail::null` stored.
bool is_null(const caf::config_value& x);

/// The member `key` of `d`, or nullptr.
const caf::config_value* detail_member(const caf::settings& d,
                                       std::string_view key);

/// The integer member `key` of `d`, or `fallback` if missing or not one.
int64_t detail_int(const caf::settings& d, std::string_view key,
                   int64_t fallback = 0);

/// The boolean member `key` of `d`, or `fallback`.
bool detail_bool(const caf::settings& d, std::string_view key,
                 bool fallback = false);

/// The string member `key` of `d`, or an empty string.
std::string detail_string(const caf::settings& d, std::string_view key);

/// The array member `key` of `d`, or nullptr.
const caf::config_value::list* detail_list(const caf::settings& d,
                                           std::string_view key);

/// `x` as an object, or nullptr (e.g. one element of a `detail_list`).
const caf::settings* as_object(const caf::config_value& x);

} // namespace zaki
