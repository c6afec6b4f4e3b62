#define CAF_SUITE locks.session_lock

#include "locks/session_lock.hpp"

#include "caf/test/unit_test.hpp"

#include "tests/fixtures/lock_fixture.hpp"

#include <atomic>
#include <filesystem>
#include <new>
#include <sched.h>
#include <sys/mman.h>

#include <spdlog/spdlog.h>

using namespace std::chrono;
using namespace zaki;

namespace {

struct fixture {
  test::temp_root tmp;
  std::string dir = tmp.make_user("1");
  std::string lock_path = dir + "/router.session.lock";

  session_lock make(session_lock_options opts = {}) {
    return session_lock{tmp.root, 1, std::move(opts)};
  }

  // Plants a lock file and ages its mtime.
  void plant(const std::string& content, seconds mtime_age = seconds{0}) {
    CAF_REQUIRE(test::write_file(lock_path, content));
    test::set_age(lock_path, mtime_age);
  }

  // Expects the planted lock to be reclaimed for `reason`.
  void expect_reclaimed(const std::string& reason) {
    auto before = lock_counters_snapshot().reclaims;
    auto lk = make();
    auto r = lk.try_acquire();
    CAF_CHECK_EQUAL(to_string(r.state), std::string{"acquired"});
    CAF_CHECK_EQUAL(r.reclaimed, reason);
    CAF_CHECK_EQUAL(lock_counters_snapshot().reclaims, before + 1);
    CAF_CHECK_EQUAL(parse_lock_owner(test::read_file(lock_path)).pid,
                    ::getpid());
  }

  // Expects the planted lock to be respected; returns the reported owner.
  lock_owner expect_held(const std::string& content) {
    auto lk = make();
    auto r = lk.try_acquire();
    CAF_CHECK_EQUAL(to_string(r.state), std::string{"held"});
    CAF_CHECK(!lk.held());
    CAF_CHECK_EQUAL(test::read_file(lock_path), content);
    return r.owner;
  }

  // Forks a child that takes the lock and then waits to be killed.
  pid_t spawn_holder() {
    int fds[2];
    CAF_REQUIRE_EQUAL(::pipe(fds), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      auto lk = make();
      char c = lk.try_acquire().state == acquire_state::acquired ? 'A' : 'X';
      if (::write(fds[1], &c, 1) != 1)
        ::_exit(1);
      for (;;)
        ::pause();
    }
    ::close(fds[1]);
    CAF_REQUIRE_EQUAL(test::read_byte(fds[0]), 'A');
    ::close(fds[0]);
    return pid;
  }
};

} // namespace

CAF_TEST(retry delays grow from 50 ms to 1 s) {
  CAF_CHECK(retry_delay(0) == milliseconds{50});
  CAF_CHECK(retry_delay(1) == milliseconds{50});
  CAF_CHECK(retry_delay(4) == milliseconds{200});
  CAF_CHECK(retry_delay(20) == milliseconds{1000});
  CAF_CHECK(retry_delay(1'000'000) == milliseconds{1000});
}

CAF_TEST_FIXTURE_SCOPE(session_lock_tests, fixture)

CAF_TEST(acquire writes the owner and release removes it) {
  auto before = lock_counters_snapshot();
  {
    session_lock_options opts;
    opts.instance = "test-instance";
    auto lk = make(opts);
    CAF_CHECK_EQUAL(lk.path(), lock_path);
    auto r = lk.try_acquire();
    CAF_REQUIRE_EQUAL(to_string(r.state), std::string{"acquired"});
    CAF_CHECK(lk.held());
    CAF_CHECK_EQUAL(lock_counters_snapshot().held, before.held + 1);
    auto owner = parse_lock_owner(test::read_file(lock_path));
    CAF_CHECK_EQUAL(owner.pid, ::getpid());
    CAF_CHECK_EQUAL(owner.starttime, own_starttime());
    CAF_CHECK_EQUAL(owner.hostname, own_hostname());
    CAF_CHECK_EQUAL(owner.instance, "test-instance");
    CAF_CHECK(parse_iso8601(owner.created_at).has_value());
    struct stat st;
    CAF_REQUIRE_EQUAL(::stat(lock_path.c_str(), &st), 0);
    CAF_CHECK_EQUAL(st.st_mode & 0777, 0600u);
    // Acquiring again is idempotent; a second object is refused.
    CAF_CHECK(lk.try_acquire().state == acquire_state::acquired);
    auto other = make();
    auto r2 = other.try_acquire();
    CAF_CHECK(r2.state == acquire_state::held);
    CAF_CHECK_EQUAL(r2.owner.instance, "test-instance");
    // Moving keeps the lock; the moved-from object releases nothing.
    auto moved = std::move(lk);
    CAF_CHECK(moved.held());
    CAF_CHECK(!lk.held());
    CAF_CHECK(!lk.release());
    CAF_CHECK(test::exists(lock_path));
  } // The destructor releases.
  CAF_CHECK(!test::exists(lock_path));
  auto after = lock_counters_snapshot();
  CAF_CHECK_EQUAL(after.held, before.held);
  CAF_CHECK_EQUAL(after.acquisitions, before.acquisitions + 1);
  CAF_CHECK_EQUAL(after.waits, before.waits + 1);
  // Only the lock file is left behind, never a temporary.
  CAF_CHECK(!test::exists(lock_path + ".removing"));
}

