#include "storage/database.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "storage/migrations.hpp"

namespace zaki {

namespace {

/// Binds a text parameter; SQLITE_TRANSIENT because callers' strings may
/// not outlive the step.
void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()),
                    SQLITE_TRANSIENT);
}

std::string column_text(sqlite3_stmt* s, int i) {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string{p, static_cast<size_t>(sqlite3_column_bytes(s, i))}
           : std::string{};
}

constexpr const char* user_columns
  = "id, host, port, token, container, status, data_dir, created_at";

user_record read_user(sqlite3_stmt* s) {
  user_record rec;
  rec.user_id = sqlite3_column_int64(s, 0);
  rec.host = column_text(s, 1);
  rec.port = static_cast<uint16_t>(sqlite3_column_int(s, 2));
  rec.token = column_text(s, 3);
  rec.container = column_text(s, 4);
  rec.status = column_text(s, 5);
  rec.data_dir = column_text(s, 6);
  rec.created_at = column_text(s, 7);
  return rec;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

const std::string& select_user_sql() {
  static const std::string sql = std::string{"SELECT "} + user_columns
    + " FROM users WHERE id = ?1";
  return sql;
}

const std::string& list_users_sql() {
  static const std::string sql = std::string{"SELECT "} + user_columns
    + " FROM users WHERE id > ?1 AND (?2 = '' OR"
      " status = ?2) ORDER BY id LIMIT ?3";
  return sql;
}

const std::string& all_users_sql() {
  static const std::string sql = std::string{"SELECT "} + user_columns
    + " FROM users ORDER BY id";
  return sql;
}

} // namespace

std::string database_path(const std::string& configured,
                          const std::string& data_root) {
  if (!configured.empty())
    return configured;
  return data_root + "/zaki.db";
}

std::vector<user_record> load_all_users(const std::string& path,
                                        std::string& err) {
  std::vector<user_record> result;
  auto db = database::open(path, err);
  if (!db)
    return result;
  err = db->for_each_user([&result](const user_record& rec) {
    result.push_back(rec);
  });
  return result;
}

std::string utc_day() {
  auto t
    = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm parts{};
  gmtime_r(&t, &parts);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &parts);
  return buf;
}

std::unique_ptr<database> database::open(const std::string& path,
                                         std::string& err) {
  // SQLite creates files with 0644; creating it first gives the mode the
  // secrets in it need (the WAL and shm files inherit it).
  // ":memory:" is the fallback of a router whose data root is not writable.
  if (path != ":memory:") {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      err = "cannot open " + path + ": " + std::strerror(errno);
      return nullptr;
    }
    ::close(fd);
  }
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(
    path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    err = "cannot open " + path + ": "
      + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<database> result{new database(db, path)};
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  for (auto pragma :
       {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
        "PRAGMA foreign_keys = ON"}) {
    if (auto e = result->exec(pragma); !e.empty()) {
      auto code = sqlite3_errcode(db) & 0xff;
      if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        err = path + " is not a usable database (" + e
          + "): move it aside and rebuild the users with "
            "`zaki-router users import FILE`";
      else
        err = "cannot set up " + path + ": " + e;
      return nullptr;
    }
  }
  if (auto e = apply_migrations(db, path); !e.empty()) {
    auto code = sqlite3_errcode(db) & 0xff;
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
      err = path + " is not a usable database (" + e
        + "): move it aside and rebuild the users with "
          "`zaki-router users import FILE`";
    else
      err = e;
    return nullptr;
  }
  return result;
}

database::database(sqlite3* db, std::string path)
  : db_(db), path_(std::move(path)) {
  // nop
}

database::~database() {
  for (auto& [sql, stmt] : cache_)
    sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

std::string database::error_text() const {
  return path_ + ": " + sqlite3_errmsg(db_);
}

std::string database::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) == SQLITE_OK)
    return {};
  std::string err = msg ? msg : sqlite3_errmsg(db_);
  sqlite3_free(msg);
  return path_ + ": " + err;
}

sqlite3_stmt* database::prepare(const char* sql, std::string& err) {
  if (auto i = cache_.find(sql); i != cache_.end()) {
    sqlite3_reset(i->second);
    sqlite3_clear_bindings(i->second);
    return i->second;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                         nullptr)
      != SQLITE_OK) {
    err = error_text();
    return nullptr;
  }
  cache_.emplace(sql, stmt);
  return stmt;
}

std::optional<user_record> database::find_user(int64_t id, std::string& err) {
  auto s = prepare(select_user_sql().c_str(), err);
  if (!s)
    return std::nullopt;
  sqlite3_bind_int64(s, 1, id);
  auto rc = sqlite3_step(s);
  std::optional<user_record> result;
  if (rc == SQLITE_ROW)
    result = read_user(s);
  else if (rc != SQLITE_DONE)
    err = error_text();
  sqlite3_reset(s);
  return result;
}

