#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

#include "containers/cgroups.hpp"

namespace zaki {

/// How to start one gateway process.
struct child_options {
  /// argv[0] is the program path.
  std::vector<std::string> argv;
  /// Complete environment, `NAME=value` each.
  std::vector<std::string> env;
  /// Working directory (an open directory fd; the data dir).
  int cwd_fd = -1;
  /// stdout and stderr go here (opened for appending).
  int log_fd = -1;
  /// Group to join before exec, and the rlimit fallback.
  const cgroup_handle* cgroup = nullptr;
};

/// Outcome of `spawn_child`.
struct child_result {
  pid_t pid = -1;
  /// Empty on success, else why (e.g. "exec /x: No such file or directory").
  std::string error;
};

/// Forks and execs a child in a process group of its own, in its cgroup,
/// with the given cwd, env and log; returns once exec succeeded or failed
/// (a CLOEXEC pipe reports exec errors, which takes about a millisecond).
/// Between fork and exec the child only makes async-signal-safe calls.
child_result spawn_child(const child_options& opts);

/// Returns field 22 of /proc/<pid>/stat (start time in clock ticks), or 0.
unsigned long long process_start_time(pid_t pid);

/// Returns the first argument of /proc/<pid>/cmdline, or "".
std::string program_of(pid_t pid);

/// Returns the path of the running executable's directory.
std::string self_exe_dir();

} // namespace zaki