CAF_TEST(a held lock pins one descriptor) {
  auto count_fds = [] {
    size_t n = 0;
    for ([[maybe_unused]] auto& entry :
         std::filesystem::directory_iterator{"/proc/self/fd"})
      ++n;
    return n;
  };
  auto idle = count_fds();
  auto lk = make();
  CAF_REQUIRE(lk.try_acquire().state == acquire_state::acquired);
  CAF_CHECK_EQUAL(count_fds(), idle + 1);
  CAF_CHECK(lk.release());
  CAF_CHECK_EQUAL(count_fds(), idle);
  CAF_CHECK(!test::exists(lock_path));
}

CAF_TEST(releasing after the user dir vanished is harmless) {
  auto lk = make();
  CAF_REQUIRE(lk.try_acquire().state == acquire_state::acquired);
  std::filesystem::remove_all(dir);
  CAF_CHECK(!lk.release());
  CAF_CHECK(!lk.held());
  CAF_CHECK(!test::exists(dir));
}

CAF_TEST(the user dir is created on demand) {
  session_lock lk{tmp.root, 77};
  CAF_CHECK(lk.try_acquire().state == acquire_state::acquired);
  session_lock_options opts;
  opts.create_user_dir = false;
  session_lock no_create{tmp.root, 78, opts};
  auto r = no_create.try_acquire();
  CAF_CHECK(r.state == acquire_state::error);
  CAF_MESSAGE("error: " << r.error);
}

CAF_TEST(release leaves a lock that is no longer ours) {
  auto lk = make();
  CAF_REQUIRE(lk.try_acquire().state == acquire_state::acquired);
  // Someone wrongly reclaimed ours and took the lock.
  CAF_REQUIRE_EQUAL(::rename(lock_path.c_str(), (dir + "/moved").c_str()), 0);
  auto theirs = test::lock_json(1, seconds{0});
  plant(theirs);
  CAF_CHECK(!lk.release());
  CAF_CHECK_EQUAL(test::read_file(lock_path), theirs);
  CAF_CHECK(!lk.held());
}

CAF_TEST(a dead pid is reclaimed) {
  plant(test::lock_json(test::dead_pid(), seconds{1}));
  expect_reclaimed("dead-pid");
}

CAF_TEST(a recycled pid is reclaimed) {
  // Our own pid is alive; a different starttime means another process.
  plant(test::lock_json(::getpid(), seconds{1}, own_starttime() + 1));
  expect_reclaimed("recycled-pid");
}

CAF_TEST(a too old lock is reclaimed even with a live pid) {
  plant(test::lock_json(::getpid(), minutes{31}, own_starttime()));
  expect_reclaimed("too-old");
  session_lock_options opts;
  opts.max_age = seconds{10};
  plant(test::lock_json(::getpid(), seconds{11}, own_starttime()));
  auto lk = make(opts);
  CAF_CHECK_EQUAL(lk.try_acquire().reclaimed, "too-old");
}

CAF_TEST(garbage and empty files depend on their mtime) {
  plant("garbage", seconds{0});
  expect_held("garbage");
  plant("", seconds{1});
  CAF_CHECK_EQUAL(expect_held("").pid, 0);
  plant("garbage", seconds{60});
  expect_reclaimed("missing-pid,invalid-createdAt");
  plant("", seconds{6});
  expect_reclaimed("missing-pid,invalid-createdAt");
  plant("{\"pid\":1}", seconds{60}); // pid 1 lives, createdAt missing.
  expect_reclaimed("invalid-createdAt");
}

