#define CAF_SUITE app.locks_cli

#include "app/locks_cli.hpp"

#include "caf/test/unit_test.hpp"

#include "tests/fixtures/lock_fixture.hpp"

#include <sstream>

using namespace std::chrono;
using namespace zaki;

namespace {

struct run_result {
  int code;
  std::string out;
  std::string err;
};

run_result run(const std::string& root, std::vector<std::string> args) {
  std::ostringstream out;
  std::ostringstream err;
  int code = run_locks_command(root, args, out, err);
  return {code, out.str(), err.str()};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Returns the output line that starts with `path`.
std::string line_of(const std::string& text, const std::string& path) {
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    if (line.compare(0, path.size() + 1, path + " ") == 0)
      return line;
  return {};
}

} // namespace

CAF_TEST(durations) {
  CAF_CHECK(parse_duration("30min") == minutes{30});
  CAF_CHECK(parse_duration("30m") == minutes{30});
  CAF_CHECK(parse_duration("90s") == seconds{90});
  CAF_CHECK(parse_duration("500ms") == milliseconds{500});
  CAF_CHECK(parse_duration("2h") == hours{2});
  CAF_CHECK(parse_duration("1d") == hours{24});
  for (auto bad : {"", "30", "min", "0s", "-5s", "1.5h", "5 s", "5sec", "5S",
                   "99999999999999999999h"})
    CAF_CHECK(!parse_duration(bad).has_value());
  CAF_CHECK_EQUAL(format_duration(milliseconds{450}), "450ms");
  CAF_CHECK_EQUAL(format_duration(seconds{12}), "12s");
  CAF_CHECK_EQUAL(format_duration(seconds{312}), "5m12s");
  CAF_CHECK_EQUAL(format_duration(minutes{125}), "2h05m");
  CAF_CHECK_EQUAL(format_duration(hours{76}), "3d04h");
}

CAF_TEST(usage errors exit 2 and a missing root exits 3) {
  test::temp_root tmp;
  CAF_CHECK_EQUAL(run(tmp.root, {}).code, 2);
  CAF_CHECK_EQUAL(run(tmp.root, {"frobnicate"}).code, 2);
  CAF_CHECK_EQUAL(run(tmp.root, {"clean", "--max-age=soon"}).code, 2);
  CAF_CHECK_EQUAL(run(tmp.root, {"clean", "--max-age=0s"}).code, 2);
  CAF_CHECK_EQUAL(run(tmp.root, {"clean", "--max-age"}).code, 2);
  CAF_CHECK_EQUAL(run(tmp.root, {"list", "--dry-run"}).code, 2);
  CAF_CHECK_EQUAL(run(tmp.root, {"clean", "--force"}).code, 2);
  auto help = run(tmp.root, {"help"});
  CAF_CHECK_EQUAL(help.code, 0);
  CAF_CHECK(contains(help.out, "Exit codes"));
  CAF_CHECK_EQUAL(run(tmp.root + "/missing", {"list"}).code, 3);
  auto missing = run(tmp.root + "/missing", {"clean"});
  CAF_CHECK_EQUAL(missing.code, 3);
  CAF_CHECK(contains(missing.err, "data root"));
  // An empty root is fine: no users yet.
  CAF_CHECK_EQUAL(run(tmp.root, {"list"}).code, 0);
  CAF_CHECK_EQUAL(run(tmp.root, {"clean"}).code, 0);
}

CAF_TEST(list shows owner age and staleness) {
  test::lock_tree tree{true};
  auto r = run(tree.tmp.root, {"list"});
  CAF_MESSAGE("list output:\n" << r.out << r.err);
  CAF_CHECK_EQUAL(r.code, 0);
  auto u1 = line_of(r.out, tree.u1_lock);
  CAF_CHECK(contains(u1, "kind=router"));
  CAF_CHECK(contains(u1, "host=" + own_hostname()));
  CAF_CHECK(contains(u1, "age=1m"));
  CAF_CHECK(contains(u1, "stale=yes reason=dead-pid"));
  auto u2 = line_of(r.out, tree.u2_lock);
  CAF_CHECK(contains(u2, "pid=" + std::to_string(::getpid())));
  CAF_CHECK(contains(u2, "stale=no"));
  CAF_CHECK(
    contains(line_of(r.out, tree.store_lock), "kind=openclaw-store pid="));
  CAF_CHECK(
    contains(line_of(r.out, tree.store_lock), "stale=yes reason=too-old"));
  CAF_CHECK(
    contains(line_of(r.out, tree.fresh_garbage), "may still be in progress"));
  CAF_CHECK(contains(r.out, "9 locks, 4 stale"));
  CAF_CHECK(contains(r.err, "error: " + tree.users + "/user-4 is a symlink"));
  CAF_CHECK(contains(line_of(r.out, tree.old_garbage), "content=\"not JSON\""));
  CAF_CHECK(contains(r.err, "symlink in place of a lock"));
  CAF_CHECK(contains(r.err, "user-abc: user id is not a number"));
  CAF_CHECK(contains(r.err, "not a regular file"));
  // --max-age judges the live 10 min old lock too old.
  r = run(tree.tmp.root, {"list", "--max-age", "5min"});
  CAF_CHECK(contains(line_of(r.out, tree.u2_lock), "stale=yes reason=too-old"));
}

CAF_TEST(clean with dry run then for real) {
  test::lock_tree tree{false};
  auto dry = run(tree.tmp.root, {"clean", "--dry-run"});
  CAF_MESSAGE("dry run output:\n" << dry.out << dry.err);
  CAF_CHECK_EQUAL(dry.code, 0);
  CAF_CHECK(contains(
    dry.out, "would remove " + tree.u1_lock + " kind=router reason=dead-pid"));
  CAF_CHECK(contains(dry.out, "dry run: would remove 4 of 4 stale locks"));
  for (auto* path :
       {&tree.u1_lock, &tree.abc_lock, &tree.store_lock, &tree.old_garbage})
    CAF_CHECK(test::exists(*path));
  auto real = run(tree.tmp.root, {"clean", "--max-age=30min"});
  CAF_MESSAGE("clean output:\n" << real.out << real.err);
  CAF_CHECK_EQUAL(real.code, 0);
  CAF_CHECK(contains(real.out,
                     "removed " + tree.abc_lock
                       + " kind=openclaw-session reason=dead-pid"));
  CAF_CHECK(contains(real.out, "removed 4 of 4 stale locks (7 locks found)"));
  for (auto* path :
       {&tree.u1_lock, &tree.abc_lock, &tree.store_lock, &tree.old_garbage})
    CAF_CHECK(!test::exists(*path));
  for (auto* path :
       {&tree.u2_lock, &tree.live_lock, &tree.fresh_garbage, &tree.abc_data})
    CAF_CHECK(test::exists(*path));
  auto again = run(tree.tmp.root, {"clean"});
  CAF_CHECK_EQUAL(again.code, 0);
  CAF_CHECK(contains(again.out, "removed 0 of 0 stale locks"));
  // A shorter maximum age takes the live but old lock too.
  auto aged = run(tree.tmp.root, {"clean", "--max-age=5min"});
  CAF_CHECK_EQUAL(aged.code, 0);
  CAF_CHECK(contains(
    aged.out, "removed " + tree.u2_lock + " kind=router reason=too-old"));
  CAF_CHECK(!test::exists(tree.u2_lock));
}

CAF_TEST(clean exits 1 on errors and leaves bad entries alone) {
  test::lock_tree tree{true};
  auto r = run(tree.tmp.root, {"clean"});
  CAF_CHECK_EQUAL(r.code, 1);
  CAF_CHECK(contains(r.out, "removed 4 of 4 stale locks"));
  for (auto* path : {&tree.outside_lock, &tree.outside_file,
                     &tree.abc_user_lock, &tree.fifo_lock})
    CAF_CHECK(test::exists(*path));
  CAF_CHECK(test::exists(tree.users + "/user-4"));
  CAF_CHECK(test::exists(tree.users + "/user-5/router.session.lock"));
  auto dry = run(tree.tmp.root, {"clean", "--dry-run"});
  CAF_CHECK_EQUAL(dry.code, 1);
}
