#pragma once

// Helpers shared by the lock suites: a throw-away data root under /tmp and
// small file and process utilities. Header-only, so the test glob ignores it.

#include "runtime/lock_staleness.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace zaki::test {

/// A fresh data root, removed with everything in it (symlinks not followed).
struct temp_root {
  std::string root;

  temp_root() {
    char tmpl[] = "/tmp/zaki-locks-XXXXXX";
    root = ::mkdtemp(tmpl);
  }

  ~temp_root() {
    ::nftw(
      root.c_str(),
      [](const char* path, const struct stat*, int, struct FTW*) {
        return ::remove(path);
      },
      16, FTW_DEPTH | FTW_PHYS);
  }

  /// Creates `users/user-{id}` (and returns its path).
  std::string make_user(const std::string& id) const {
    ::mkdir((root + "/users").c_str(), 0755);
    auto dir = root + "/users/user-" + id;
    ::mkdir(dir.c_str(), 0700);
    return dir;
  }
};

/// Creates `path` with `content` (parent dirs must exist).
inline bool write_file(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW, 0600);
  if (fd < 0)
    return false;
  bool ok = ::write(fd, content.data(), content.size())
            == static_cast<ssize_t>(content.size());
  ::close(fd);
  return ok;
}

/// Sets the mtime of `path` to `age` ago, without following symlinks.
inline void set_age(const std::string& path, std::chrono::seconds age) {
  struct timespec ts[2];
  ::clock_gettime(CLOCK_REALTIME, &ts[0]);
  ts[0].tv_sec -= age.count();
  ts[1] = ts[0];
  ::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW);
}

/// Returns whether something (even a dangling symlink) is at `path`.
inline bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

/// Returns the content of `path`, or "" on error.
inline std::string read_file(const std::string& path) {
  std::string out;
  if (auto* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
      out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

/// Returns the pid of a process that has exited and been reaped.
inline int64_t dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0)
    ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

/// Lock content in OpenClaw's format (plus host), created `age` ago.
inline std::string lock_json(int64_t pid, std::chrono::seconds age,
                             int64_t starttime = -1, std::string host = {}) {
  lock_owner owner;
  owner.pid = pid;
  owner.created_at = format_iso8601(lock_clock::now() - age);
  owner.starttime = starttime;
  owner.hostname = std::move(host);
  return format_lock_owner(owner);
}

/// Waits up to `ms` for one byte on `fd`; returns it, or -1.
inline int read_byte(int fd, int ms = 5000) {
  struct pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, ms) != 1)
    return -1;
  unsigned char c = 0;
  return ::read(fd, &c, 1) == 1 ? c : -1;
}

/// Kills and reaps a child.
inline void kill_child(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

/// A prepared data root for the sweep and CLI suites. Stale: user-1's router
/// lock (dead pid), user-3's abc.jsonl.lock (dead pid), old-garbage.jsonl.lock
/// (garbage, mtime 60 s ago) and sessions.json.lock (live pid, 40 s > 30 s).
/// Kept: user-2's router lock (live, 10 min old), live.jsonl.lock,
/// fresh-garbage.jsonl.lock (mtime now) and abc.jsonl (not a lock). With
/// `bad`, also: user-4 a symlink to a dir outside holding a dead lock,
/// user-5's lock a symlink to a file outside, user-abc, a README, user-6's
/// agent dir a symlink outside, a FIFO named fifo.jsonl.lock in user-7.
struct lock_tree {
  temp_root tmp;
  temp_root outside;
  std::string users = tmp.root + "/users";
  std::string u1_lock = users + "/user-1/router.session.lock";
  std::string u2_lock = users + "/user-2/router.session.lock";
  std::string sessions = users + "/user-3/agents/main/sessions";
  std::string abc_lock = sessions + "/abc.jsonl.lock";
  std::string abc_data = sessions + "/abc.jsonl";
  std::string live_lock = sessions + "/live.jsonl.lock";
  std::string store_lock = sessions + "/sessions.json.lock";
  std::string fresh_garbage = sessions + "/fresh-garbage.jsonl.lock";
  std::string old_garbage = sessions + "/old-garbage.jsonl.lock";
  std::string outside_lock = outside.root + "/router.session.lock";
  std::string outside_file = outside.root + "/target";
  std::string abc_user_lock = users + "/user-abc/router.session.lock";
  std::string fifo_lock = users + "/user-7/agents/main/sessions/fifo.jsonl.lock";

  explicit lock_tree(bool bad) {
    using namespace std::chrono;
    auto me = ::getpid();
    tmp.make_user("1");
    tmp.make_user("2");
    tmp.make_user("3");
    write_file(u1_lock, lock_json(dead_pid(), minutes{1}, 1, own_hostname()));
    write_file(u2_lock, lock_json(me, minutes{10}, own_starttime(), own_hostname()));
    mkdirs(sessions);
    write_file(abc_lock, lock_json(dead_pid(), seconds{1}));
    write_file(abc_data, "{\"role\":\"user\"}\n");
    write_file(live_lock, lock_json(me, seconds{1}, own_starttime()));
    write_file(store_lock, lock_json(me, seconds{40}, own_starttime()));
    write_file(fresh_garbage, "garbage");
    write_file(old_garbage, "garbage");
    set_age(old_garbage, seconds{60});
    if (!bad)
      return;
    write_file(outside_lock, lock_json(dead_pid(), hours{1}));
    write_file(outside_file, lock_json(dead_pid(), hours{1}));
    ::symlink(outside.root.c_str(), (users + "/user-4").c_str());
    tmp.make_user("5");
    ::symlink(outside_file.c_str(), (users + "/user-5/router.session.lock").c_str());
    tmp.make_user("abc");
    write_file(abc_user_lock, lock_json(dead_pid(), hours{1}));
    write_file(users + "/README", "not a user");
    mkdirs(users + "/user-6/agents");
    ::mkdir((outside.root + "/sessions").c_str(), 0700);
    write_file(outside.root + "/sessions/x.jsonl.lock", lock_json(dead_pid(), hours{1}));
    ::symlink(outside.root.c_str(), (users + "/user-6/agents/evil").c_str());
    mkdirs(users + "/user-7/agents/main/sessions");
    ::mkfifo(fifo_lock.c_str(), 0600);
  }

  static void mkdirs(const std::string& path) {
    for (size_t pos = 1; pos != std::string::npos;) {
      pos = path.find('/', pos + 1);
      ::mkdir(path.substr(0, pos).c_str(), 0700);
    }
  }
};

} // namespace zaki::test
