#include "storage/migrations.hpp"

#include <sqlite3.h>

namespace zaki {

namespace {

/// Migration N (1-based) brings the schema from version N-1 to N. Append
/// only: a released migration never changes, since databases in the field
/// already ran it.
constexpr const char* migrations[] = {
  // 1: users, access decisions, usage per day, bounded transcripts, the
  // user-owned bots of a later issue, and router state.
  R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  host TEXT NOT NULL DEFAULT '127.0.0.1',
  port INTEGER NOT NULL,
  token TEXT NOT NULL DEFAULT '',
  container TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT '',
  data_dir TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL DEFAULT 0,
  quota TEXT NOT NULL DEFAULT ''
);
CREATE INDEX users_by_status ON users (status, id);
CREATE TABLE access (
  user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  status TEXT NOT NULL,
  decided_by TEXT NOT NULL DEFAULT '',
  decided_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE usage (
  user_id INTEGER NOT NULL,
  day TEXT NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, day)
) WITHOUT ROWID;
CREATE TABLE conversation (
  seq INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  direction TEXT NOT NULL,
  text TEXT NOT NULL,
  request_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX conversation_by_user ON conversation (user_id, seq);
CREATE TABLE bots (
  id INTEGER PRIMARY KEY,
  owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  username TEXT NOT NULL DEFAULT '',
  token_cipher BLOB NOT NULL,
  token_nonce BLOB NOT NULL,
  status TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX bots_by_owner ON bots (owner_id);
CREATE TABLE kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql",
  // 2: access decisions of users that may have no container yet (pending,
  // approved before provisioning, rejected strangers). The `access` table
  // of migration 1 refers to `users` and cannot hold them.
  R"sql(
CREATE TABLE access_decisions (
  user_id INTEGER PRIMARY KEY,
  status TEXT NOT NULL,
  decided_by INTEGER NOT NULL DEFAULT 0,
  decided_at INTEGER NOT NULL DEFAULT 0,
  requested_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX access_decisions_by_status ON access_decisions (status, user_id);
)sql",
};

constexpr int migration_count = sizeof(migrations) / sizeof(migrations[0]);

std::string exec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) == SQLITE_OK)
    return {};
  std::string err = msg ? msg : sqlite3_errmsg(db);
  sqlite3_free(msg);
  return err;
}

} // namespace

int latest_schema_version() noexcept {
  return migration_count;
}

std::string apply_migrations(sqlite3* db, const std::string& path) {
  sqlite3_stmt* stmt = nullptr;
  int version = 0;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr)
      != SQLITE_OK)
    return sqlite3_errmsg(db);
  auto rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW)
    version = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW)
    return sqlite3_errmsg(db);
  if (version > migration_count)
    return path + " has schema version " + std::to_string(version)
      + ", newer than this zaki-router understands ("
      + std::to_string(migration_count)
      + "): run the newer zaki-router, or export its users and import "
        "them here";
  for (int v = version; v < migration_count; ++v) {
    auto script = std::string{"BEGIN IMMEDIATE;\n"} + migrations[v]
      + "\nPRAGMA user_version = " + std::to_string(v + 1) + ";\nCOMMIT;";
    if (auto err = exec(db, script.c_str()); !err.empty()) {
      exec(db, "ROLLBACK");
      return "migration " + std::to_string(v + 1) + " of " + path
        + " failed: " + err;
    }
  }
  return {};
}

} // namespace zaki
