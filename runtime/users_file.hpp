#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "messages/types.hpp"

namespace zaki {

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

/// Parses users.json text: `{"users": {"<id>": {"port": N, "token": "...",
/// "container": "..."}}}`; further fields are optional. Entries with an
/// invalid id or port are skipped with a warning, never half-loaded.
users_load_result parse_users(std::string text);

/// Reads and parses a users.json file; a missing file is an empty registry.
users_load_result load_users_file(const std::string& path);

/// Returns the JSON text of a registry (sorted by id, stable diffs).
std::string format_users(const user_map& users);

/// Writes `users` atomically: temp file in the same directory, fsync,
/// rename, fsync of the directory; mode 0600. Returns an error text or "".
std::string save_users_file(const std::string& path, const user_map& users);

/// Returns "line L, column C: what" for the first syntax error of `text`,
/// or an empty string if it is well-formed JSON.
std::string locate_json_error(std::string_view text);

/// Returns whether every string of `text` is closed and its brackets pair
/// up (`{` with `}`, `[` with `]`, at most 512 deep). Not a validation, but
/// a fast, exact test for a truncated document: a cut always leaves a
/// string or a bracket open.
bool json_is_balanced(std::string_view text);

} // namespace zaki