CAF_TEST(another host is judged by age only) {
  auto fresh = test::lock_json(test::dead_pid(), minutes{1}, 5, "elsewhere");
  plant(fresh);
  auto owner = expect_held(fresh);
  CAF_CHECK_EQUAL(owner.hostname, "elsewhere");
  plant(test::lock_json(test::dead_pid(), minutes{31}, 5, "elsewhere"));
  expect_reclaimed("too-old");
}

CAF_TEST(a live holder is respected until it dies) {
  auto holder = spawn_holder();
  auto lk = make();
  auto r = lk.try_acquire();
  CAF_CHECK(r.state == acquire_state::held);
  CAF_CHECK_EQUAL(r.owner.pid, holder);
  CAF_CHECK(lk.try_acquire().state == acquire_state::held);
  // kill -9: the next attempt reclaims without help.
  test::kill_child(holder);
  r = lk.try_acquire();
  CAF_CHECK(r.state == acquire_state::acquired);
  CAF_CHECK_EQUAL(r.reclaimed, "dead-pid");
}

CAF_TEST(symlinks are never followed nor removed) {
  test::temp_root outside;
  auto target = outside.root + "/target";
  auto content = test::lock_json(test::dead_pid(), hours{1});
  CAF_REQUIRE(test::write_file(target, content));
  CAF_REQUIRE_EQUAL(::symlink(target.c_str(), lock_path.c_str()), 0);
  auto lk = make();
  auto r = lk.try_acquire();
  CAF_CHECK(r.state == acquire_state::error);
  CAF_CHECK_NOT_EQUAL(r.error.find("symlink"), std::string::npos);
  CAF_MESSAGE("error: " << r.error);
  CAF_CHECK(test::exists(lock_path));
  CAF_CHECK_EQUAL(test::read_file(target), content);
  // A dangling symlink is not followed into creating its target either.
  ::unlink(lock_path.c_str());
  CAF_REQUIRE_EQUAL(
    ::symlink((outside.root + "/new").c_str(), lock_path.c_str()), 0);
  CAF_CHECK(lk.try_acquire().state == acquire_state::error);
  CAF_CHECK(!test::exists(outside.root + "/new"));
  // A symlinked user dir.
  CAF_REQUIRE_EQUAL(
    ::symlink(outside.root.c_str(), (tmp.root + "/users/user-2").c_str()), 0);
  session_lock via_link{tmp.root, 2};
  r = via_link.try_acquire();
  CAF_CHECK(r.state == acquire_state::error);
  CAF_CHECK_NOT_EQUAL(r.error.find("symlink"), std::string::npos);
  CAF_CHECK(!test::exists(outside.root + "/router.session.lock"));
}

ino_t inode_of(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

CAF_TEST(a released lock is kept as the spare and reused by the next) {
  auto spare = dir + "/" + session_lock_spare_name;
  session_lock_options first;
  first.instance = "first";
  auto lk = make(first);
  CAF_REQUIRE(lk.try_acquire().state == acquire_state::acquired);
  auto ino = inode_of(lock_path);
  CAF_CHECK(!test::exists(spare));
  CAF_CHECK(lk.release());
  CAF_CHECK(!test::exists(lock_path));
  CAF_CHECK_EQUAL(inode_of(spare), ino);
  // The next acquisition renames it into place with its own owner written
  // in (nothing of the first holder is left), and allocates no inode.
  session_lock_options second;
  second.instance = "second";
  auto next = make(second);
  auto r = next.try_acquire();
  CAF_REQUIRE(r.state == acquire_state::acquired);
  CAF_CHECK_EQUAL(inode_of(lock_path), ino);
  CAF_CHECK(!test::exists(spare));
  auto text = test::read_file(lock_path);
  auto owner = parse_lock_owner(text);
  CAF_CHECK_EQUAL(owner.instance, "second");
  CAF_CHECK_EQUAL(owner.pid, ::getpid());
  CAF_CHECK_EQUAL(text, format_lock_owner(owner));
  struct stat st;
  CAF_REQUIRE_EQUAL(::stat(lock_path.c_str(), &st), 0);
  CAF_CHECK_EQUAL(st.st_mode & 0777, 0600u);
  // A holder is still respected, and the spare it finds stays a spare.
  CAF_REQUIRE(test::write_file(spare, "left over"));
  auto spare_ino = inode_of(spare);
  auto third = make();
  CAF_CHECK(third.try_acquire().state == acquire_state::held);
  CAF_CHECK_EQUAL(inode_of(spare), spare_ino);
  CAF_CHECK_EQUAL(inode_of(lock_path), ino);
  CAF_CHECK_EQUAL(parse_lock_owner(test::read_file(lock_path)).instance,
                  "second");
  // With a spare already there, a release deletes its file.
  CAF_CHECK(next.release());
  CAF_CHECK(!test::exists(lock_path));
  CAF_CHECK_EQUAL(inode_of(spare), spare_ino);
  // No claim or removal temporaries are left behind.
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    CAF_MESSAGE("left: " << e.path().filename());
    ++files;
  }
  CAF_CHECK_EQUAL(files, 1u);
}