std::string database::put_user(const user_record& rec) {
  std::string err;
  auto s = prepare("INSERT INTO users (id, host, port, token, container, "
                   "status, data_dir, created_at, updated_at) VALUES "
                   "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (id) DO "
                   "UPDATE SET host = ?2, port = ?3, token = ?4, container = "
                   "?5, status = ?6, data_dir = ?7, created_at = ?8, "
                   "updated_at = ?9",
                   err);
  if (!s)
    return err;
  sqlite3_bind_int64(s, 1, rec.user_id);
  bind_text(s, 2, rec.host);
  sqlite3_bind_int(s, 3, rec.port);
  bind_text(s, 4, rec.token);
  bind_text(s, 5, rec.container);
  bind_text(s, 6, rec.status);
  bind_text(s, 7, rec.data_dir);
  bind_text(s, 8, rec.created_at);
  sqlite3_bind_int64(s, 9, unix_now());
  if (sqlite3_step(s) != SQLITE_DONE)
    err = error_text();
  sqlite3_reset(s);
  return err;
}

std::string database::remove_user(int64_t id, bool& removed) {
  removed = false;
  std::string err;
  auto s = prepare("DELETE FROM users WHERE id = ?1", err);
  if (!s)
    return err;
  sqlite3_bind_int64(s, 1, id);
  if (sqlite3_step(s) != SQLITE_DONE)
    err = error_text();
  else
    removed = sqlite3_changes(db_) > 0;
  sqlite3_reset(s);
  if (!err.empty())
    return err;
  uint64_t ignored = 0;
  return forget(id, ignored);
}

std::vector<user_record> database::list_users(const std::string& status,
                                              size_t limit, int64_t after,
                                              std::string& err) {
  std::vector<user_record> result;
  auto s = prepare(list_users_sql().c_str(), err);
  if (!s)
    return result;
  sqlite3_bind_int64(s, 1, after);
  bind_text(s, 2, status);
  sqlite3_bind_int64(s, 3, static_cast<int64_t>(limit));
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    result.push_back(read_user(s));
  if (rc != SQLITE_DONE)
    err = error_text();
  sqlite3_reset(s);
  return result;
}

std::string
database::for_each_user(const std::function<void(const user_record&)>& f) {
  std::string err;
  auto s = prepare(all_users_sql().c_str(), err);
  if (!s)
    return err;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    f(read_user(s));
  if (rc != SQLITE_DONE)
    err = error_text();
  sqlite3_reset(s);
  return err;
}

uint64_t database::count_users(std::string& err) {
  auto s = prepare("SELECT count(*) FROM users", err);
  if (!s)
    return 0;
  uint64_t n = 0;
  if (sqlite3_step(s) == SQLITE_ROW)
    n = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
  else
    err = error_text();
  sqlite3_reset(s);
  return n;
}

std::string database::shared_gateways(std::string& err) {
  std::string result;
  for (auto sql :
       {"SELECT 'port ' || port, count(*), min(id), max(id) FROM users GROUP "
        "BY host, port HAVING count(*) > 1 LIMIT 5",
        "SELECT 'container ' || container, count(*), min(id), max(id) FROM "
        "users WHERE container != '' GROUP BY container HAVING count(*) > 1 "
        "LIMIT 5"}) {
    auto s = prepare(sql, err);
    if (!s)
      return result;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (!result.empty())
        result += "; ";
      result += column_text(s, 0) + ": " + column_text(s, 1) + " users (ids "
        + column_text(s, 2) + " to " + column_text(s, 3) + ")";
    }
    if (rc != SQLITE_DONE)
      err = error_text();
    sqlite3_reset(s);
  }
  return result;
}

std::string database::add_usage(const usage_record& u, const std::string& day) {
  std::string err;
  auto s = prepare("INSERT INTO usage (user_id, day, requests, prompt_tokens, "
                   "completion_tokens) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT "
                   "(user_id, day) DO UPDATE SET requests = requests + ?3, "
                   "prompt_tokens = prompt_tokens + ?4, completion_tokens = "
                   "completion_tokens + ?5",
                   err);
  if (!s)
    return err;
  sqlite3_bind_int64(s, 1, u.user_id);
  bind_text(s, 2, day);
  sqlite3_bind_int64(s, 3, u.requests);
  sqlite3_bind_int64(s, 4, u.prompt_tokens);
  sqlite3_bind_int64(s, 5, u.completion_tokens);
  if (sqlite3_step(s) != SQLITE_DONE)
    err = error_text();
  sqlite3_reset(s);
  return err;
}

