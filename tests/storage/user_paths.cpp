#define CAF_SUITE storage.user_paths

#include "storage/user_paths.hpp"

#include "caf/test/unit_test.hpp"

#include "tests/fixtures/lock_fixture.hpp"

using namespace zaki;

CAF_TEST(user ids are plain positive decimal numbers) {
  CAF_CHECK_EQUAL(parse_user_id("1"), int64_t{1});
  CAF_CHECK_EQUAL(parse_user_id("123456789"), int64_t{123456789});
  CAF_CHECK_EQUAL(parse_user_id("9223372036854775807"), INT64_MAX);
  CAF_CHECK_EQUAL(parse_user_id("007"), int64_t{7});
  for (auto bad :
       {"", "0", "00", "-1", "+1", " 1", "1 ", "1a", "a1", "1.0", "1e3", "0x10",
        "../1", "1/2", "user-1", "9223372036854775808", "99999999999999999999",
        "\xd9\xa1" /* Arabic-Indic one */})
    CAF_CHECK(!parse_user_id(bad).has_value());
  CAF_CHECK(!parse_user_id(std::string_view{"1\0", 2}).has_value());
}

CAF_TEST(user dirs are named by id) {
  CAF_CHECK_EQUAL(user_dir_name(42), "user-42");
  CAF_CHECK_EQUAL(user_data_dir("/data", 42), "/data/users/user-42");
}

CAF_TEST(check_path_in_root refuses escapes and symlinks) {
  test::temp_root tmp;
  auto dir = tmp.make_user("5");
  CAF_CHECK_EQUAL(check_path_in_root(tmp.root, dir), "");
  CAF_CHECK_EQUAL(check_path_in_root(tmp.root + "/", dir + "/x.lock"), "");
  CAF_CHECK_EQUAL(check_path_in_root(tmp.root, tmp.root + "/users/user-9/x"),
                  "");
  CAF_CHECK_NOT_EQUAL(check_path_in_root(tmp.root, tmp.root), "");
  CAF_CHECK_NOT_EQUAL(check_path_in_root(tmp.root, "/etc/passwd"), "");
  CAF_CHECK_NOT_EQUAL(check_path_in_root(tmp.root, tmp.root + "x/users"), "");
  CAF_CHECK_NOT_EQUAL(check_path_in_root(tmp.root, tmp.root + "/users/../.."),
                      "");
  CAF_CHECK_NOT_EQUAL(check_path_in_root(tmp.root, tmp.root + "/users//user-5"),
                      "");
  CAF_REQUIRE_EQUAL(::symlink("/tmp", (tmp.root + "/users/user-6").c_str()), 0);
  auto msg = check_path_in_root(tmp.root, tmp.root + "/users/user-6/x.lock");
  CAF_CHECK_NOT_EQUAL(msg.find("symlink"), std::string::npos);
}

CAF_TEST(open_user_dir never follows a symlink below the root) {
  test::temp_root tmp;
  std::string error;
  // Created on demand, refused without `create`.
  CAF_CHECK(!open_user_dir(tmp.root, 7, false, error));
  CAF_CHECK_NOT_EQUAL(error.find("No such file"), std::string::npos);
  error.clear();
  CAF_CHECK(open_user_dir(tmp.root, 7, true, error));
  CAF_CHECK(test::exists(tmp.root + "/users/user-7"));
  // A symlinked user dir pointing outside the root.
  test::temp_root outside;
  CAF_REQUIRE_EQUAL(
    ::symlink(outside.root.c_str(), (tmp.root + "/users/user-8").c_str()), 0);
  CAF_CHECK(!open_user_dir(tmp.root, 8, true, error));
  CAF_CHECK_NOT_EQUAL(error.find("symlink"), std::string::npos);
  // A symlinked users dir.
  test::temp_root other;
  CAF_REQUIRE_EQUAL(
    ::symlink(outside.root.c_str(), (other.root + "/users").c_str()), 0);
  CAF_CHECK(!open_user_dir(other.root, 1, true, error));
  CAF_CHECK_NOT_EQUAL(error.find("symlink"), std::string::npos);
  CAF_CHECK(!test::exists(outside.root + "/user-1"));
  // A file in place of the user dir.
  CAF_REQUIRE(test::write_file(tmp.root + "/users/user-9", "x"));
  CAF_CHECK(!open_user_dir(tmp.root, 9, true, error));
  CAF_CHECK_NOT_EQUAL(error.find("not a directory"), std::string::npos);
  CAF_CHECK(!open_user_dir(tmp.root, 0, true, error));
  CAF_CHECK(!open_user_dir(tmp.root + "/missing", 1, true, error));
  CAF_CHECK_NOT_EQUAL(error.find("data root"), std::string::npos);
}
