#pragma once

#include <string>

struct sqlite3;

namespace zaki {

/// Returns the schema version this router writes (the last migration).
int latest_schema_version() noexcept;

/// Brings the schema of `db` up to latest_schema_version(), one numbered
/// migration per transaction, each setting `PRAGMA user_version`. Refuses a
/// database from a newer router. Returns an error text or "".
std::string apply_migrations(sqlite3* db, const std::string& path);

} // namespace zaki
