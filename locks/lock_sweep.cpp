#include "locks/lock_sweep.hpp"

#include "locks/session_lock.hpp"
#include "storage/user_paths.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace zaki {

const char* to_string(lock_kind kind) {
  switch (kind) {
    case lock_kind::router: return "router";
    case lock_kind::openclaw_session: return "openclaw-session";
    case lock_kind::openclaw_store: return "openclaw-store";
  }
  return "unknown";
}

size_t sweep_report::stale() const {
  size_t n = 0;
  for (auto& e : locks)
    n += e.error.empty() && e.verdict.stale ? 1 : 0;
  return n;
}

size_t sweep_report::removed() const {
  size_t n = 0;
  for (auto& e : locks)
    n += e.removed ? 1 : 0;
  return n;
}

size_t sweep_report::errors() const {
  size_t n = root_error.empty() ? 0 : 1;
  for (auto& e : locks)
    n += e.error.empty() ? 0 : 1;
  for (auto& p : problems)
    n += p.is_error ? 1 : 0;
  return n;
}

namespace {

bool ends_with(const std::string& s, const char* suffix) {
  auto n = std::strlen(suffix);
  return s.size() > n && s.compare(s.size() - n, n, suffix) == 0;
}

// Lists the names in a directory, without "." and "..". fdopendir takes over
// the descriptor it gets, hence the dup.
bool list_dir(int dirfd, std::vector<std::string>& names) {
  int fd = ::dup(dirfd);
  if (fd < 0)
    return false;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return false;
  }
  errno = 0;
  while (auto* ent = ::readdir(dir)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..")
      names.push_back(std::move(name));
  }
  int err = errno;
  ::closedir(dir);
  std::sort(names.begin(), names.end()); // Stable output for operators.
  errno = err;
  return err == 0;
}

// Judges one lock file and, when asked and stale, removes it.
void inspect(int dirfd, const std::string& name, const std::string& path,
             lock_kind kind, int64_t user_id, const sweep_options& opts,
             sweep_report& report) {
  using namespace std::chrono;
  lock_entry entry;
  entry.path = path;
  entry.kind = kind;
  entry.user_id = user_id;
  lock_file_snapshot snap;
  auto status = read_lock_file(dirfd, name, path, snap, entry.error);
  if (status == read_status::missing)
    return; // Released while we looked.
  if (status == read_status::error) {
    report.locks.push_back(std::move(entry));
    return;
  }
  staleness_policy policy;
  policy.max_age = kind == lock_kind::openclaw_store
    ? std::min<milliseconds>(opts.max_age, seconds{30})
    : opts.max_age;
  policy.local_hostname = own_hostname();
  policy.age_only = kind != lock_kind::router && opts.legacy_age_only;
  process_facts facts;
  if (needs_probe(snap.owner, policy)) {
    auto& probe = kind != lock_kind::router && opts.legacy_probe
      ? opts.legacy_probe
      : opts.probe;
    facts = probe ? probe(snap.owner.pid) : probe_process(snap.owner.pid);
  }
  auto now = lock_clock::now();
  entry.owner = snap.owner;
  entry.verdict = judge_lock(snap.owner, facts, now, snap.mtime, policy);
  entry.age = entry.verdict.age ? *entry.verdict.age
                                : duration_cast<milliseconds>(now - snap.mtime);
  if (opts.clean && entry.verdict.stale) {
    if (opts.dry_run) {
      entry.removed = true;
    } else {
      // Router locks: take the same guard as session_lock's reclaim.
      bool guarded = kind == lock_kind::router;
      if (guarded && ::flock(dirfd, LOCK_EX | LOCK_NB) != 0
          && errno == EWOULDBLOCK) {
        entry.error = path + " is being reclaimed by another process; skipped";
      } else {
        auto outcome = remove_if_same(dirfd, name, path, snap.dev, snap.ino,
                                      entry.error);
        if (outcome == remove_outcome::removed) {
          entry.removed = true;
          count_lock_reclaim();
          locks_log()->warn("event=lock_removed path={} kind={} reason={} {}",
                            path, to_string(kind), entry.verdict.reasons_text(),
                            describe(entry.owner));
        } else if (outcome == remove_outcome::vanished) {
          entry.note = "already removed by someone else";
        } else if (outcome == remove_outcome::replaced) {
          entry.note = "replaced by a new lock meanwhile; left in place";
        }
      }
      if (guarded)
        ::flock(dirfd, LOCK_UN);
    }
  }
  report.locks.push_back(std::move(entry));
}

