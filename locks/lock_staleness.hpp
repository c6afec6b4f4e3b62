#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zaki {

/// The wall clock used for lock ages; createdAt is wall-clock time.
using lock_clock = std::chrono::system_clock;

/// The content of a lock file in OpenClaw's format, extended with the
/// writer's hostname and router instance id. OpenClaw writes
/// `{"pid":..,"createdAt":"..","starttime":..}`; absent fields keep their
/// defaults so that every file, even garbage, yields a judgeable owner.
struct lock_owner {
  /// Process id of the holder; 0 when missing or not a positive integer.
  int64_t pid = 0;

  /// ISO-8601 UTC time of creation, as written (may be invalid).
  std::string created_at;

  /// Field 22 of /proc/<pid>/stat in clock ticks; -1 when absent.
  int64_t starttime = -1;

  /// Host of the writer; empty in OpenClaw's own files.
  std::string hostname;

  /// Router instance id of the writer; empty in OpenClaw's own files.
  std::string instance;

  /// Why the content was not a JSON object; empty when it was.
  std::string parse_error;
};

/// Parses lock content. Never fails: garbage or an empty file gives an owner
/// with defaults and `parse_error` set, fields of the wrong type are ignored.
lock_owner parse_lock_owner(std::string_view text);

/// Formats an owner as compact JSON (pid, createdAt, starttime, hostname,
/// instance; absent optional fields are left out).
std::string format_lock_owner(const lock_owner& owner);

/// Returns a short description for logs: `pid=.. host=.. instance=..
/// createdAt=..`.
std::string describe(const lock_owner& owner);

/// Formats `t` as ISO-8601 UTC with milliseconds, e.g.
/// `2026-11-22T09:03:12.282Z`.
std::string format_iso8601(lock_clock::time_point t);

/// Parses `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM|-HH:MM]`. A time without
/// zone is read as UTC. Returns nothing for anything else.
std::optional<lock_clock::time_point> parse_iso8601(std::string_view text);

/// What the operating system says about a lock owner's pid. Kept apart from
/// the judgement so that the pure function can be tested with forged facts.
struct process_facts {
  /// Whether a process with that pid exists (zombies count as dead).
  bool alive = false;

  /// Its starttime (field 22 of /proc/<pid>/stat), -1 when unknown.
  int64_t starttime = -1;
};

/// Probes a pid on this host through kill(pid, 0) and /proc/<pid>/stat.
process_facts probe_process(int64_t pid);

/// Probes a pid of another pid namespace (a container) through the procfs
/// that namespace sees: /proc/<init_pid>/root/proc/<pid>/stat, where
/// `init_pid` is the host pid of the container's first process (Docker's
/// State.Pid). Starttimes count from the same boot, so they stay comparable.
/// Unreadable (no permission) counts as alive with unknown starttime.
process_facts probe_process_in(int64_t init_pid, int64_t pid);

/// Returns the starttime of the calling process (read once per pid, then
/// cached), or -1 when /proc is unreadable.
int64_t own_starttime();

/// Returns this host's name (read once, then cached).
const std::string& own_hostname();

/// Why a lock counts as stale, as OpenClaw names it.
enum class stale_reason : uint8_t {
  missing_pid = 1,
  dead_pid = 2,
  recycled_pid = 4,
  invalid_created_at = 8,
  too_old = 16,
};

/// Returns OpenClaw's name of a reason, e.g. `dead-pid`.
const char* to_string(stale_reason reason);

/// Inputs of the judgement besides the owner and the probe.
struct staleness_policy {
  /// Locks older than this are stale (OpenClaw's staleMs, 30 min by default).
  std::chrono::milliseconds max_age = std::chrono::minutes{30};

  /// This host's name; a lock naming another host is judged by age only.
  std::string local_hostname;

  /// Judge by age only: the lock's pids live in another pid namespace (an
  /// OpenClaw lock written inside a container), so this host cannot check them.
  bool age_only = false;
};

/// The judgement of one lock.
struct lock_verdict {
  /// Bitmask of `stale_reason` values that apply.
  uint8_t reasons = 0;

  /// Whether the lock may be removed now.
  bool stale = false;

  /// Reasons apply but the file was written too recently to tell a crashed
  /// writer from one still writing (OpenClaw's mtime rule).
  bool too_recent = false;

  /// The lock names another host (or the policy says age only), so its pid
  /// was not checked.
  bool foreign_host = false;

  /// Age from createdAt, when that is valid.
  std::optional<std::chrono::milliseconds> age;

  /// Returns whether `r` applies.
  bool has(stale_reason r) const {
    return (reasons & static_cast<uint8_t>(r)) != 0;
  }

  /// Returns the reasons joined by commas, e.g. `dead-pid,too-old`.
  std::string reasons_text() const;
};

/// Returns whether the owner's pid should be probed on this host: it has a
/// pid, names no other host and the policy is not age only.
bool needs_probe(const lock_owner& owner, const staleness_policy& policy);

/// Judges a lock as OpenClaw does: missing-pid, dead-pid, recycled-pid
/// (alive but another starttime), invalid-createdAt, too-old. A lock with no
/// pid or no valid createdAt may be mid-write, so it is only stale once its
/// mtime is older than min(max_age, 5 s). `facts` is only consulted when
/// `needs_probe` holds.
lock_verdict judge_lock(const lock_owner& owner, const process_facts& facts,
                        lock_clock::time_point now,
                        lock_clock::time_point mtime,
                        const staleness_policy& policy);

} // namespace zaki
