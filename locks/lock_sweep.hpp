#pragma once

#include "locks/lock_staleness.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace zaki {

/// Which program a lock file belongs to.
enum class lock_kind : uint8_t {
  /// `users/user-{id}/router.session.lock`, written by zaki-router.
  router,
  /// `agents/*/sessions/*.jsonl.lock`, OpenClaw <= 2026.7 session locks.
  openclaw_session,
  /// `agents/*/sessions/sessions.json.lock`, OpenClaw's store lock (30 s).
  openclaw_store,
};

/// Returns `router`, `openclaw-session` or `openclaw-store`.
const char* to_string(lock_kind kind);

/// One lock file found by a sweep.
struct lock_entry {
  /// Full path of the file.
  std::string path;

  /// Whose lock it is.
  lock_kind kind = lock_kind::router;

  /// The user whose data dir holds it.
  int64_t user_id = 0;

  /// The parsed content.
  lock_owner owner;

  /// The judgement; meaningless when `error` is set.
  lock_verdict verdict;

  /// Age from createdAt, or from the mtime when createdAt is invalid.
  std::chrono::milliseconds age{0};

  /// The stale file was removed (in a dry run: would have been removed).
  bool removed = false;

  /// What happened instead of a removal that was not needed, e.g. the file
  /// was already gone. Not an error.
  std::string note;

  /// Why the file could not be judged or removed. Nothing is removed then.
  std::string error;
};

/// Something under the data root that is not a lock but deserves a line.
struct sweep_problem {
  /// The path concerned.
  std::string path;

  /// What is wrong with it.
  std::string message;

  /// False for entries merely skipped (e.g. a stray file in `users/`).
  bool is_error = true;
};

/// What a sweep does.
struct sweep_options {
  /// Maximum age of router and session locks; `sessions.json.lock` uses
  /// min(max_age, 30 s), as OpenClaw does.
  std::chrono::milliseconds max_age = std::chrono::minutes{30};

  /// Remove stale locks (otherwise only list them).
  bool clean = false;

  /// With `clean`: decide and report, but remove nothing.
  bool dry_run = false;

  /// Judge OpenClaw's own locks by age only. Set this when the gateway runs
  /// in its own pid namespace (a container): its pids mean nothing here.
  bool legacy_age_only = false;

  /// Probes a pid; empty means `probe_process`. Tests inject forged facts.
  std::function<process_facts(int64_t)> probe;

  /// Probes the pids of OpenClaw's own locks instead of `probe`, e.g.
  /// `[=](int64_t p) { return probe_process_in(container_init_pid, p); }` for
  /// a gateway in a container, whose pids live in the container's namespace.
  std::function<process_facts(int64_t)> legacy_probe;
};

/// Everything a sweep found and did.
struct sweep_report {
  /// Set when nothing could be scanned (data root or user dir unusable).
  std::string root_error;

  /// Every lock file found, in scan order.
  std::vector<lock_entry> locks;

  /// Directory-level findings: symlinks, non-numeric ids, unreadable dirs.
  std::vector<sweep_problem> problems;

  /// Returns the number of stale locks.
  size_t stale() const;

  /// Returns the number of locks removed (or that would be, in a dry run).
  size_t removed() const;

  /// Returns the number of errors, in locks and problems.
  size_t errors() const;
};

/// Sweeps every `{data_root}/users/user-{id}/`: the router lock and OpenClaw's
/// legacy locks. Symlinks are never followed and only stale locks are ever
/// removed, each with a warning in the log.
sweep_report sweep_data_root(const std::string& data_root,
                             const sweep_options& options);

/// Sweeps one user's dir, e.g. when its gateway answered "session file
/// locked". Runs a few system calls per file; cheap enough for an actor.
sweep_report sweep_user_dir(const std::string& data_root, int64_t user_id,
                            const sweep_options& options);

} // namespace zaki