usage_record database::usage_of(int64_t user, const std::string& day,
                                std::string& err) {
  usage_record result;
  result.user_id = user;
  auto s = prepare("SELECT requests, prompt_tokens, completion_tokens FROM "
                   "usage WHERE user_id = ?1 AND day = ?2",
                   err);
  if (!s)
    return result;
  sqlite3_bind_int64(s, 1, user);
  bind_text(s, 2, day);
  auto rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    result.requests = sqlite3_column_int64(s, 0);
    result.prompt_tokens = sqlite3_column_int64(s, 1);
    result.completion_tokens = sqlite3_column_int64(s, 2);
  } else if (rc != SQLITE_DONE) {
    err = error_text();
  }
  sqlite3_reset(s);
  return result;
}

std::string database::insert_transcript(const transcript_entry& e) {
  std::string err;
  auto s = prepare("INSERT INTO conversation (user_id, at, direction, text, "
                   "request_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                   err);
  if (!s)
    return err;
  sqlite3_bind_int64(s, 1, e.user_id);
  sqlite3_bind_int64(s, 2, e.at_ms);
  bind_text(s, 3, e.direction);
  bind_text(s, 4, e.text);
  bind_text(s, 5, e.request_id);
  if (sqlite3_step(s) != SQLITE_DONE)
    err = error_text();
  sqlite3_reset(s);
  return err;
}

std::string database::prune_transcript(int64_t user, size_t limit) {
  // Keeps the newest `limit` entries: everything at or below the seq of the
  // entry just past them goes (one index range scan).
  std::string err;
  auto p = prepare("DELETE FROM conversation WHERE user_id = ?1 AND seq <= "
                   "(SELECT seq FROM conversation WHERE user_id = ?1 ORDER BY "
                   "seq DESC LIMIT 1 OFFSET ?2)",
                   err);
  if (!p)
    return err;
  sqlite3_bind_int64(p, 1, user);
  sqlite3_bind_int64(p, 2, static_cast<int64_t>(limit));
  if (sqlite3_step(p) != SQLITE_DONE)
    err = error_text();
  sqlite3_reset(p);
  return err;
}

std::string database::add_transcript(const transcript_entry& e, size_t limit) {
  if (auto err = insert_transcript(e); !err.empty())
    return err;
  return prune_transcript(e.user_id, limit);
}

std::string
database::add_transcripts(const std::vector<transcript_entry>& entries,
                          size_t limit) {
  std::vector<int64_t> users;
  for (auto& e : entries) {
    if (auto err = insert_transcript(e); !err.empty())
      return err;
    if (std::find(users.begin(), users.end(), e.user_id) == users.end())
      users.push_back(e.user_id);
  }
  for (auto user : users)
    if (auto err = prune_transcript(user, limit); !err.empty())
      return err;
  return {};
}

std::vector<transcript_entry> database::transcript_of(int64_t user,
                                                      std::string& err) {
  std::vector<transcript_entry> result;
  auto s = prepare("SELECT at, direction, text, request_id FROM conversation "
                   "WHERE user_id = ?1 ORDER BY seq",
                   err);
  if (!s)
    return result;
  sqlite3_bind_int64(s, 1, user);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    transcript_entry e;
    e.user_id = user;
    e.at_ms = sqlite3_column_int64(s, 0);
    e.direction = column_text(s, 1);
    e.text = column_text(s, 2);
    e.request_id = column_text(s, 3);
    result.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE)
    err = error_text();
  sqlite3_reset(s);
  return result;
}

std::string database::forget(int64_t user, uint64_t& removed) {
  removed = 0;
  std::string err;
  auto s = prepare("DELETE FROM conversation WHERE user_id = ?1", err);
  if (!s)
    return err;
  sqlite3_bind_int64(s, 1, user);
  if (sqlite3_step(s) != SQLITE_DONE)
    err = error_text();
  else
    removed = static_cast<uint64_t>(sqlite3_changes(db_));
  sqlite3_reset(s);
  return err;
}

usage_record database::usage_between(int64_t user, const std::string& from,
                                     const std::string& to, std::string& err) {
  usage_record result;
  result.user_id = user;
  auto s = prepare("SELECT coalesce(sum(requests), 0), "
                   "coalesce(sum(prompt_tokens), 0), "
                   "coalesce(sum(completion_tokens), 0) FROM usage WHERE "
                   "user_id = ?1 AND day >= ?2 AND day <= ?3",
                   err);
  if (!s)
    return result;
  sqlite3_bind_int64(s, 1, user);
  bind_text(s, 2, from);
  bind_text(s, 3, to);
  if (sqlite3_step(s) == SQLITE_ROW) {
    result.requests = sqlite3_column_int64(s, 0);
    result.prompt_tokens = sqlite3_column_int64(s, 1);
    result.completion_tokens = sqlite3_column_int64(s, 2);
  } else {
    err = error_text();
  }
  sqlite3_reset(s);
  return result;
}

