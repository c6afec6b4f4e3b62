#pragma once

#include "locks/lock_staleness.hpp"
#include "storage/user_paths.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>

namespace spdlog {
class logger;
} // namespace spdlog

namespace zaki {

// -- lock file primitives (shared by the lock and the sweep) ------------------

/// Name of the router's lock file in a user's data dir. Deliberately not
/// `*.jsonl.lock`: those belong to the gateway, which would time out on ours.
inline constexpr const char* session_lock_file_name = "router.session.lock";

/// A released lock file is kept under this name and renamed back into place
/// by the next acquisition, so that a conversation costs no inode: creating
/// and deleting one per conversation churns the file system (on ext4 without
/// a journal, every inode freed in the last minutes makes each new one
/// slower to allocate). Only the router uses it; the sweep ignores it.
inline constexpr const char* session_lock_spare_name
  = "router.session.lock.spare";

/// Returns the logger `locks` (made on first use, as every logger).
std::shared_ptr<spdlog::logger> locks_log();

/// A lock file opened and read for judgement. The descriptor stays open so
/// that the inode cannot be reused while the file is judged and removed:
/// (dev, ino) then identify exactly the file that was read.
struct lock_file_snapshot {
  /// The open file.
  unique_fd fd;

  /// Device of the file.
  dev_t dev = 0;

  /// Inode of the file.
  ino_t ino = 0;

  /// Last modification, for OpenClaw's mtime rule.
  lock_clock::time_point mtime;

  /// The parsed content.
  lock_owner owner;
};

/// Outcome of `read_lock_file`.
enum class read_status : uint8_t { ok, missing, error };

/// Opens `name` in `dirfd` without following a symlink and reads it (at most
/// 64 KiB). A symlink, a non-regular file or a read error is an error with a
/// message naming `path`; nothing is ever removed here.
read_status read_lock_file(int dirfd, const std::string& name,
                           const std::string& path, lock_file_snapshot& out,
                           std::string& error);

/// Outcome of `remove_if_same`.
enum class remove_outcome : uint8_t {
  /// The file was removed.
  removed,
  /// Nothing was there any more.
  vanished,
  /// Another file had taken the name; it was left in place.
  replaced,
  /// A system call failed; `error` says which.
  error,
};

/// Removes `name` from `dirfd` only if it still is the file (dev, ino). The
/// name is first renamed to a unique temporary name, which atomically takes
/// whatever is there now; if that turns out to be another file (a lock
/// someone just took), it is put back without overwriting (RENAME_NOREPLACE).
/// With `keep_as`, the file is renamed to that name rather than deleted
/// (deleted after all if that name is taken).
remove_outcome remove_if_same(int dirfd, const std::string& name,
                              const std::string& path, dev_t dev, ino_t ino,
                              std::string& error,
                              const char* keep_as = nullptr);

// -- counters ------------------------------------------------------------------

/// Process-wide lock counters for the metrics endpoint.
struct lock_counters {
  /// Successful acquisitions.
  uint64_t acquisitions = 0;
  /// Attempts that found the lock held (each one is a wait).
  uint64_t waits = 0;
  /// Stale locks removed, by acquisitions and sweeps.
  uint64_t reclaims = 0;
  /// Locks this process holds right now (each pins one descriptor).
  uint64_t held = 0;
};

/// Returns the current counter values (relaxed atomic reads).
lock_counters lock_counters_snapshot();

/// Counts a stale lock removed outside `try_acquire` (the sweep calls it).
void count_lock_reclaim();

// -- the lock ------------------------------------------------------------------

/// Returns how long to wait before retry number `attempt` (1-based):
/// min(1000, 50 * attempt) ms, as OpenClaw's acquirer does.
std::chrono::milliseconds retry_delay(uint32_t attempt);

/// Returns this process's router instance id (`zr-<pid>-<random hex>`),
/// generated once per process. Used when the options name no instance.
std::string process_instance_id();

/// Outcome of one acquisition attempt.
enum class acquire_state : uint8_t { acquired, held, error };

/// Returns `acquired`, `held` or `error`.
const char* to_string(acquire_state state);

/// The result of `session_lock::try_acquire`.
struct acquire_result {
  /// What happened.
  acquire_state state = acquire_state::error;

  /// Acquired: what we wrote. Held: the holder as read (for the log; may be
  /// all defaults when the holder is still writing its file).
  lock_owner owner;

  /// Reasons of a stale lock reclaimed on the way, e.g. `dead-pid`.
  std::string reclaimed;

  /// Error: what went wrong, naming the path.
  std::string error;
};

/// Options of a session lock.
struct session_lock_options {
  /// Locks older than this are stale (OpenClaw's staleMs).
  std::chrono::milliseconds max_age = std::chrono::minutes{30};

  /// Router instance id written into the lock; empty: `process_instance_id()`.
  std::string instance;

  /// Create missing `users/` and `user-{id}/` dirs (mode 0700).
  bool create_user_dir = true;
};

/// The router's lock on one user's session: the file
/// `{data_root}/users/user-{id}/router.session.lock` in OpenClaw's format.
/// Move-only RAII: the destructor releases a held lock, so a lock owned by an
/// actor's state is released on every exit path of the actor. Nothing here
/// blocks or sleeps; callers retry `held` results with a timer, waiting
/// `retry_delay(n)`. One object has one owner: it is not thread-safe.
class session_lock {
public:
  /// Creates an empty lock that refers to no user.
  session_lock() = default;

  /// Creates an unlocked lock for user `user_id` under `data_root`.
  session_lock(std::string data_root, int64_t user_id,
               session_lock_options options = {});

  session_lock(session_lock&& other) noexcept;

  session_lock& operator=(session_lock&& other) noexcept;

  session_lock(const session_lock&) = delete;

  session_lock& operator=(const session_lock&) = delete;

  ~session_lock();

  /// Makes one non-blocking attempt: renames the spare file (see
  /// `session_lock_spare_name`), with our owner already written into it, to
  /// the lock's name without replacing anything, or else creates the file
  /// with O_EXCL; or judges the existing lock and, if stale, reclaims it
  /// (with a warning) and tries once more. Acquiring while already held
  /// returns `acquired` again.
  acquire_result try_acquire();

  /// Removes the lock file if it is still ours (same inode), keeping it as
  /// the spare, and forgets it. Returns whether our file was removed.
  bool release();

  /// Returns whether this object holds the lock.
  bool held() const {
    return static_cast<bool>(file_);
  }

  /// Returns the user id.
  int64_t user_id() const {
    return user_id_;
  }

  /// Returns the lock file's path.
  std::string path() const;

private:
  /// Claims the spare file, writes `me` into it and renames it to the lock's
  /// name. Returns the open file (its `stat` in `st`) on success; an empty
  /// one when there is no usable spare or the lock is taken (the spare is
  /// then put back).
  unique_fd acquire_from_spare(int dirfd, const lock_owner& me,
                               struct stat& st);

  /// Keeps `fd` (described by `st`) as the held lock of owner `me` and
  /// reports it acquired in `result`.
  acquire_result& hold(unique_fd fd, const struct stat& st, lock_owner me,
                       acquire_result& result);

  std::string data_root_;
  int64_t user_id_ = 0;
  session_lock_options options_;
  lock_owner owner_;
  // While held: the lock file, whose open descriptor pins its inode so that
  // release can recognise it exactly. The user dir is opened again for the
  // release rather than kept: a lock lingering between the messages of a
  // conversation must cost one descriptor, not two (10,000 users with a
  // lingering lock and a gateway connection each fit in 20,000).
  unique_fd file_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

} // namespace zaki
