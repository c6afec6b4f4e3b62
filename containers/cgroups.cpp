#include "containers/cgroups.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <fmt/format.h>

namespace zaki {

namespace {

constexpr long cgroup2_magic = 0x63677270;

/// Writes `value` to `path`; returns an error text or "".
std::string write_file(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return path + ": " + std::strerror(errno);
  auto n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size()))
    return path + ": " + std::strerror(err);
  return {};
}

std::string make_group(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return dir + ": " + std::strerror(errno);
  return {};
}

std::string describe(const quota_request& q) {
  std::string out;
  if (q.memory_mb > 0)
    out += fmt::format(" memory={}MiB", q.memory_mb);
  if (q.cpus > 0)
    out += fmt::format(" cpu={:.2f}", q.cpus);
  if (q.pids > 0)
    out += fmt::format(" pids={}", q.pids);
  return out.empty() ? " none" : out;
}

/// Applies v1 limits: one group per controller.
std::string apply_v1(const std::string& root, const std::string& name,
                     const quota_request& q, cgroup_handle& cg) {
  auto mem = root + "/memory/" + name;
  auto cpu = root + "/cpu/" + name;
  auto pids = root + "/pids/" + name;
  for (auto* dir : {&mem, &cpu, &pids}) {
    if (auto err = make_group(*dir); !err.empty())
      return err;
    cg.dirs.push_back(*dir);
  }
  cg.memory_dir = mem;
  auto bytes = std::to_string(q.memory_mb << 20);
  if (q.memory_mb > 0) {
    // memsw must stay >= limit: raise limit first when growing, so write
    // both twice in the order the kernel accepts.
    (void) write_file(mem + "/memory.memsw.limit_in_bytes", "-1");
    if (auto err = write_file(mem + "/memory.limit_in_bytes", bytes);
        !err.empty())
      return err;
    // Without swap accounting (memsw absent) there is nothing to cap.
    (void) write_file(mem + "/memory.memsw.limit_in_bytes", bytes);
  } else {
    (void) write_file(mem + "/memory.memsw.limit_in_bytes", "-1");
    (void) write_file(mem + "/memory.limit_in_bytes", "-1");
  }
  if (auto err = write_file(cpu + "/cpu.cfs_period_us", "100000"); !err.empty())
    return err;
  auto quota = q.cpus > 0 ? std::to_string(static_cast<long>(q.cpus * 100000))
                          : std::string{"-1"};
  if (auto err = write_file(cpu + "/cpu.cfs_quota_us", quota); !err.empty())
    return err;
  auto pmax = q.pids > 0 ? std::to_string(q.pids) : std::string{"max"};
  if (auto err = write_file(pids + "/pids.max", pmax); !err.empty())
    return err;
  return {};
}

/// Applies v2 limits: one group with every controller enabled above it.
std::string apply_v2(const std::string& root, const std::string& name,
                     const quota_request& q, cgroup_handle& cg) {
  // Processes may only live in leaf groups; enabling the controllers in
  // the root's subtree_control is a no-op when they already are.
  (void) write_file(root + "/cgroup.subtree_control", "+memory +cpu +pids");
  auto dir = root + "/" + name;
  if (auto err = make_group(dir); !err.empty())
    return err;
  cg.dirs.push_back(dir);
  cg.memory_dir = dir;
  auto mem = q.memory_mb > 0 ? std::to_string(q.memory_mb << 20)
                             : std::string{"max"};
  if (auto err = write_file(dir + "/memory.max", mem); !err.empty())
    return err;
  (void) write_file(dir + "/memory.swap.max", q.memory_mb > 0 ? "0" : "max");
  auto cpu = q.cpus > 0
    ? std::to_string(static_cast<long>(q.cpus * 100000)) + " 100000"
    : std::string{"max 100000"};
  if (auto err = write_file(dir + "/cpu.max", cpu); !err.empty())
    return err;
  auto pmax = q.pids > 0 ? std::to_string(q.pids) : std::string{"max"};
  if (auto err = write_file(dir + "/pids.max", pmax); !err.empty())
    return err;
  return {};
}

} // namespace

int cgroup_version(const std::string& root) {
  struct statfs fs {};
  if (::statfs(root.c_str(), &fs) != 0)
    return 0;
  if (static_cast<long>(fs.f_type) == cgroup2_magic)
    return 2;
  struct stat st {};
  if (::stat((root + "/memory").c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return 1;
  return 0;
}

cgroup_handle prepare_cgroup(const std::string& root, const std::string& name,
                             const quota_request& q) {
  cgroup_handle cg;
  auto version = cgroup_version(root);
  std::string err = "no cgroup hierarchy at " + root;
  if (version == 1)
    err = apply_v1(root, name, q, cg);
  else if (version == 2)
    err = apply_v2(root, name, q, cg);
  if (err.empty()) {
    cg.version = version;
    cg.applied = fmt::format("cgroup v{}:{}", version, describe(q));
    return cg;
  }
  // Not writable (not root, read-only mount, ...): fall back to rlimits.
  remove_cgroup(cg);
  cg = cgroup_handle{};
  cg.rlimit_as = q.memory_mb << 20;
  cg.applied = q.memory_mb > 0
    ? fmt::format("rlimits: RLIMIT_AS={}MiB", q.memory_mb)
    : std::string{"rlimits: none"};
  cg.not_applied = "cgroups not writable (" + err + ")";
  if (q.cpus > 0)
    cg.not_applied += "; cpu quota not applied: RLIMIT_CPU caps total CPU "
                      "seconds, not a rate";
  if (q.pids > 0)
    cg.not_applied += "; pids quota not applied: RLIMIT_NPROC counts per uid";
  return cg;
}

uint64_t oom_kill_count(const cgroup_handle& cg) {
  if (cg.memory_dir.empty())
    return 0;
  std::ifstream in{
    cg.memory_dir
    + (cg.version == 1 ? "/memory.oom_control" : "/memory.events")};
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value)
    if (key == "oom_kill")
      return value;
  return 0;
}

std::vector<pid_t> cgroup_pids(const cgroup_handle& cg) {
  std::vector<pid_t> result;
  for (auto& dir : cg.dirs) {
    std::ifstream in{dir + "/cgroup.procs"};
    pid_t pid = 0;
    while (in >> pid)
      result.push_back(pid);
  }
  return result;
}

void remove_cgroup(const cgroup_handle& cg) {
  for (auto& dir : cg.dirs)
    (void) ::rmdir(dir.c_str());
}

} // namespace zaki