CAF_TEST(a planted spare is never written through) {
  // The user dir is the container's: a spare that is a symlink, a second
  // name of another file, or a FIFO is dropped, never written to.
  auto spare = dir + "/" + session_lock_spare_name;
  test::temp_root outside;
  auto target = outside.root + "/target";
  CAF_REQUIRE(test::write_file(target, "precious"));
  CAF_REQUIRE_EQUAL(::symlink(target.c_str(), spare.c_str()), 0);
  {
    auto lk = make();
    CAF_REQUIRE(lk.try_acquire().state == acquire_state::acquired);
    CAF_CHECK_EQUAL(test::read_file(target), "precious");
    CAF_CHECK_NOT_EQUAL(inode_of(lock_path), inode_of(target));
  }
  ::unlink(spare.c_str());
  auto inside = dir + "/notes.txt";
  CAF_REQUIRE(test::write_file(inside, "also precious"));
  CAF_REQUIRE_EQUAL(::link(inside.c_str(), spare.c_str()), 0);
  {
    auto lk = make();
    CAF_REQUIRE(lk.try_acquire().state == acquire_state::acquired);
    CAF_CHECK_EQUAL(test::read_file(inside), "also precious");
    CAF_CHECK_NOT_EQUAL(inode_of(lock_path), inode_of(inside));
  }
  ::unlink(spare.c_str());
  CAF_REQUIRE_EQUAL(::mkfifo(spare.c_str(), 0600), 0);
  {
    auto lk = make();
    CAF_REQUIRE(lk.try_acquire().state == acquire_state::acquired);
  }
  // Each time the lock was created instead, and released as the new spare.
  struct stat st;
  CAF_REQUIRE_EQUAL(::lstat(spare.c_str(), &st), 0);
  CAF_CHECK(S_ISREG(st.st_mode));
  CAF_CHECK_EQUAL(st.st_nlink, 1u);
  // A plain spare longer than an owner is cut to the owner's length.
  CAF_REQUIRE(test::write_file(spare, std::string(4096, 'x')));
  {
    auto lk = make();
    auto r = lk.try_acquire();
    CAF_REQUIRE(r.state == acquire_state::acquired);
    CAF_CHECK_EQUAL(test::read_file(lock_path), format_lock_owner(r.owner));
  }
  CAF_CHECK_EQUAL(test::read_file(target), "precious");
  CAF_CHECK_EQUAL(test::read_file(inside), "also precious");
}

CAF_TEST(lock warnings are logged without a default logger) {
  // The router's logging drops spdlog's default logger; a lock warning
  // must not depend on it (it crashed the router when descriptors ran out).
  auto saved = spdlog::default_logger();
  spdlog::set_default_logger(nullptr);
  auto lk = make();
  CAF_REQUIRE(lk.try_acquire().state == acquire_state::acquired);
  // Someone replaced our lock: the release leaves theirs and warns.
  CAF_REQUIRE_EQUAL(::unlink(lock_path.c_str()), 0);
  CAF_REQUIRE(test::write_file(lock_path, "theirs"));
  CAF_CHECK(!lk.release());
  CAF_CHECK_EQUAL(test::read_file(lock_path), "theirs");
  spdlog::set_default_logger(saved);
}

CAF_TEST(a directory in place of the lock is an error) {
  CAF_REQUIRE_EQUAL(::mkdir(lock_path.c_str(), 0700), 0);
  auto r = make().try_acquire();
  CAF_CHECK(r.state == acquire_state::error);
  CAF_CHECK_NOT_EQUAL(r.error.find("not a regular file"), std::string::npos);
  CAF_CHECK(test::exists(lock_path));
}

