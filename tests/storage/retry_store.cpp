#define CAF_SUITE storage.retry_store
#include "caf/test/unit_test.hpp"

#include "storage/retry_store.hpp"

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "chat/request_id.hpp"

// The originals behind Retry buttons on disk: atomic 0600 files under the
// user's data dir, one use per record (a replay of the same press excepted),
// expiry after the window, and no trust in what is found there.

using namespace zaki;
namespace fs = std::filesystem;

namespace {

struct fixture {
  fixture() {
    static int counter = 0;
    root = (fs::temp_directory_path()
            / ("zaki-retry-" + std::to_string(::getpid()) + "-"
               + std::to_string(++counter)))
             .string();
    fs::create_directories(root);
  }

  ~fixture() {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }

  retry_record record(int64_t user = 7001, std::string text = "hello") {
    retry_record rec;
    rec.user_id = user;
    rec.chat_id = user;
    rec.request_id = new_request_id();
    rec.text = std::move(text);
    rec.created_at = retry_store::now_seconds();
    return rec;
  }

  std::string file_of(const retry_record& rec) const {
    return root + "/users/user-" + std::to_string(rec.user_id) + "/.zaki-retry/"
      + rec.request_id + ".json";
  }

  std::string root;
};

retry_store make_store(const std::string& root,
                       std::chrono::seconds window = std::chrono::hours(24)) {
  return retry_store{root, window};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(retry_store_tests, fixture)

CAF_TEST(records round trip and garbage is rejected) {
  auto rec = record(7001, "a \"quoted\" <b>text</b> & \xF0\x9F\x98\x80\nline");
  rec.used_by = "cbq-1";
  auto decoded = decode_retry_record(encode_retry_record(rec));
  CAF_REQUIRE(decoded.has_value());
  CAF_CHECK(*decoded == rec);
  CAF_CHECK(!decode_retry_record("").has_value());
  CAF_CHECK(!decode_retry_record("[1,2]").has_value());
  CAF_CHECK(!decode_retry_record("{\"v\":1,\"user_id\":").has_value());
  auto bad = rec;
  bad.request_id = "../../etc/pw";
  CAF_CHECK(!decode_retry_record(encode_retry_record(bad)).has_value());
  bad = rec;
  bad.user_id = -5;
  CAF_CHECK(!decode_retry_record(encode_retry_record(bad)).has_value());
  auto text = encode_retry_record(rec);
  text.replace(text.find("\"v\":1"), 5, "\"v\":9");
  CAF_CHECK(!decode_retry_record(text).has_value());
}

CAF_TEST(a saved record is taken once and a second press is refused) {
  auto s = make_store(root);
  auto rec = record();
  CAF_REQUIRE_EQUAL(s.save(rec), "");
  struct stat st;
  CAF_REQUIRE_EQUAL(::stat(file_of(rec).c_str(), &st), 0);
  CAF_CHECK_EQUAL(st.st_mode & 0777, 0600u);
  auto dir = root + "/users/user-7001/.zaki-retry";
  CAF_REQUIRE_EQUAL(::stat(dir.c_str(), &st), 0);
  CAF_CHECK_EQUAL(st.st_mode & 0777, 0700u);
  auto first = s.take(7001, rec.request_id, "cbq-1");
  CAF_CHECK_EQUAL(to_string(first.status), std::string{"ok"});
  CAF_CHECK_EQUAL(first.record.text, "hello");
  CAF_CHECK_EQUAL(first.record.used_by, "cbq-1");
  // A second press (another callback query) re-sends nothing.
  auto second = s.take(7001, rec.request_id, "cbq-2");
  CAF_CHECK_EQUAL(to_string(second.status), std::string{"already_used"});
  // The same press replayed after a crash of the user actor still works.
  auto replay = s.take(7001, rec.request_id, "cbq-1");
  CAF_CHECK_EQUAL(to_string(replay.status), std::string{"ok"});
  // The mark is on disk: a new store (router restart) sees it.
  auto again = make_store(root).take(7001, rec.request_id, "cbq-3");
  CAF_CHECK_EQUAL(to_string(again.status), std::string{"already_used"});
  // No temp file is left behind.
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    CAF_CHECK_EQUAL(e.path().extension().string(), ".json");
    ++files;
  }
  CAF_CHECK_EQUAL(files, 1u);
}

CAF_TEST(unknown foreign and expired records are not handed out) {
  auto s = make_store(root, std::chrono::seconds(3600));
  auto rec = record(7001);
  CAF_REQUIRE_EQUAL(s.save(rec), "");
  // Another user pressing a button with this id only searches their dir.
  auto foreign = s.take(7002, rec.request_id, "cbq-1");
  CAF_CHECK_EQUAL(to_string(foreign.status), std::string{"no_user"});
  CAF_REQUIRE_EQUAL(s.save(record(7002)), "");
  foreign = s.take(7002, rec.request_id, "cbq-1");
  CAF_CHECK_EQUAL(to_string(foreign.status), std::string{"expired"});
  // Unknown and malformed ids.
  CAF_CHECK_EQUAL(to_string(s.take(7001, new_request_id(), "c").status),
                  std::string{"expired"});
  CAF_CHECK_EQUAL(to_string(s.take(7001, "../../../etc", "c").status),
                  std::string{"expired"});
  // Past the window the record is gone, and its file removed.
  auto now = retry_store::now_seconds();
  auto late = s.take(7001, rec.request_id, "cbq-1", now + 3601);
  CAF_CHECK_EQUAL(to_string(late.status), std::string{"expired"});
  CAF_CHECK(!fs::exists(file_of(rec)));
}

CAF_TEST(a record that names another user or request is ignored) {
  auto s = make_store(root);
  auto rec = record(7001);
  CAF_REQUIRE_EQUAL(s.save(rec), "");
  // Whatever runs in the user's container could write here: a file moved
  // to another name, or naming another user, is not trusted.
  auto other = record(7001);
  fs::rename(file_of(rec), file_of(other));
  CAF_CHECK_EQUAL(to_string(s.take(7001, other.request_id, "c").status),
                  std::string{"expired"});
  auto forged = rec;
  forged.user_id = 7002;
  std::ofstream{file_of(rec)} << encode_retry_record(forged);
  CAF_CHECK_EQUAL(to_string(s.take(7001, rec.request_id, "c").status),
                  std::string{"expired"});
  std::ofstream{file_of(rec)} << std::string(100 << 10, 'x');
  CAF_CHECK_EQUAL(to_string(s.take(7001, rec.request_id, "c").status),
                  std::string{"error"});
}

CAF_TEST(symlinks are never followed) {
  auto s = make_store(root);
  auto outside = root + "/outside";
  fs::create_directories(outside + "/.zaki-retry");
  auto rec = record(7001);
  std::ofstream{outside + "/.zaki-retry/" + rec.request_id + ".json"}
    << encode_retry_record(rec);
  fs::create_directories(root + "/users");
  fs::create_directory_symlink(outside, root + "/users/user-7001");
  CAF_CHECK_NOT_EQUAL(s.save(record(7001)), "");
  auto took = s.take(7001, rec.request_id, "c");
  CAF_CHECK_NOT_EQUAL(to_string(took.status), std::string{"ok"});
  // A symlinked record file inside a real user dir is refused as well.
  auto mine = record(7003);
  CAF_REQUIRE_EQUAL(s.save(mine), "");
  auto target = outside + "/.zaki-retry/" + rec.request_id + ".json";
  fs::remove(file_of(mine));
  fs::create_symlink(target, file_of(mine));
  took = s.take(7003, mine.request_id, "c");
  CAF_CHECK_EQUAL(to_string(took.status), std::string{"error"});
}

CAF_TEST(saving prunes records older than the window) {
  auto s = make_store(root, std::chrono::seconds(60));
  auto old = record(7001);
  CAF_REQUIRE_EQUAL(s.save(old), "");
  // Backdate the file by two minutes.
  auto when = fs::last_write_time(file_of(old)) - std::chrono::minutes(2);
  fs::last_write_time(file_of(old), when);
  auto fresh = record(7001);
  CAF_REQUIRE_EQUAL(s.save(fresh), "");
  CAF_CHECK(!fs::exists(file_of(old)));
  CAF_CHECK(fs::exists(file_of(fresh)));
  CAF_CHECK_NOT_EQUAL(s.save(retry_record{}), "");
}

CAF_TEST_FIXTURE_SCOPE_END()
