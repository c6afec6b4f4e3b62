#include "locks/session_lock.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <random>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/logging.hpp"

namespace zaki {

namespace {

std::atomic<uint64_t> acquisitions_count{0};
std::atomic<uint64_t> waits_count{0};
std::atomic<uint64_t> held_count{0};
std::atomic<uint64_t> reclaims_count{0};

lock_clock::time_point to_time_point(const struct timespec& ts) {
  using namespace std::chrono;
  return lock_clock::time_point{duration_cast<lock_clock::duration>(
    seconds{ts.tv_sec} + nanoseconds{ts.tv_nsec})};
}

/// Returns `name` + ".<pid>-<n>" + `suffix`, unique within this host.
std::string unique_name(const std::string& name, const char* suffix) {
  static std::atomic<uint64_t> seq{0};
  return name + "." + std::to_string(::getpid()) + "-"
    + std::to_string(seq.fetch_add(1, std::memory_order_relaxed)) + suffix;
}

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

} // namespace

// -- lock file primitives ------------------------------------------------------

std::shared_ptr<spdlog::logger> locks_log() {
  // The router's logging drops spdlog's default logger: falling back to it
  // crashed the first lock error that was logged (a release that could not
  // open the user dir when descriptors ran out).
  return logger("locks");
}

read_status read_lock_file(int dirfd, const std::string& name,
                           const std::string& path, lock_file_snapshot& out,
                           std::string& error) {
  // O_NONBLOCK: a FIFO planted in place of a lock must not block the open.
  unique_fd fd{
    ::openat(dirfd, name.c_str(),
             O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)};
  if (!fd) {
    if (errno == ENOENT)
      return read_status::missing;
    if (errno == ELOOP)
      error = path
        + " is a symlink in place of a lock (not followed, not removed)";
    else
      error = "cannot read " + path + ": " + std::strerror(errno);
    return read_status::error;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    error = "cannot stat " + path + ": " + std::strerror(errno);
    return read_status::error;
  }
  if (!S_ISREG(st.st_mode)) {
    error = path + " is not a regular file (not removed)";
    return read_status::error;
  }
  constexpr size_t max_size = 64 * 1024;
  std::string text(std::min<size_t>(static_cast<size_t>(st.st_size), max_size),
                   '\0');
  size_t done = 0;
  while (done < text.size()) {
    auto n = ::read(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = "cannot read " + path + ": " + std::strerror(errno);
      return read_status::error;
    }
    if (n == 0)
      break;
    done += static_cast<size_t>(n);
  }
  text.resize(done);
  out.owner = parse_lock_owner(text);
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  out.mtime = to_time_point(st.st_mtim);
  out.fd = std::move(fd);
  return read_status::ok;
}

remove_outcome remove_if_same(int dirfd, const std::string& name,
                              const std::string& path, dev_t dev, ino_t ino,
                              std::string& error, const char* keep_as) {
  auto tmp = unique_name(name, ".removing");
  if (::renameat(dirfd, name.c_str(), dirfd, tmp.c_str()) != 0) {
    if (errno == ENOENT)
      return remove_outcome::vanished;
    error = "cannot remove " + path + ": " + std::strerror(errno);
    return remove_outcome::error;
  }
  struct stat st;
  if (::fstatat(dirfd, tmp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0
      && st.st_dev == dev && st.st_ino == ino) {
    if (keep_as
        && ::renameat2(dirfd, tmp.c_str(), dirfd, keep_as, RENAME_NOREPLACE)
          == 0)
      return remove_outcome::removed;
    if (::unlinkat(dirfd, tmp.c_str(), 0) == 0)
      return remove_outcome::removed;
    error = "cannot remove " + path + ": " + std::strerror(errno);
    return remove_outcome::error;
  }
  // We took a lock that replaced the one we judged: put it back, never
  // overwriting a lock created in the meantime.
  int rc = ::renameat2(dirfd, tmp.c_str(), dirfd, name.c_str(),
                       RENAME_NOREPLACE);
  if (rc != 0 && errno == EINVAL) { // File system without RENAME_NOREPLACE.
    rc = ::linkat(dirfd, tmp.c_str(), dirfd, name.c_str(), 0);
    if (rc == 0)
      ::unlinkat(dirfd, tmp.c_str(), 0);
  }
  if (rc != 0) {
    locks_log()->error("event=lock_restore_failed path={} error=\"{}\"", path,
                       std::strerror(errno));
    ::unlinkat(dirfd, tmp.c_str(), 0);
  }
  return remove_outcome::replaced;
}

// -- counters ------------------------------------------------------------------

lock_counters lock_counters_snapshot() {
  lock_counters result;
  result.acquisitions = acquisitions_count.load(std::memory_order_relaxed);
  result.waits = waits_count.load(std::memory_order_relaxed);
  result.reclaims = reclaims_count.load(std::memory_order_relaxed);
  result.held = held_count.load(std::memory_order_relaxed);
  return result;
}

void count_lock_reclaim() {
  reclaims_count.fetch_add(1, std::memory_order_relaxed);
}

// -- the lock ------------------------------------------------------------------

std::chrono::milliseconds retry_delay(uint32_t attempt) {
  auto n = std::max<uint32_t>(attempt, 1);
  return std::chrono::milliseconds{std::min<uint64_t>(1000, 50ull * n)};
}

std::string process_instance_id() {
  // Keyed by pid, so that a forked child gets an id of its own.
  static std::mutex mtx;
  static pid_t owner_pid = -1;
  static std::string value;
  std::lock_guard<std::mutex> guard{mtx};
  if (owner_pid != ::getpid()) {
    owner_pid = ::getpid();
    std::random_device rd;
    char buf[64];
    std::snprintf(buf, sizeof(buf), "zr-%d-%08x", static_cast<int>(owner_pid),
                  static_cast<unsigned>(rd()));
    value = buf;
  }
  return value;
}

const char* to_string(acquire_state state) {
  switch (state) {
    case acquire_state::acquired: return "acquired";
    case acquire_state::held: return "held";
    case acquire_state::error: return "error";
  }
  return "unknown";
}

session_lock::session_lock(std::string data_root, int64_t user_id,
                           session_lock_options options)
  : data_root_(std::move(data_root)), user_id_(user_id),
    options_(std::move(options)) {
  if (options_.instance.empty())
    options_.instance = process_instance_id();
}

session_lock::session_lock(session_lock&& other) noexcept
  : data_root_(std::move(other.data_root_)), user_id_(other.user_id_),
    options_(std::move(other.options_)), owner_(std::move(other.owner_)),
    file_(std::move(other.file_)), dev_(other.dev_), ino_(other.ino_) {
  // nop
}

session_lock& session_lock::operator=(session_lock&& other) noexcept {
  if (this != &other) {
    release();
    data_root_ = std::move(other.data_root_);
    user_id_ = other.user_id_;
    options_ = std::move(other.options_);
    owner_ = std::move(other.owner_);
    file_ = std::move(other.file_);
    dev_ = other.dev_;
    ino_ = other.ino_;
  }
  return *this;
}

session_lock::~session_lock() {
  release();
}

std::string session_lock::path() const {
  return user_data_dir(data_root_, user_id_) + '/' + session_lock_file_name;
}

acquire_result session_lock::try_acquire() {
  acquire_result result;
  if (file_) {
    result.state = acquire_state::acquired;
    result.owner = owner_;
    return result;
  }
  auto dir = open_user_dir(data_root_, user_id_, options_.create_user_dir,
                           result.error);
  if (!dir)
    return result;
  const std::string name = session_lock_file_name;
  const auto lock_path = path();
  staleness_policy policy{options_.max_age, own_hostname()};
  result.state = acquire_state::held;
  // Two rounds: a stale lock reclaimed in the first leaves room for the second.
  for (int round = 0; round < 2; ++round) {
    lock_owner me{::getpid(),        format_iso8601(lock_clock::now()),
                  own_starttime(),   own_hostname(),
                  options_.instance, {}};
    struct stat st;
    if (auto spare = acquire_from_spare(dir.get(), me, st))
      return hold(std::move(spare), st, std::move(me), result);
    unique_fd fd{::openat(dir.get(), name.c_str(),
                          O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                          0600)};
    if (fd) {
      if (!write_all(fd.get(), format_lock_owner(me))
          || ::fstat(fd.get(), &st) != 0) {
        int err = errno;
        result.state = acquire_state::error;
        result.error = "cannot write " + lock_path + ": " + std::strerror(err);
        std::string ignored;
        if (::fstat(fd.get(), &st) == 0)
          remove_if_same(dir.get(), name, lock_path, st.st_dev, st.st_ino,
                         ignored);
        return result;
      }
      return hold(std::move(fd), st, std::move(me), result);
    }
    if (errno != EEXIST) {
      result.state = acquire_state::error;
      result.error = "cannot create " + lock_path + ": " + std::strerror(errno);
      return result;
    }
    lock_file_snapshot snap;
    auto status = read_lock_file(dir.get(), name, lock_path, snap,
                                 result.error);
    if (status == read_status::missing)
      continue; // Released between our open and our read.
    if (status == read_status::error) {
      result.state = acquire_state::error;
      return result;
    }
    result.owner = snap.owner;
    auto facts = needs_probe(snap.owner, policy) ? probe_process(snap.owner.pid)
                                                 : process_facts{};
    auto verdict = judge_lock(snap.owner, facts, lock_clock::now(), snap.mtime,
                              policy);
    if (!verdict.stale)
      break;
    // The guard makes concurrent reclaimers take turns, so that none of them
    // removes a fresh lock another one has just created in the stale one's
    // place. It is held for a few system calls only and never waited for.
    if (::flock(dir.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
      break; // Someone else is reclaiming right now; retry later.
    auto outcome = remove_if_same(dir.get(), name, lock_path, snap.dev,
                                  snap.ino, result.error);
    ::flock(dir.get(), LOCK_UN);
    if (outcome == remove_outcome::error) {
      result.state = acquire_state::error;
      return result;
    }
    if (outcome == remove_outcome::removed) {
      result.reclaimed = verdict.reasons_text();
      reclaims_count.fetch_add(1, std::memory_order_relaxed);
      locks_log()->warn("event=lock_reclaimed path={} reason={} {}", lock_path,
                        result.reclaimed, describe(snap.owner));
    }
  }
  waits_count.fetch_add(1, std::memory_order_relaxed);
  return result;
}

acquire_result& session_lock::hold(unique_fd fd, const struct stat& st,
                                   lock_owner me, acquire_result& result) {
  file_ = std::move(fd);
  held_count.fetch_add(1, std::memory_order_relaxed);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  owner_ = me;
  acquisitions_count.fetch_add(1, std::memory_order_relaxed);
  result.state = acquire_state::acquired;
  result.owner = std::move(me);
  return result;
}

unique_fd session_lock::acquire_from_spare(int dirfd, const lock_owner& me,
                                           struct stat& st) {
  // Renaming the spare to a name of our own claims it: of two routers on one
  // data root, one gets it and the other ENOENT.
  auto claim = unique_name(session_lock_file_name, ".claim");
  if (::renameat(dirfd, session_lock_spare_name, dirfd, claim.c_str()) != 0)
    return {};
  auto discard = [dirfd, &claim] {
    ::unlinkat(dirfd, claim.c_str(), 0);
    return unique_fd{};
  };
  // The user dir is shared with the container: take only a plain file of
  // ours with no other name (never write through a symlink or a hard link).
  unique_fd fd{
    ::openat(dirfd, claim.c_str(),
             O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)};
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)
      || st.st_nlink != 1 || st.st_uid != ::geteuid())
    return discard();
  // The owner is in the file before it is the lock: a reader never sees
  // the previous holder's content under the lock's name.
  // Overwritten in place, then cut to length: the owner is about as long
  // as the previous one, so the file keeps its block.
  auto text = format_lock_owner(me);
  if (!write_all(fd.get(), text)
      || ::ftruncate(fd.get(), static_cast<off_t>(text.size())) != 0)
    return discard();
  if (::renameat2(dirfd, claim.c_str(), dirfd, session_lock_file_name,
                  RENAME_NOREPLACE)
      == 0)
    return fd;
  if (errno == EEXIST
      && ::renameat2(dirfd, claim.c_str(), dirfd, session_lock_spare_name,
                     RENAME_NOREPLACE)
        == 0)
    return {}; // Held: the caller judges the holder; the spare stays.
  return discard();
}

bool session_lock::release() {
  if (!file_)
    return false;
  std::string error;
  auto lock_path = path();
  auto outcome = remove_outcome::error;
  // No create: a user dir removed while the lock was held stays removed.
  if (auto dir = open_user_dir(data_root_, user_id_, false, error))
    outcome = remove_if_same(dir.get(), session_lock_file_name, lock_path, dev_,
                             ino_, error, session_lock_spare_name);
  else if (errno == ENOENT)
    outcome = remove_outcome::vanished;
  file_.reset();
  held_count.fetch_sub(1, std::memory_order_relaxed);
  switch (outcome) {
    case remove_outcome::removed: return true;
    case remove_outcome::vanished:
      locks_log()->warn("event=lock_vanished path={} (removed by someone else "
                        "while held)",
                        lock_path);
      break;
    case remove_outcome::replaced:
      locks_log()->warn(
        "event=lock_replaced path={} (reclaimed by someone else "
        "while held; the new holder's file was left)",
        lock_path);
      break;
    case remove_outcome::error:
      locks_log()->error("event=lock_release_failed error=\"{}\"", error);
      break;
  }
  return false;
}

} // namespace zaki
