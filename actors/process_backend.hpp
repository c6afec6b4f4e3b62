#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "containers/cgroups.hpp"
#include "messages/backend.hpp"

namespace zaki {

struct pid_watch;

/// Where one gateway process is; `to_string` is what `container_info`
/// reports ("running", "exited", "missing").
enum class process_state : uint8_t {
  /// Never started, or its adoption found nothing.
  missing,
  running,
  exited,
};

/// Returns the state's name.
inline const char* to_string(process_state x) {
  switch (x) {
    case process_state::missing: return "missing";
    case process_state::running: return "running";
    case process_state::exited: return "exited";
  }
  return "unknown";
}

/// One user's gateway process.
struct process_child {
  container_spec spec;
  pid_t pid = -1;
  /// False for a process adopted after a router restart (not our child:
  /// its exit is seen through its pidfd, its status is unknown).
  bool own = true;
  uint64_t generation = 0;
  process_state state = process_state::missing;
  bool stopping = false;
  /// Frozen with SIGSTOP (`containers.idle-action=pause`).
  bool paused = false;
  std::vector<caf::typed_response_promise<bool>> stop_waiters;
  /// Runs once a stop completed (restart, remove).
  std::vector<std::function<void()>> after_stop;
  std::shared_ptr<pid_watch> watch;
  cgroup_handle cgroup;
  uint64_t oom_base = 0;
  int32_t last_exit = -1;
  bool last_oom = false;
  std::string last_error;
};

/// State of the PROCESS backend: the gateway command as a child process
/// per user, in its own process group and cgroup, exits seen at once
/// through pidfds on the io_context.
struct process_backend_state {
  static inline const char* name = "process_backend";
  context_ptr ctx;
  /// Absolute path of the gateway program.
  std::string program;
  std::unordered_map<int64_t, process_child> children;
  uint64_t next_generation = 0;
  uint64_t starts = 0;
  uint64_t unexpected_exits = 0;
  /// Set on an orderly shutdown (user_shutdown from the provisioner).
  bool orderly = false;
  /// On an orderly shutdown, terminates the children that still run; after
  /// a crash of the provisioner they keep running and the next backend
  /// adopts them through their pid files.
  ~process_backend_state();
};

/// Spawns the process backend's behavior.
backend_actor::behavior_type
process_backend(backend_actor::stateful_pointer<process_backend_state> self,
                context_ptr ctx);

/// Returns the gateway program of the process backend: the configured
/// command, else zaki-test-gateway next to the running executable.
std::string gateway_program(const settings& s);

} // namespace zaki