access_record database::access_of(int64_t id, std::string& err) {
  access_record result;
  result.user_id = id;
  auto s = prepare("SELECT a.status, a.decided_by, a.decided_at, "
                   "a.requested_at, EXISTS (SELECT 1 FROM users u WHERE u.id "
                   "= ?1) FROM (SELECT 1) LEFT JOIN access_decisions a ON "
                   "a.user_id = ?1",
                   err);
  if (!s)
    return result;
  sqlite3_bind_int64(s, 1, id);
  auto rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    result.status = column_text(s, 0);
    result.decided_by = sqlite3_column_int64(s, 1);
    result.decided_at = sqlite3_column_int64(s, 2);
    result.requested_at = sqlite3_column_int64(s, 3);
    result.has_container = sqlite3_column_int64(s, 4) != 0;
  } else {
    err = error_text();
  }
  sqlite3_reset(s);
  return result;
}

std::string database::set_access(const access_record& rec) {
  std::string err;
  auto s = prepare("INSERT INTO access_decisions (user_id, status, "
                   "decided_by, decided_at, requested_at) VALUES (?1, ?2, "
                   "?3, ?4, ?5) ON CONFLICT (user_id) DO UPDATE SET status "
                   "= ?2, decided_by = ?3, decided_at = ?4, requested_at = "
                   "?5",
                   err);
  if (!s)
    return err;
  sqlite3_bind_int64(s, 1, rec.user_id);
  bind_text(s, 2, rec.status);
  sqlite3_bind_int64(s, 3, rec.decided_by);
  sqlite3_bind_int64(s, 4, rec.decided_at);
  sqlite3_bind_int64(s, 5, rec.requested_at);
  if (sqlite3_step(s) != SQLITE_DONE)
    err = error_text();
  sqlite3_reset(s);
  return err;
}

std::vector<access_record> database::list_access(const std::string& status,
                                                 size_t limit,
                                                 std::string& err) {
  std::vector<access_record> result;
  auto s = prepare("SELECT a.user_id, a.status, a.decided_by, a.decided_at, "
                   "a.requested_at, EXISTS (SELECT 1 FROM users u WHERE u.id "
                   "= a.user_id) FROM access_decisions a WHERE ?1 = '' OR "
                   "a.status = ?1 ORDER BY a.user_id LIMIT ?2",
                   err);
  if (!s)
    return result;
  bind_text(s, 1, status);
  sqlite3_bind_int64(s, 2, static_cast<int64_t>(limit));
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    access_record rec;
    rec.user_id = sqlite3_column_int64(s, 0);
    rec.status = column_text(s, 1);
    rec.decided_by = sqlite3_column_int64(s, 2);
    rec.decided_at = sqlite3_column_int64(s, 3);
    rec.requested_at = sqlite3_column_int64(s, 4);
    rec.has_container = sqlite3_column_int64(s, 5) != 0;
    result.push_back(std::move(rec));
  }
  if (rc != SQLITE_DONE)
    err = error_text();
  sqlite3_reset(s);
  return result;
}

std::optional<std::string> database::kv_get(const std::string& key,
                                            std::string& err) {
  auto s = prepare("SELECT value FROM kv WHERE key = ?1", err);
  if (!s)
    return std::nullopt;
  bind_text(s, 1, key);
  std::optional<std::string> result;
  auto rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    result = column_text(s, 0);
  else if (rc != SQLITE_DONE)
    err = error_text();
  sqlite3_reset(s);
  return result;
}

std::string database::kv_set(const std::string& key, const std::string& value) {
  std::string err;
  auto s = prepare("INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT "
                   "(key) DO UPDATE SET value = ?2",
                   err);
  if (!s)
    return err;
  bind_text(s, 1, key);
  bind_text(s, 2, value);
  if (sqlite3_step(s) != SQLITE_DONE)
    err = error_text();
  sqlite3_reset(s);
  return err;
}

void database::limit_size(uint64_t bytes) {
  // The page count is a pragma argument, not a bindable value: the text is
  // built from a number only.
  auto pages = bytes == 0 ? uint64_t{0xfffffffe} : (bytes + 4095) / 4096;
  exec(("PRAGMA max_page_count = " + std::to_string(pages)).c_str());
}

std::string database::integrity_check() {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA integrity_check", -1, &s, nullptr)
      != SQLITE_OK)
    return error_text();
  std::string result;
  while (sqlite3_step(s) == SQLITE_ROW) {
    if (!result.empty())
      result += "; ";
    result += column_text(s, 0);
  }
  sqlite3_finalize(s);
  return result;
}

} // namespace zaki
