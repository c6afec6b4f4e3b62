#include "containers/spawn_child.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace zaki {

namespace {

/// Child side: only async-signal-safe calls until execve. Reports errno
/// through `err_fd` and exits with 127 on failure.
[[noreturn]] void run_child(const child_options& opts, char* const* argv,
                            char* const* envp,
                            const std::vector<int>& procs_fds, int err_fd) {
  auto fail = [err_fd](int step) {
    int data[2] = {step, errno};
    (void) !::write(err_fd, data, sizeof(data));
    ::_exit(127);
  };
  // Restore default signal dispositions and an empty mask: the router
  // ignores SIGPIPE and Asio may block signals in this thread.
  for (int sig = 1; sig < NSIG; ++sig)
    ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::setpgid(0, 0) != 0)
    fail(1);
  for (int fd : procs_fds)
    if (::write(fd, "0", 1) != 1)
      fail(2);
  if (opts.cgroup != nullptr && opts.cgroup->rlimit_as > 0) {
    rlimit lim{opts.cgroup->rlimit_as, opts.cgroup->rlimit_as};
    if (::setrlimit(RLIMIT_AS, &lim) != 0)
      fail(3);
  }
  if (opts.cwd_fd >= 0 && ::fchdir(opts.cwd_fd) != 0)
    fail(4);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull < 0 || ::dup2(devnull, 0) < 0)
    fail(5);
  if (opts.log_fd >= 0
      && (::dup2(opts.log_fd, 1) < 0 || ::dup2(opts.log_fd, 2) < 0))
    fail(5);
  // Close every other inherited descriptor (sockets of the router) but
  // the error pipe, which is CLOEXEC and closes on a successful exec.
  if (err_fd > 3)
    (void) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(err_fd - 1),
                     0u);
  (void) ::syscall(SYS_close_range, static_cast<unsigned>(err_fd + 1), ~0u, 0u);
  ::execve(argv[0], argv, envp);
  fail(6);
  ::_exit(127);
}

const char* step_name(int step) {
  switch (step) {
    case 1: return "setpgid";
    case 2: return "joining the cgroup";
    case 3: return "setrlimit";
    case 4: return "chdir to the data dir";
    case 5: return "redirecting stdio";
    default: return "exec";
  }
}

} // namespace

child_result spawn_child(const child_options& opts) {
  child_result result;
  if (opts.argv.empty()) {
    result.error = "no program";
    return result;
  }
  // Everything the child needs is prepared before fork: no allocation
  // happens in the child.
  std::vector<char*> argv;
  for (auto& a : opts.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : opts.env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::vector<int> procs_fds;
  if (opts.cgroup != nullptr)
    for (auto& dir : opts.cgroup->dirs) {
      int fd = ::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) {
        result.error = dir + "/cgroup.procs: " + std::strerror(errno);
        for (int f : procs_fds)
          ::close(f);
        return result;
      }
      procs_fds.push_back(fd);
    }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    result.error = std::string{"pipe: "} + std::strerror(errno);
    for (int f : procs_fds)
      ::close(f);
    return result;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    run_child(opts, argv.data(), envp.data(), procs_fds, pipe_fds[1]);
  }
  int fork_errno = errno;
  ::close(pipe_fds[1]);
  for (int f : procs_fds)
    ::close(f);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    result.error = std::string{"fork: "} + std::strerror(fork_errno);
    return result;
  }
  int data[2] = {0, 0};
  ssize_t n;
  do
    n = ::read(pipe_fds[0], data, sizeof(data));
  while (n < 0 && errno == EINTR);
  ::close(pipe_fds[0]);
  if (n == static_cast<ssize_t>(sizeof(data))) {
    int status = 0;
    ::waitpid(pid, &status, 0); // exits at once with 127
    result.error = std::string{step_name(data[0])} + " " + opts.argv[0] + ": "
      + std::strerror(data[1]);
    return result;
  }
  result.pid = pid;
  return result;
}

unsigned long long process_start_time(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text;
  std::getline(in, text);
  // The command name (field 2) may contain spaces and parentheses: fields
  // after it start behind the last ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream rest{text.substr(close + 2)};
  std::string field;
  // Field 3 is the state; field 22 is the 20th field after the name.
  for (int i = 3; i < 22; ++i)
    rest >> field;
  unsigned long long start = 0;
  rest >> start;
  return start;
}

std::string program_of(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/cmdline"};
  std::string first;
  std::getline(in, first, '\0');
  return first;
}

std::string self_exe_dir() {
  char buf[4096];
  auto n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0)
    return ".";
  std::string path{buf, static_cast<size_t>(n)};
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

} // namespace zaki
