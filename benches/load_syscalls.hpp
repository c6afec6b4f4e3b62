#pragma once

// Counts the system calls of the router over a bench phase with `perf stat`
// on the syscall tracepoints (issue 24 item 7): the total and the calls that
// make up the per-message cost. Needs /usr/bin/perf and tracepoint access
// (root, or kernel.perf_event_paranoid <= 1); without them nothing is
// counted and the bench says so.

#include <chrono>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <signal.h>
#include <unistd.h>

#include "benches/load_proc.hpp"

namespace zaki::bench {

/// The calls counted one by one beside the total ("all").
inline const std::vector<std::string>& counted_syscalls() {
  static const std::vector<std::string> names{
    "write",   "writev", "read",       "recvfrom",    "recvmsg",
    "sendmsg", "sendto", "epoll_wait", "epoll_pwait", "futex",
    "openat",  "close",  "fdatasync",  "fsync"};
  return names;
}

/// One `perf stat` attached to a process for the length of a phase.
class syscall_counter {
public:
  /// Starts counting the calls of `pid`, `perf stat`'s output in `file`.
  bool start(pid_t pid, const std::string& file) {
    if (::access("/usr/bin/perf", X_OK) != 0)
      return false;
    file_ = file;
    std::string events = "raw_syscalls:sys_enter";
    for (auto& name : counted_syscalls())
      events += ",syscalls:sys_enter_" + name;
    if (!perf_.spawn({"/usr/bin/perf", "stat", "-x,", "-o", file, "-e", events,
                      "-p", std::to_string(pid)},
                     {}, file + ".log"))
      return false;
    // perf attaches to every thread of the process before counting.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return true;
  }

  /// Stops counting; returns the counts by call ("all" first), empty when
  /// perf could not count.
  std::vector<std::pair<std::string, double>> stop() {
    std::vector<std::pair<std::string, double>> out;
    if (perf_.pid() <= 0)
      return out;
    ::kill(perf_.pid(), SIGINT);
    perf_.wait_for_exit(std::chrono::seconds(30));
    // Lines of -x, output: count,unit,event,...; "<not counted>" and
    // comments are skipped.
    std::ifstream in{file_};
    std::string line;
    const std::string prefix = "syscalls:sys_enter_";
    while (std::getline(in, line)) {
      auto c1 = line.find(',');
      auto c2 = c1 == std::string::npos ? c1 : line.find(',', c1 + 1);
      auto c3 = c2 == std::string::npos ? c2 : line.find(',', c2 + 1);
      if (line.empty() || line[0] == '#' || c3 == std::string::npos)
        continue;
      auto count = line.substr(0, c1);
      if (count.empty() || count[0] < '0' || count[0] > '9')
        continue;
      auto event = line.substr(c2 + 1, c3 - c2 - 1);
      if (event == "raw_syscalls:sys_enter")
        out.insert(out.begin(), {"all", std::stod(count)});
      else if (event.compare(0, prefix.size(), prefix) == 0)
        out.emplace_back(event.substr(prefix.size()), std::stod(count));
    }
    if (!out.empty() && out.front().first != "all")
      out.clear();
    return out;
  }

private:
  child_process perf_;
  std::string file_;
};

} // namespace zaki::bench
