#define CAF_SUITE storage.database
#include "caf/test/unit_test.hpp"

#include "storage/database.hpp"

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "storage/migrations.hpp"

// The SQLite database: created with mode 0600 in WAL mode, migrated by
// number, newer and corrupt files refused by name; users, usage,
// transcripts (bounded, verbatim) and router state round trip.

using namespace zaki;

namespace {

namespace fs = std::filesystem;

struct temp_dir {
  temp_dir() {
    static int n = 0;
    path = fs::temp_directory_path()
      / ("zaki-db-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const {
    return (path / name).string();
  }
  fs::path path;
};

std::unique_ptr<database> open_ok(const std::string& path) {
  std::string err;
  auto db = database::open(path, err);
  CAF_REQUIRE_EQUAL(err, "");
  CAF_REQUIRE(db != nullptr);
  return db;
}

int64_t pragma_int(database& db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db.handle(), sql, -1, &s, nullptr);
  int64_t v = -1;
  if (sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

std::string pragma_text(database& db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db.handle(), sql, -1, &s, nullptr);
  std::string v;
  if (sqlite3_step(s) == SQLITE_ROW)
    v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  return v;
}

user_record make_user(int64_t id, uint16_t port, std::string status = "") {
  user_record rec;
  rec.user_id = id;
  rec.port = port;
  rec.token = "tok-" + std::to_string(id);
  rec.container = "zaki-user-" + std::to_string(id);
  rec.status = std::move(status);
  return rec;
}

} // namespace

CAF_TEST(a new database is private and in WAL mode at the latest schema) {
  temp_dir dir;
  auto path = dir.file("zaki.db");
  auto db = open_ok(path);
  struct stat sb;
  CAF_REQUIRE_EQUAL(::stat(path.c_str(), &sb), 0);
  CAF_CHECK_EQUAL(sb.st_mode & 0777, 0600u);
  CAF_CHECK_EQUAL(pragma_text(*db, "PRAGMA journal_mode"), "wal");
  CAF_CHECK_EQUAL(pragma_int(*db, "PRAGMA synchronous"), 1); // NORMAL
  CAF_CHECK_EQUAL(pragma_int(*db, "PRAGMA foreign_keys"), 1);
  CAF_CHECK_EQUAL(pragma_int(*db, "PRAGMA user_version"),
                  latest_schema_version());
  for (auto table : {"users", "access", "usage", "conversation", "bots", "kv"})
    CAF_CHECK_EQUAL(
      pragma_int(*db, (std::string{"SELECT count(*) FROM "} + table).c_str()),
      0);
  db.reset();
  // Reopening applies nothing twice.
  db = open_ok(path);
  CAF_CHECK_EQUAL(pragma_int(*db, "PRAGMA user_version"),
                  latest_schema_version());
}

CAF_TEST(a database of a newer version is refused by name) {
  temp_dir dir;
  auto path = dir.file("zaki.db");
  {
    auto db = open_ok(path);
    db->exec("PRAGMA user_version = 99");
  }
  std::string err;
  auto db = database::open(path, err);
  CAF_CHECK(db == nullptr);
  CAF_CHECK(err.find(path) != std::string::npos);
  CAF_CHECK(err.find("newer") != std::string::npos);
}

CAF_TEST(a corrupt file is refused by name with the way out) {
  temp_dir dir;
  auto path = dir.file("zaki.db");
  {
    std::ofstream out{path, std::ios::binary};
    for (int i = 0; i < 512; ++i)
      out << "this is not a database at all ";
  }
  std::string err;
  auto db = database::open(path, err);
  CAF_CHECK(db == nullptr);
  CAF_CHECK(err.find(path) != std::string::npos);
  CAF_CHECK(err.find("users import") != std::string::npos);
}

CAF_TEST(users round trip and page by id and status) {
  temp_dir dir;
  auto db = open_ok(dir.file("zaki.db"));
  for (int64_t id = 1; id <= 25; ++id)
    CAF_REQUIRE_EQUAL(db->put_user(make_user(id,
                                             static_cast<uint16_t>(19000 + id),
                                             id % 5 == 0 ? "stopped" : "")),
                      "");
  std::string err;
  auto rec = db->find_user(7, err);
  CAF_REQUIRE(rec);
  CAF_CHECK(*rec == make_user(7, 19007));
  CAF_CHECK(!db->find_user(99, err));
  CAF_CHECK_EQUAL(err, "");
  // Upsert replaces.
  auto changed = make_user(7, 19107);
  changed.token = "new";
  CAF_CHECK_EQUAL(db->put_user(changed), "");
  CAF_CHECK(*db->find_user(7, err) == changed);
  CAF_CHECK_EQUAL(db->count_users(err), 25u);
  auto page = db->list_users("", 10, 0, err);
  CAF_REQUIRE_EQUAL(page.size(), 10u);
  CAF_CHECK_EQUAL(page.front().user_id, 1);
  CAF_CHECK_EQUAL(page.back().user_id, 10);
  page = db->list_users("", 10, 20, err);
  CAF_REQUIRE_EQUAL(page.size(), 5u);
  CAF_CHECK_EQUAL(page.front().user_id, 21);
  page = db->list_users("stopped", 100, 0, err);
  CAF_REQUIRE_EQUAL(page.size(), 5u);
  CAF_CHECK_EQUAL(page[1].user_id, 10);
  bool removed = false;
  CAF_CHECK_EQUAL(db->remove_user(7, removed), "");
  CAF_CHECK(removed);
  CAF_CHECK_EQUAL(db->remove_user(7, removed), "");
  CAF_CHECK(!removed);
  CAF_CHECK_EQUAL(db->count_users(err), 24u);
}

CAF_TEST(SQL in any text is stored verbatim) {
  temp_dir dir;
  auto db = open_ok(dir.file("zaki.db"));
  std::string evil = "'); DROP TABLE users;--";
  auto rec = make_user(1, 19001, evil);
  rec.token = evil;
  CAF_CHECK_EQUAL(db->put_user(rec), "");
  transcript_entry e{1, 1000, "in", evil, "r-" + evil};
  CAF_CHECK_EQUAL(db->add_transcript(e, 200), "");
  std::string err;
  auto t = db->transcript_of(1, err);
  CAF_REQUIRE_EQUAL(t.size(), 1u);
  CAF_CHECK(t[0] == e);
  CAF_CHECK(*db->find_user(1, err) == rec);
  CAF_CHECK_EQUAL(db->list_users(evil, 10, 0, err).size(), 1u);
  CAF_CHECK_EQUAL(db->count_users(err), 1u);
  CAF_CHECK_EQUAL(db->kv_set(evil, evil), "");
  CAF_CHECK_EQUAL(db->kv_get(evil, err).value_or(""), evil);
}

CAF_TEST(transcripts keep the newest entries and forget deletes them) {
  temp_dir dir;
  auto db = open_ok(dir.file("zaki.db"));
  for (int i = 0; i < 30; ++i) {
    CAF_REQUIRE_EQUAL(
      db->add_transcript({1, i, "in", "m" + std::to_string(i), "r"}, 10), "");
    CAF_REQUIRE_EQUAL(db->add_transcript({2, i, "out", "x", "r"}, 10), "");
  }
  std::string err;
  auto t = db->transcript_of(1, err);
  CAF_REQUIRE_EQUAL(t.size(), 10u);
  CAF_CHECK_EQUAL(t.front().text, "m20");
  CAF_CHECK_EQUAL(t.back().text, "m29");
  uint64_t n = 0;
  CAF_CHECK_EQUAL(db->forget(1, n), "");
  CAF_CHECK_EQUAL(n, 10u);
  CAF_CHECK(db->transcript_of(1, err).empty());
  // Nothing of other users.
  CAF_CHECK_EQUAL(db->transcript_of(2, err).size(), 10u);
}

CAF_TEST(usage adds up per user and day) {
  temp_dir dir;
  auto db = open_ok(dir.file("zaki.db"));
  CAF_CHECK_EQUAL(db->add_usage({1, 1, 10, 20}, "2026-01-01"), "");
  CAF_CHECK_EQUAL(db->add_usage({1, 2, 5, 7}, "2026-01-01"), "");
  CAF_CHECK_EQUAL(db->add_usage({1, 1, 1, 1}, "2026-01-02"), "");
  std::string err;
  CAF_CHECK(db->usage_of(1, "2026-01-01", err) == (usage_record{1, 3, 15, 27}));
  CAF_CHECK(db->usage_of(1, "2026-01-02", err) == (usage_record{1, 1, 1, 1}));
  CAF_CHECK(db->usage_of(2, "2026-01-01", err) == (usage_record{2, 0, 0, 0}));
}

CAF_TEST(a full database refuses writes with an error and keeps reading) {
  temp_dir dir;
  auto db = open_ok(dir.file("zaki.db"));
  CAF_CHECK_EQUAL(db->put_user(make_user(1, 19001)), "");
  db->limit_size(1);
  std::string err;
  std::string big(64 * 1024, 'x');
  for (int i = 0; i < 50 && err.empty(); ++i)
    err = db->add_transcript({1, i, "in", big, "r"}, 1000);
  CAF_CHECK(err.find("full") != std::string::npos);
  std::string read_err;
  CAF_CHECK(db->find_user(1, read_err));
  CAF_CHECK_EQUAL(read_err, "");
}
