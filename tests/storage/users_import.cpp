#define CAF_SUITE storage.users_import
#include "caf/test/unit_test.hpp"

#include "storage/users_import.hpp"

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/database.hpp"
#include "storage/users_file.hpp"

// users.json into the database and back: upserts in one savepoint, a file
// that does not parse changes nothing, shared gateways refused where every
// user has a container of their own, a missing file keeps the users, and
// the export is the seed's format, atomic, mode 0600.

using namespace zaki;

namespace {

namespace fs = std::filesystem;

struct temp_dir {
  temp_dir() {
    static int n = 0;
    path = fs::temp_directory_path()
      / ("zaki-import-" + std::to_string(::getpid()) + "-"
         + std::to_string(++n));
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

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << text;
}

struct fixture {
  temp_dir dir;
  std::string json = dir.file("users.json");
  std::unique_ptr<database> db;
  fixture() {
    std::string err;
    db = database::open(dir.file("zaki.db"), err);
    CAF_REQUIRE(db != nullptr);
  }
  uint64_t count() {
    std::string err;
    return db->count_users(err);
  }
};

constexpr const char* two_users = R"({"users": {
  "1": {"port": 19001, "token": "a", "container": "zaki-user-1"},
  "2": {"port": 19002, "token": "b"}}})";

} // namespace

CAF_TEST_FIXTURE_SCOPE(users_import_tests, fixture)

CAF_TEST(import upserts and remembers the time of the file) {
  write_file(json, two_users);
  CAF_CHECK(users_file_is_newer(*db, json));
  auto rep = import_users(*db, json, true);
  CAF_REQUIRE(rep.ok);
  CAF_CHECK_EQUAL(rep.imported, 2u);
  CAF_CHECK_EQUAL(count(), 2u);
  CAF_CHECK(!users_file_is_newer(*db, json));
  std::string err;
  auto two = db->find_user(2, err);
  CAF_REQUIRE(two);
  CAF_CHECK_EQUAL(two->container, "zaki-user-2");
  // A changed file is newer again; its entries replace, others stay.
  write_file(json, R"({"users": {"2": {"port": 19022, "token": "b2"},
                                 "3": {"port": 19003, "token": "c"}}})");
  struct timespec times[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  times[1].tv_sec = ::time(nullptr) + 5;
  times[1].tv_nsec = 0;
  ::utimensat(AT_FDCWD, json.c_str(), times, 0);
  CAF_CHECK(users_file_is_newer(*db, json));
  rep = import_users(*db, json, true);
  CAF_REQUIRE(rep.ok);
  CAF_CHECK_EQUAL(count(), 3u);
  two = db->find_user(2, err);
  CAF_REQUIRE(two);
  CAF_CHECK_EQUAL(two->port, 19022u);
}

CAF_TEST(a file that does not parse imports nothing) {
  write_file(json, two_users);
  CAF_REQUIRE(import_users(*db, json, true).ok);
  write_file(json,
             "{\"users\": {\"5\": {\"port\": 19005, \"token\": \"x\"},\n"
             "\"6\": {\"port\": }}}");
  auto rep = import_users(*db, json, true);
  CAF_CHECK(!rep.ok);
  CAF_CHECK(rep.error.find("line 2, column") != std::string::npos);
  CAF_CHECK_EQUAL(count(), 2u);
  std::string err;
  CAF_CHECK(!db->find_user(5, err));
}

CAF_TEST(a missing file changes nothing) {
  write_file(json, two_users);
  CAF_REQUIRE(import_users(*db, json, true).ok);
  fs::remove(json);
  CAF_CHECK(!users_file_is_newer(*db, json));
  auto rep = import_users(*db, json, true);
  CAF_CHECK(!rep.ok);
  CAF_CHECK(rep.missing);
  CAF_CHECK_EQUAL(count(), 2u);
}

CAF_TEST(shared ports or containers are refused with their ids or noted) {
  write_file(json, R"({"users": {
    "11": {"port": 19001, "token": "a"},
    "12": {"port": 19001, "token": "b"},
    "13": {"port": 19003, "token": "c", "container": "shared"},
    "14": {"port": 19004, "token": "d", "container": "shared"}}})");
  auto rep = import_users(*db, json, true);
  CAF_CHECK(!rep.ok);
  CAF_CHECK(rep.error.find("port 19001: 2 users (ids 11 to 12)")
            != std::string::npos);
  CAF_CHECK(rep.error.find("container shared: 2 users (ids 13 to 14)")
            != std::string::npos);
  CAF_CHECK_EQUAL(count(), 0u);
  // The static backend: one gateway may serve several users.
  rep = import_users(*db, json, false);
  CAF_CHECK(rep.ok);
  CAF_CHECK(rep.shared_note.find("port 19001") != std::string::npos);
  CAF_CHECK_EQUAL(count(), 4u);
}

CAF_TEST(export writes the seed format atomically with mode 0600) {
  write_file(json, R"({"users": {
    "1": {"port": 19001, "token": "a\"}{", "container": "zaki-user-1",
          "status": "running", "created_at": "2026-01-01T00:00:00Z"},
    "2": {"port": 19002, "token": "b", "host": "10.0.0.2"}}})");
  CAF_REQUIRE(import_users(*db, json, true).ok);
  auto out = dir.file("export.json");
  uint64_t n = 0;
  CAF_REQUIRE_EQUAL(export_users(*db, out, n), "");
  CAF_CHECK_EQUAL(n, 2u);
  struct stat sb;
  CAF_REQUIRE_EQUAL(::stat(out.c_str(), &sb), 0);
  CAF_CHECK_EQUAL(sb.st_mode & 0777, 0600u);
  auto a = load_users_file(json);
  auto b = load_users_file(out);
  CAF_REQUIRE(b.ok);
  CAF_CHECK(a.users == b.users);
  // An empty database exports an empty registry that loads.
  std::string err;
  for (int64_t id : {1, 2}) {
    bool removed = false;
    db->remove_user(id, removed);
  }
  CAF_REQUIRE_EQUAL(export_users(*db, out, n), "");
  CAF_CHECK_EQUAL(n, 0u);
  auto c = load_users_file(out);
  CAF_CHECK(c.ok);
  CAF_CHECK(c.users.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
