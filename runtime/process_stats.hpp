#pragma once

#include <cstdint>
#include <string_view>

namespace zaki {

/// Memory and CPU use of this process, for /health and /metrics.
struct process_stats {
  /// Resident set size now (VmRSS), in bytes; 0 when unknown.
  uint64_t rss_bytes = 0;
  /// Highest resident set size so far (VmHWM), in bytes; 0 when unknown.
  uint64_t peak_rss_bytes = 0;
  /// User plus system CPU time, in seconds.
  double cpu_seconds = 0;
  /// Threads of the process (Threads); 0 when unknown.
  uint64_t threads = 0;
  /// Open file descriptors; 0 when unknown.
  uint64_t open_fds = 0;
};

/// Reads /proc/self/status, getrusage and /proc/self/fd. Cheap (a few
/// system calls); never fails, unknown fields stay 0.
process_stats read_process_stats();

/// Fills the memory fields and the thread count of `out` from the text of a
/// /proc/<pid>/status file (pure; tested on its own).
void parse_proc_status(std::string_view text, process_stats& out);

} // namespace zaki