void sweep_sessions(int sessions_fd, const std::string& dir_path,
                    int64_t user_id, const sweep_options& opts,
                    sweep_report& report) {
  std::vector<std::string> names;
  if (!list_dir(sessions_fd, names)) {
    report.problems.push_back(
      {dir_path, std::string{"cannot list: "} + std::strerror(errno)});
    return;
  }
  for (auto& name : names) {
    lock_kind kind;
    if (name == "sessions.json.lock")
      kind = lock_kind::openclaw_store;
    else if (ends_with(name, ".jsonl.lock"))
      kind = lock_kind::openclaw_session;
    else
      continue;
    inspect(sessions_fd, name, dir_path + '/' + name, kind, user_id, opts,
            report);
  }
}

void sweep_one_user(int user_fd, const std::string& user_path, int64_t user_id,
                    const sweep_options& opts, sweep_report& report) {
  inspect(user_fd, session_lock_file_name,
          user_path + '/' + session_lock_file_name, lock_kind::router, user_id,
          opts, report);
  std::string error;
  auto agents_path = user_path + "/agents";
  auto agents = open_subdir(user_fd, "agents", agents_path, error);
  if (!agents) {
    if (errno != ENOENT)
      report.problems.push_back({agents_path, error});
    return;
  }
  std::vector<std::string> names;
  if (!list_dir(agents.get(), names)) {
    report.problems.push_back(
      {agents_path, std::string{"cannot list: "} + std::strerror(errno)});
    return;
  }
  for (auto& agent : names) {
    auto agent_path = agents_path + '/' + agent;
    auto agent_fd = open_subdir(agents.get(), agent.c_str(), agent_path, error);
    if (!agent_fd) {
      // Plain files among the agents are not our business; symlinks are.
      if (errno != ENOTDIR || error.find("symlink") != std::string::npos)
        report.problems.push_back({agent_path, error});
      continue;
    }
    auto sessions_path = agent_path + "/sessions";
    auto sessions = open_subdir(agent_fd.get(), "sessions", sessions_path,
                                error);
    if (!sessions) {
      if (errno != ENOENT)
        report.problems.push_back({sessions_path, error});
      continue;
    }
    sweep_sessions(sessions.get(), sessions_path, user_id, opts, report);
  }
}

} // namespace

sweep_report sweep_data_root(const std::string& data_root,
                             const sweep_options& options) {
  sweep_report report;
  unique_fd root{::open(data_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (!root) {
    report.root_error = "cannot open data root " + data_root + ": "
      + std::strerror(errno);
    return report;
  }
  auto users_path = data_root + "/users";
  auto users = open_subdir(root.get(), "users", users_path, report.root_error);
  if (!users) {
    if (errno == ENOENT) {
      report.root_error.clear();
      report.problems.push_back(
        {users_path, "does not exist (no users yet)", false});
    }
    return report;
  }
  std::vector<std::string> names;
  if (!list_dir(users.get(), names)) {
    report.root_error = "cannot list " + users_path + ": "
      + std::strerror(errno);
    return report;
  }
  for (auto& name : names) {
    auto path = users_path + '/' + name;
    if (name.compare(0, 5, "user-") != 0) {
      report.problems.push_back({path, "not a user dir; skipped", false});
      continue;
    }
    auto id = parse_user_id(std::string_view{name}.substr(5));
    if (!id) {
      report.problems.push_back({path, "user id is not a number; skipped"});
      continue;
    }
    std::string error;
    auto user = open_subdir(users.get(), name.c_str(), path, error);
    if (!user) {
      report.problems.push_back({path, error});
      continue;
    }
    sweep_one_user(user.get(), path, *id, options, report);
  }
  return report;
}

sweep_report sweep_user_dir(const std::string& data_root, int64_t user_id,
                            const sweep_options& options) {
  sweep_report report;
  auto user = open_user_dir(data_root, user_id, false, report.root_error);
  if (user)
    sweep_one_user(user.get(), user_data_dir(data_root, user_id), user_id,
                   options, report);
  return report;
}

} // namespace zaki
