#define CAF_SUITE locks.lock_sweep

#include "locks/lock_sweep.hpp"

#include "caf/test/unit_test.hpp"

#include "locks/session_lock.hpp"
#include "tests/fixtures/lock_fixture.hpp"

#include <map>

using namespace std::chrono;
using namespace zaki;

namespace {

// Maps each lock path to "stale:<reasons>", "kept" or "error".
std::map<std::string, std::string> summary(const sweep_report& report) {
  std::map<std::string, std::string> out;
  for (auto& e : report.locks)
    out[e.path] = !e.error.empty() ? "error"
      : e.verdict.stale            ? "stale:" + e.verdict.reasons_text()
                                   : "kept";
  return out;
}

bool has_problem(const sweep_report& report, const std::string& path,
                 const std::string& needle) {
  for (auto& p : report.problems)
    if (p.path == path && p.message.find(needle) != std::string::npos)
      return true;
  return false;
}

} // namespace

CAF_TEST(list judges every lock and reports bad entries) {
  test::lock_tree tree{true};
  auto report = sweep_data_root(tree.tmp.root, sweep_options{});
  CAF_REQUIRE_EQUAL(report.root_error, "");
  auto s = summary(report);
  CAF_CHECK_EQUAL(s[tree.u1_lock], "stale:dead-pid");
  CAF_CHECK_EQUAL(s[tree.u2_lock], "kept");
  CAF_CHECK_EQUAL(s[tree.abc_lock], "stale:dead-pid");
  CAF_CHECK_EQUAL(s[tree.live_lock], "kept");
  CAF_CHECK_EQUAL(s[tree.store_lock], "stale:too-old");
  CAF_CHECK_EQUAL(s[tree.fresh_garbage], "kept");
  CAF_CHECK_EQUAL(s[tree.old_garbage], "stale:missing-pid,invalid-createdAt");
  CAF_CHECK_EQUAL(s[tree.users + "/user-5/router.session.lock"], "error");
  CAF_CHECK_EQUAL(s[tree.fifo_lock], "error");
  CAF_CHECK_EQUAL(report.locks.size(), 9u);
  CAF_CHECK_EQUAL(report.stale(), 4u);
  CAF_CHECK_EQUAL(report.removed(), 0u);
  for (auto& e : report.locks) {
    if (e.path == tree.u2_lock) {
      CAF_CHECK_EQUAL(e.kind, lock_kind::router);
      CAF_CHECK_EQUAL(e.user_id, 2);
      CAF_CHECK_EQUAL(e.owner.pid, ::getpid());
      CAF_CHECK(e.age >= minutes{10} && e.age < minutes{11});
    } else if (e.path == tree.store_lock) {
      CAF_CHECK_EQUAL(e.kind, lock_kind::openclaw_store);
    } else if (e.path == tree.abc_lock) {
      CAF_CHECK_EQUAL(e.kind, lock_kind::openclaw_session);
      CAF_CHECK_EQUAL(e.user_id, 3);
    }
  }
  CAF_CHECK(has_problem(report, tree.users + "/user-4", "symlink"));
  CAF_CHECK(has_problem(report, tree.users + "/user-abc", "not a number"));
  CAF_CHECK(has_problem(report, tree.users + "/user-6/agents/evil", "symlink"));
  CAF_CHECK(has_problem(report, tree.users + "/README", "skipped"));
  // Five errors: user-4, user-abc, user-6's agent, user-5's lock, the FIFO.
  CAF_CHECK_EQUAL(report.errors(), 5u);
  for (auto& p : report.problems)
    CAF_MESSAGE((p.is_error ? "error: " : "note: ")
                << p.path << ": " << p.message);
  for (auto& e : report.locks)
    if (!e.error.empty())
      CAF_MESSAGE("error: " << e.error);
}

CAF_TEST(dry run removes nothing) {
  test::lock_tree tree{true};
  sweep_options opts;
  opts.clean = true;
  opts.dry_run = true;
  auto report = sweep_data_root(tree.tmp.root, opts);
  CAF_CHECK_EQUAL(report.removed(), 4u);
  for (auto* path : {&tree.u1_lock, &tree.abc_lock, &tree.store_lock,
                     &tree.old_garbage, &tree.u2_lock})
    CAF_CHECK(test::exists(*path));
}

CAF_TEST(clean removes only stale locks) {
  test::lock_tree tree{true};
  auto before = lock_counters_snapshot().reclaims;
  sweep_options opts;
  opts.clean = true;
  auto report = sweep_data_root(tree.tmp.root, opts);
  CAF_CHECK_EQUAL(report.removed(), 4u);
  CAF_CHECK_EQUAL(lock_counters_snapshot().reclaims, before + 4);
  for (auto* path :
       {&tree.u1_lock, &tree.abc_lock, &tree.store_lock, &tree.old_garbage})
    CAF_CHECK(!test::exists(*path));
  for (auto* path : {&tree.u2_lock, &tree.live_lock, &tree.fresh_garbage,
                     &tree.abc_data, &tree.outside_lock, &tree.outside_file,
                     &tree.abc_user_lock, &tree.fifo_lock})
    CAF_CHECK(test::exists(*path));
  CAF_CHECK(test::exists(tree.users + "/user-5/router.session.lock"));
  CAF_CHECK(test::exists(tree.outside.root + "/sessions/x.jsonl.lock"));
  // Nothing but the removed files went away: no temporaries are left.
  auto again = sweep_data_root(tree.tmp.root, opts);
  CAF_CHECK_EQUAL(again.locks.size(), 5u);
  CAF_CHECK_EQUAL(again.removed(), 0u);
}