CAF_TEST(permission errors are reported) {
  // Root ignores modes, so as root the attempt runs in a child as nobody.
  // The dirs are readable, the user dir is not writable for that user.
  ::chmod(tmp.root.c_str(), 0755);
  ::chmod((tmp.root + "/users").c_str(), 0755);
  ::chmod(dir.c_str(), ::geteuid() == 0 ? 0755 : 0555);
  int fds[2];
  CAF_REQUIRE_EQUAL(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0))
      ::_exit(2);
    auto r = make().try_acquire();
    std::string msg = to_string(r.state) + std::string{" "} + r.error;
    if (::write(fds[1], msg.data(), msg.size()) < 0)
      ::_exit(1);
    ::_exit(0);
  }
  ::close(fds[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0)
    msg.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  ::chmod(dir.c_str(), 0700);
  CAF_MESSAGE("as an unprivileged user: " << msg);
  CAF_CHECK_EQUAL(msg.compare(0, 13, "error cannot "), 0);
  CAF_CHECK_NOT_EQUAL(msg.find(lock_path), std::string::npos);
  CAF_CHECK_NOT_EQUAL(msg.find("Permission denied"), std::string::npos);
  CAF_CHECK(!test::exists(lock_path));
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

// Lives in MAP_SHARED memory, visible to every forked competitor.
struct arena {
  std::atomic<int> holders{0};
  std::atomic<int> max_holders{0};
  std::atomic<uint64_t> acquisitions{0};
  std::atomic<uint64_t> held{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> reclaims{0};
  // Incremented without atomics inside the critical section: it only ends
  // equal to `acquisitions` if no two processes were ever inside together.
  volatile uint64_t unprotected = 0;
};

void compete(const std::string& root, arena* a, steady_clock::time_point end) {
  session_lock lk{root, 1};
  while (steady_clock::now() < end) {
    auto r = lk.try_acquire();
    if (r.state == acquire_state::acquired) {
      int now_in = a->holders.fetch_add(1) + 1;
      int seen = a->max_holders.load();
      while (now_in > seen
             && !a->max_holders.compare_exchange_weak(seen, now_in))
        ; // retry
      a->unprotected = a->unprotected + 1;
      a->acquisitions.fetch_add(1);
      if (!r.reclaimed.empty())
        a->reclaims.fetch_add(1);
      a->holders.fetch_sub(1);
      lk.release();
    } else if (r.state == acquire_state::held) {
      a->held.fetch_add(1);
      ::sched_yield();
    } else {
      a->errors.fetch_add(1);
    }
  }
}

} // namespace

CAF_TEST(real processes competing never hold the lock together) {
  test::temp_root tmp;
  tmp.make_user("1");
  void* mem = ::mmap(nullptr, sizeof(arena), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CAF_REQUIRE(mem != MAP_FAILED);
  auto* a = new (mem) arena;
  constexpr int n = 4;
  auto duration = milliseconds{1500};
  auto end = steady_clock::now() + duration;
  pid_t kids[n];
  for (auto& kid : kids) {
    kid = ::fork();
    if (kid == 0) {
      compete(tmp.root, a, end);
      ::_exit(0);
    }
  }
  for (auto kid : kids) {
    int status = -1;
    ::waitpid(kid, &status, 0);
    CAF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto acquisitions = a->acquisitions.load();
  CAF_MESSAGE(n << " processes: " << acquisitions << " acquisitions in "
                << duration.count()
                << " ms = " << acquisitions * 1000 / duration.count()
                << "/s, held results: " << a->held.load());
  CAF_CHECK_EQUAL(a->max_holders.load(), 1);
  CAF_CHECK_EQUAL(static_cast<uint64_t>(a->unprotected), acquisitions);
  CAF_CHECK_GREATER(acquisitions, 100u);
  CAF_CHECK_GREATER(a->held.load(), 0u);
  CAF_CHECK_EQUAL(a->errors.load(), 0u);
  CAF_CHECK_EQUAL(a->reclaims.load(),
                  0u); // No live lock was ever judged stale.
  CAF_CHECK(!test::exists(tmp.root + "/users/user-1/router.session.lock"));
  ::munmap(mem, sizeof(arena));
}
