#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

namespace zaki {

/// The resource quota of one container.
struct quota_request {
  /// Memory in MiB, swap excluded (0: no limit).
  uint64_t memory_mb = 0;
  /// CPU share in CPUs, e.g. 0.5 (0: no limit).
  double cpus = 0;
  /// Processes and threads (0: no limit).
  uint64_t pids = 0;
};

/// The cgroup (or the rlimit fallback) that holds one user's gateway.
struct cgroup_handle {
  /// 1 or 2 for a cgroup, 0 when only rlimits apply.
  int version = 0;
  /// Group directories created for this user (one per v1 controller).
  std::vector<std::string> dirs;
  /// Group holding the memory controller (OOM counter), or empty.
  std::string memory_dir;
  /// RLIMIT_AS to set in the child (fallback), 0 for none.
  uint64_t rlimit_as = 0;
  /// What is enforced, e.g. "cgroup v1: memory=64MiB cpu=0.50 pids=64".
  std::string applied;
  /// What is not enforced and why; empty when everything is.
  std::string not_applied;
};

/// Returns 2 when `root` is a cgroup2 mount, 1 when it holds v1
/// hierarchies (a tmpfs with controller dirs), 0 when neither.
int cgroup_version(const std::string& root = "/sys/fs/cgroup");

/// Creates (or reuses) the group `name` under `root` and writes the limits;
/// falls back to rlimits where the hierarchy is not writable, saying so in
/// `not_applied`. Never throws; local sysfs writes only.
cgroup_handle prepare_cgroup(const std::string& root, const std::string& name,
                             const quota_request& q);

/// Returns the number of OOM kills in the group so far (0 without one).
uint64_t oom_kill_count(const cgroup_handle& cg);

/// Returns the processes in the group (to signal all of them in v1).
std::vector<pid_t> cgroup_pids(const cgroup_handle& cg);

/// Removes the group directories (they must be empty).
void remove_cgroup(const cgroup_handle& cg);

} // namespace zaki
