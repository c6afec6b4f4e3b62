#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/types.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace zaki {

/// One SQLite connection on the router's database (`{data_root}/zaki.db`):
/// users, access decisions, usage per day, bounded transcripts, user-owned
/// bots and router state. Owned by one thread at a time (the store's worker,
/// or a CLI); every statement binds its parameters, none is built from
/// text. Every write returns an error text or "" so that a full disk or a
/// read-only file is reported, never thrown.
class database {
public:
  /// Opens (or creates, mode 0600) the database at `path` in WAL mode with
  /// `synchronous=NORMAL`, foreign keys on and a busy timeout, then applies
  /// the migrations. Returns nullptr and sets `err` for a file that is not
  /// a database, a newer schema or an unwritable directory; the message
  /// names the file.
  static std::unique_ptr<database> open(const std::string& path,
                                        std::string& err);

  ~database();

  database(const database&) = delete;
  database& operator=(const database&) = delete;

  const std::string& path() const noexcept {
    return path_;
  }

  sqlite3* handle() const noexcept {
    return db_;
  }

  // -- transactions -----------------------------------------------------------

  /// Runs `sql` without parameters (BEGIN, COMMIT, SAVEPOINT, pragmas).
  std::string exec(const char* sql);

  // -- users ------------------------------------------------------------------

  /// Looks `id` up; `err` is set when the query itself failed.
  std::optional<user_record> find_user(int64_t id, std::string& err);

  /// Adds or replaces a user.
  std::string put_user(const user_record& rec);

  /// Removes a user with their transcript, access decision and bots.
  std::string remove_user(int64_t id, bool& removed);

  /// Returns up to `limit` users with an id above `after`, by id, of status
  /// `status` (empty: any).
  std::vector<user_record> list_users(const std::string& status, size_t limit,
                                      int64_t after, std::string& err);

  /// Hands every user to `f`, by id, without holding them all.
  std::string for_each_user(const std::function<void(const user_record&)>& f);

  /// Returns the number of registered users.
  uint64_t count_users(std::string& err);

  /// Returns the first groups of users sharing a gateway (host and port) or
  /// a container name, as "port 19001: 2 users (ids 5 to 9)", or "".
  std::string shared_gateways(std::string& err);

  // -- usage and transcripts --------------------------------------------------

  /// Adds `u` to the counters of its user on `day` (YYYY-MM-DD, UTC).
  std::string add_usage(const usage_record& u, const std::string& day);

  /// Returns the counters of `user` on `day` (zeros when none).
  usage_record usage_of(int64_t user, const std::string& day, std::string& err);

  /// Appends a transcript entry and prunes the user's oldest ones beyond
  /// `limit`.
  std::string add_transcript(const transcript_entry& e, size_t limit);

  /// Appends entries of several users and prunes each user once (a flush
  /// of the store's batch).
  std::string add_transcripts(const std::vector<transcript_entry>& entries,
                              size_t limit);

  /// Returns the user's transcript, oldest first.
  std::vector<transcript_entry> transcript_of(int64_t user, std::string& err);

  /// Deletes the user's transcript; `removed` counts the entries.
  std::string forget(int64_t user, uint64_t& removed);

  // -- access decisions (issue 23) -------------------------------------------

  /// Returns the decision about `id` and whether they have a container.
  access_record access_of(int64_t id, std::string& err);

  /// Returns the sum of `user`'s counters from day `from` to day `to`
  /// (YYYY-MM-DD, inclusive): /usage's today and this month.
  usage_record usage_between(int64_t user, const std::string& from,
                             const std::string& to, std::string& err);

  /// Records a decision (replaces any earlier one).
  std::string set_access(const access_record& rec);

  /// Returns up to `limit` decisions of `status` ("" any), by user id.
  std::vector<access_record> list_access(const std::string& status,
                                         size_t limit, std::string& err);

  // -- router state -----------------------------------------------------------

  /// Returns the value of `key`, if set.
  std::optional<std::string> kv_get(const std::string& key, std::string& err);

  /// Sets `key` to `value`.
  std::string kv_set(const std::string& key, const std::string& value);

  /// Caps the file at about `bytes` (never below its current size): writes
  /// beyond fail as on a full disk. 0 lifts the cap.
  void limit_size(uint64_t bytes);

  /// Returns "ok" or the findings of `PRAGMA integrity_check`.
  std::string integrity_check();

private:
  database(sqlite3* db, std::string path);

  std::string insert_transcript(const transcript_entry& e);
  std::string prune_transcript(int64_t user, size_t limit);

  /// Returns the cached statement of `sql`, reset and unbound.
  sqlite3_stmt* prepare(const char* sql, std::string& err);

  /// Returns the connection's current error text, naming the file.
  std::string error_text() const;

  sqlite3* db_;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

/// Returns the database path of the settings: `store.database`, or
/// `{data_root}/zaki.db` when empty.
std::string database_path(const std::string& configured,
                          const std::string& data_root);

/// Opens the database at `path` and returns every user (the provisioner's
/// seed with the process and docker backends, bounded by the port range).
std::vector<user_record> load_all_users(const std::string& path,
                                        std::string& err);

/// Returns today's date (UTC) as YYYY-MM-DD.
std::string utc_day();

} // namespace zaki