CAF_TEST(sweeping one user dir) {
  test::lock_tree tree{true};
  sweep_options opts;
  opts.clean = true;
  auto report = sweep_user_dir(tree.tmp.root, 3, opts);
  CAF_CHECK_EQUAL(report.root_error, "");
  CAF_CHECK_EQUAL(report.locks.size(), 5u);
  CAF_CHECK_EQUAL(report.removed(), 3u);
  CAF_CHECK(test::exists(tree.u1_lock)); // Another user: untouched.
  CAF_CHECK(!test::exists(tree.abc_lock));
  report = sweep_user_dir(tree.tmp.root, 4, opts);
  CAF_CHECK_NOT_EQUAL(report.root_error.find("symlink"), std::string::npos);
  CAF_CHECK(test::exists(tree.outside_lock));
  report = sweep_user_dir(tree.tmp.root, 99, opts);
  CAF_CHECK_NOT_EQUAL(report.root_error, "");
  CAF_CHECK(!test::exists(tree.users + "/user-99"));
}

CAF_TEST(legacy locks by age only and an injected probe) {
  test::lock_tree tree{false};
  sweep_options opts;
  opts.legacy_age_only = true;
  auto s = summary(sweep_data_root(tree.tmp.root, opts));
  CAF_CHECK_EQUAL(s[tree.abc_lock], "kept"); // Dead pid, but only 1 s old.
  CAF_CHECK_EQUAL(s[tree.store_lock], "stale:too-old");
  CAF_CHECK_EQUAL(s[tree.u1_lock], "stale:dead-pid"); // Router locks: pids.
  opts = sweep_options{};
  opts.probe = [](int64_t) {
    return process_facts{true, 1};
  };
  s = summary(sweep_data_root(tree.tmp.root, opts));
  CAF_CHECK_EQUAL(s[tree.u1_lock], "kept");
  CAF_CHECK_EQUAL(s[tree.live_lock], "stale:recycled-pid");
  // A legacy probe applies to OpenClaw's locks only.
  opts.probe = nullptr;
  opts.legacy_probe = [](int64_t) {
    return process_facts{true, -1};
  };
  s = summary(sweep_data_root(tree.tmp.root, opts));
  CAF_CHECK_EQUAL(s[tree.abc_lock], "kept");
  CAF_CHECK_EQUAL(s[tree.u1_lock], "stale:dead-pid");
  opts.legacy_probe = nullptr;
  opts.max_age = minutes{5};
  s = summary(sweep_data_root(tree.tmp.root, opts));
  CAF_CHECK_EQUAL(s[tree.u2_lock], "stale:too-old");
}

CAF_TEST(missing roots and permission errors) {
  auto report = sweep_data_root("/nonexistent/zaki", sweep_options{});
  CAF_CHECK_NOT_EQUAL(report.root_error.find("data root"), std::string::npos);
  test::temp_root empty;
  report = sweep_data_root(empty.root, sweep_options{});
  CAF_CHECK_EQUAL(report.root_error, "");
  CAF_CHECK_EQUAL(report.errors(), 0u);
  CAF_CHECK_EQUAL(report.locks.size(), 0u);
  // An unreadable user dir: as root, run the sweep in a child as nobody.
  test::lock_tree tree{false};
  ::chmod(tree.tmp.root.c_str(), 0755);
  ::chmod(tree.users.c_str(), 0755);
  ::chmod((tree.users + "/user-1").c_str(), ::geteuid() == 0 ? 0700 : 0);
  int fds[2];
  CAF_REQUIRE_EQUAL(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0))
      ::_exit(2);
    sweep_options opts;
    opts.clean = true;
    auto r = sweep_data_root(tree.tmp.root, opts);
    std::string msg;
    for (auto& p : r.problems)
      msg += p.path + ": " + p.message + "\n";
    if (::write(fds[1], msg.data(), msg.size()) < 0)
      ::_exit(1);
    ::_exit(0);
  }
  ::close(fds[1]);
  ::waitpid(pid, nullptr, 0);
  std::string msg;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0)
    msg.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  ::chmod((tree.users + "/user-1").c_str(), 0700);
  CAF_MESSAGE("as an unprivileged user: " << msg);
  CAF_CHECK_NOT_EQUAL(msg.find(tree.users + "/user-1: cannot open"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(msg.find("Permission denied"), std::string::npos);
  CAF_CHECK(test::exists(tree.u1_lock));
}
