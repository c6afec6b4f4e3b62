#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zaki {

class database;

/// Outcome of importing users.json into the database.
struct import_report {
  bool ok = false;
  /// The file does not exist (nothing imported, nothing changed).
  bool missing = false;
  /// What went wrong: line and column for a file that does not parse, the
  /// offending ids for duplicates. Nothing was imported then.
  std::string error;
  uint64_t imported = 0;
  /// Entries skipped (bad id or port), as users.json loading reports them.
  std::vector<std::string> warnings;
  /// Users sharing a port or container with the static backend (allowed).
  std::string shared_note;
  /// The file's modification time, in nanoseconds since the epoch.
  int64_t mtime_ns = 0;
};

/// Imports users.json at `path` into `db` (upsert, one savepoint: a file
/// that does not parse changes nothing). With `unique_gateways` (the process
/// and docker backends, one container per user), users sharing a port or a
/// container name are refused with their ids; without (static), they are
/// allowed and described in `shared_note`. Records the file's mtime in the
/// kv table. Memory stays bounded by the file's text.
import_report import_users(database& db, const std::string& path,
                           bool unique_gateways);

/// Returns whether `path` exists and was modified after the last import.
bool users_file_is_newer(database& db, const std::string& path);

/// Writes every user of `db` to `path` in the users.json format, atomically
/// (temp file, fsync, rename) with mode 0600, streaming. Returns an error
/// text or ""; `count` is the number of users written.
std::string export_users(database& db, const std::string& path,
                         uint64_t& count);

} // namespace zaki
