#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "messages/types.hpp"

namespace zaki {

class json_writer;

/// The user -> gateway registry as loaded from users.json.
using user_map = std::unordered_map<int64_t, user_record>;

/// Outcome of loading users.json.
struct users_load_result {
  bool ok = false;
  /// What went wrong, naming the line and column for syntax errors.
  std::string error;
  user_map users;
  /// Entries that were skipped (bad id, missing port), with reasons.
  std::vector<std::string> warnings;
};

/// Receives each valid entry of a users.json as it is parsed.
using user_sink = std::function<void(user_record&&)>;

/// Parses users.json text: `{"users": {"<id>": {"port": N, "token": "...",
/// "container": "..."}}}`; further fields are optional. Entries with an
/// invalid id or port are skipped with a warning, never half-loaded.
users_load_result parse_users(std::string text);

/// Parses users.json text and hands each valid entry to `add` instead of
/// collecting them (`users` of the result stays empty). When the result is
/// not ok, the entries handed over so far are to be discarded.
users_load_result parse_users(std::string text, const user_sink& add);

/// Reads and parses a users.json file; a missing file is an empty registry.
users_load_result load_users_file(const std::string& path);

/// Reads a users.json file and hands each valid entry to `add`.
users_load_result load_users_file(const std::string& path,
                                  const user_sink& add);

/// Writes the users.json entry of `rec` (`"<id>": {...}`) into `w`.
void write_user_entry(json_writer& w, const user_record& rec);

/// Returns the JSON text of a registry (sorted by id, stable diffs).
std::string format_users(const user_map& users);

/// Writes `users` atomically: temp file in the same directory, fsync,
/// rename, fsync of the directory; mode 0600. Returns an error text or "".
std::string save_users_file(const std::string& path, const user_map& users);

/// Writes the users.json `text` atomically, as save_users_file does.
std::string save_users_text(const std::string& path, std::string_view text);

/// Returns "line L, column C: what" for the first syntax error of `text`,
/// or an empty string if it is well-formed JSON.
std::string locate_json_error(std::string_view text);

/// Returns whether every string of `text` is closed and its brackets pair
/// up (`{` with `}`, `[` with `]`, at most 512 deep). Not a validation, but
/// a fast, exact test for a truncated document: a cut always leaves a
/// string or a bracket open.
bool json_is_balanced(std::string_view text);

} // namespace zaki
