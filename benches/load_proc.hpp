#pragma once

// The load bench's view of processes: spawning the router under test as a
// separate process, and reading CPU time, peak memory and machine load from
// /proc, so the figures are what `top` would show for the real binary.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace zaki::bench {

/// Returns the whole text of a (small) file, or "" when it cannot be read.
inline std::string read_text(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// CPU time (user + system) of a process in seconds, from /proc/<pid>/stat;
/// negative when the process is gone.
inline double process_cpu_seconds(pid_t pid) {
  auto text = read_text("/proc/" + std::to_string(pid) + "/stat");
  // The command name may hold spaces; fields count from after its ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return -1;
  std::istringstream in{text.substr(close + 2)};
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  // Fields 3..13 precede utime (14) and stime (15).
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14)
      utime = std::stoull(field);
    else if (i == 15)
      stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime)
    / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// Returns a `kB` field of /proc/<pid>/status (e.g. "VmHWM") in bytes, or 0.
inline uint64_t process_status_kb(pid_t pid, const std::string& field) {
  auto text = read_text("/proc/" + std::to_string(pid) + "/status");
  auto pos = text.find(field + ":");
  if (pos == std::string::npos)
    return 0;
  return std::strtoull(text.c_str() + pos + field.size() + 1, nullptr, 10)
    * 1024;
}

/// Returns the CPU time of this process (every thread) in seconds.
inline double self_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) {
    return tv.tv_sec + tv.tv_usec / 1e6;
  };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

/// Returns the CPU time of the calling thread in seconds.
inline double thread_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_THREAD, &ru);
  auto sec = [](const timeval& tv) {
    return tv.tv_sec + tv.tv_usec / 1e6;
  };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

/// Machine-wide CPU counters from the first line of /proc/stat, in ticks.
struct machine_ticks {
  uint64_t busy = 0;
  uint64_t total = 0;
};

/// Reads the aggregate "cpu" line of /proc/stat.
inline machine_ticks read_machine_ticks() {
  std::ifstream in{"/proc/stat"};
  std::string cpu;
  in >> cpu;
  machine_ticks out;
  uint64_t v = 0;
  for (int i = 0; i < 10 && in >> v; ++i) {
    out.total += v;
    if (i != 3 && i != 4) // idle and iowait
      out.busy += v;
  }
  return out;
}

/// Returns the 1-minute load average.
inline double load_average_1m() {
  double v = 0;
  if (auto f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &v) != 1)
      v = 0;
    std::fclose(f);
  }
  return v;
}

/// Returns the directory of the running executable (where zaki-router is
/// built next to the bench).
inline std::string own_directory() {
  std::vector<char> buf(4096);
  auto n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0)
    return ".";
  std::string path{buf.data(), static_cast<size_t>(n)};
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

/// A child process started with posix_spawn; killed when destroyed.
class child_process {
public:
  child_process() = default;

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  ~child_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait_for_exit(std::chrono::seconds(5));
    }
  }

  /// Starts `argv[0]` with `argv`, the environment plus `extra_env`, and
  /// stdout/stderr appended to `log_file`. Returns false on failure.
  bool spawn(const std::vector<std::string>& argv,
             const std::vector<std::string>& extra_env,
             const std::string& log_file) {
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_store;
    for (char** e = environ; *e != nullptr; ++e)
      env_store.emplace_back(*e);
    for (auto& e : extra_env)
      env_store.push_back(e);
    std::vector<char*> env;
    for (auto& e : env_store)
      env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_file.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    auto rc = ::posix_spawn(&pid_, args[0], &fa, nullptr, args.data(),
                            env.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
      pid_ = -1;
    return rc == 0;
  }

  /// Returns the process id, or -1.
  pid_t pid() const {
    return pid_;
  }

  /// Returns whether the child still runs (and reaps it if not).
  bool running() {
    if (pid_ <= 0)
      return false;
    int status = 0;
    auto rc = ::waitpid(pid_, &status, WNOHANG);
    if (rc == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status)
                                     : 128 + WTERMSIG(status);
      pid_ = -1;
      return false;
    }
    return true;
  }

  /// Waits until the child exited; returns false on timeout.
  bool wait_for_exit(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() >= until)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  /// Sends SIGTERM, waits up to `grace`, then SIGKILL. Returns the exit code.
  int stop(std::chrono::milliseconds grace) {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      if (!wait_for_exit(grace)) {
        ::kill(pid_, SIGKILL);
        wait_for_exit(std::chrono::seconds(5));
      }
    }
    return exit_code_;
  }

  /// Returns the exit code once exited (128 + signal when killed).
  int exit_code() const {
    return exit_code_;
  }

private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

} // namespace zaki::bench
