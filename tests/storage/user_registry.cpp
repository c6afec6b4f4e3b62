#define CAF_SUITE storage.user_registry
#include "caf/test/unit_test.hpp"

#include "storage/user_registry.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

// The store's compact copy of users.json: every record comes back exactly
// as it went in (defaults elided, long and odd fields packed), it replaces
// and removes, loads from and saves to the same users.json as a user_map,
// and a file that does not parse leaves it as it was.

using namespace zaki;

namespace {

user_record minimal(int64_t id, uint16_t port, std::string token) {
  user_record rec;
  rec.user_id = id;
  rec.port = port;
  rec.token = std::move(token);
  rec.container = "zaki-user-" + std::to_string(id);
  return rec;
}

/// Records with every kind of field: defaults, others, empty, long.
std::vector<user_record> samples() {
  std::vector<user_record> out;
  out.push_back(
    minimal(123456, 19001, "3f9a0c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"));
  auto custom = minimal(7012345678, 19002, "t");
  custom.host = "10.1.2.3";
  custom.container = "my-own-container";
  custom.status = "running";
  custom.data_dir = "/srv/zaki/data/users/user-7012345678";
  custom.created_at = "2026-12-05T10:00:00Z";
  out.push_back(custom);
  auto empty = minimal(5, 65535, "");
  empty.host = "";
  empty.container = "";
  out.push_back(empty);
  // Lengths of 127, 128 and 20,000 bytes: one, two and three length bytes.
  auto long_fields = minimal(6, 1, std::string(127, 'a'));
  long_fields.status = std::string(128, 'b');
  long_fields.data_dir = std::string(20000, 'c');
  long_fields.created_at = std::string("nul\0inside", 10);
  out.push_back(long_fields);
  // A container named like another user's default is not elided.
  auto other = minimal(8, 19003, "Привет 🌊");
  other.container = "zaki-user-9";
  out.push_back(other);
  return out;
}

std::string temp_dir() {
  char tmpl[] = "/tmp/zaki-registry-XXXXXX";
  return ::mkdtemp(tmpl);
}

} // namespace

CAF_TEST(records come back exactly as they went in) {
  user_registry reg;
  for (auto& rec : samples())
    reg.put(rec);
  CAF_CHECK_EQUAL(reg.size(), samples().size());
  for (auto& rec : samples()) {
    auto back = reg.find(rec.user_id);
    CAF_REQUIRE(back.has_value());
    CAF_CHECK(*back == rec);
  }
  CAF_CHECK(!reg.find(4).has_value());
}

CAF_TEST(put replaces and erase removes) {
  user_registry reg;
  reg.put(minimal(1, 19001, "old"));
  auto rec = minimal(1, 19005, "new");
  rec.status = "stopped";
  reg.put(rec);
  CAF_CHECK_EQUAL(reg.size(), 1u);
  CAF_CHECK(*reg.find(1) == rec);
  CAF_CHECK(reg.erase(1));
  CAF_CHECK(!reg.erase(1));
  CAF_CHECK(reg.empty());
  CAF_CHECK(!reg.find(1).has_value());
}

CAF_TEST(the file is the same as a user_map writes) {
  user_map map;
  for (auto& rec : samples())
    map[rec.user_id] = rec;
  user_registry reg{map};
  CAF_CHECK_EQUAL(format_users(reg), format_users(map));
  CAF_CHECK_EQUAL(reg.sorted_ids(),
                  (std::vector<int64_t>{5, 6, 8, 123456, 7012345678}));
}

CAF_TEST(saved and loaded again) {
  auto dir = temp_dir();
  auto path = dir + "/users.json";
  user_registry reg;
  for (auto& rec : samples())
    reg.put(rec);
  CAF_REQUIRE_EQUAL(save_users_file(path, reg), "");
  CAF_CHECK_EQUAL(
    std::filesystem::status(path).permissions() & std::filesystem::perms::all,
    std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  user_registry loaded;
  auto res = load_user_registry(path, loaded);
  CAF_REQUIRE(res.ok);
  CAF_CHECK(res.users.empty()); // the entries went into the registry
  CAF_CHECK_EQUAL(loaded.size(), reg.size());
  for (auto& rec : samples()) {
    auto back = loaded.find(rec.user_id);
    CAF_REQUIRE(back.has_value());
    // users.json keeps no empty host: it loads as the default.
    auto expected = rec;
    if (expected.host.empty())
      expected.host = "127.0.0.1";
    // ... and a missing container name as the user's default.
    if (expected.container.empty())
      expected.container = "zaki-user-" + std::to_string(rec.user_id);
    CAF_CHECK(*back == expected);
  }
  std::filesystem::remove_all(dir);
}

CAF_TEST(a file that does not parse keeps the registry) {
  auto dir = temp_dir();
  auto path = dir + "/users.json";
  user_registry reg;
  reg.put(minimal(1, 19001, "kept"));
  // Valid entries come before the error: none of them may get in.
  std::ofstream{path} << R"({"users": {"2": {"port": 19002, "token": "x"},)"
                      << R"( "3": {"port": 19003, "token": )";
  auto res = load_user_registry(path, reg);
  CAF_CHECK(!res.ok);
  CAF_CHECK(res.error.find("line 1") != std::string::npos);
  CAF_CHECK_EQUAL(reg.size(), 1u);
  auto kept = reg.find(1);
  CAF_REQUIRE(kept.has_value());
  CAF_CHECK_EQUAL(kept->token, "kept");
  CAF_CHECK(!reg.find(2).has_value());
  // A missing file is an empty registry, as for load_users_file.
  auto missing = load_user_registry(dir + "/none.json", reg);
  CAF_CHECK(missing.ok);
  CAF_CHECK(reg.empty());
  std::filesystem::remove_all(dir);
}
