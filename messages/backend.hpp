#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/interfaces.hpp"
#include "runtime/context.hpp"

namespace zaki {

/// What a backend needs to run one user's gateway.
struct container_spec {
  int64_t user_id = 0;
  /// `zaki-user-{id}`.
  std::string name;
  /// Host port the gateway is published on.
  uint16_t port = 0;
  /// Gateway token (a secret: never logged).
  std::string token;
  /// `{data_root}/users/user-{id}` (validated by the provisioner).
  std::string data_dir;
};

/// @relates container_spec
inline bool operator==(const container_spec& x, const container_spec& y) {
  return x.user_id == y.user_id && x.name == y.name && x.port == y.port
    && x.token == y.token && x.data_dir == y.data_dir;
}

/// @relates container_spec
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, container_spec& x) {
  return f(caf::meta::type_name("container_spec"), x.user_id, x.name, x.port,
           x.token, x.data_dir);
}

/// What a backend knows about one container.
struct container_info {
  int64_t user_id = 0;
  std::string name;
  /// running, exited, created, missing.
  std::string state;
  /// Main process (0 if unknown).
  int64_t pid = 0;
  uint16_t port = 0;
  /// Last exit code (128 + signal for a signal), -1 if unknown.
  int32_t exit_code = -1;
  bool oom_killed = false;
  /// Quotas as applied, e.g. "cgroup v1: memory=64MiB cpu=0.5 pids=64".
  std::string quota;
  /// Limits that could not be applied, with the reason (never silent).
  std::string not_applied;
};

/// @relates container_info
inline bool operator==(const container_info& x, const container_info& y) {
  return x.user_id == y.user_id && x.name == y.name && x.state == y.state
    && x.pid == y.pid && x.port == y.port && x.exit_code == y.exit_code
    && x.oom_killed == y.oom_killed && x.quota == y.quota
    && x.not_applied == y.not_applied;
}

/// @relates container_info
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, container_info& x) {
  return f(caf::meta::type_name("container_info"), x.user_id, x.name, x.state,
           x.pid, x.port, x.exit_code, x.oom_killed, x.quota, x.not_applied);
}

/// The CONTAINER BACKEND interface, implemented by the process and docker
/// backends. Exits that the backend did not cause itself are reported at
/// once to the health supervisor (found by name) as `exited`.
using backend_actor = caf::typed_actor<
  // Creates the container if needed and starts it; answers once its main
  // process runs (not yet healthy: that is the startup probe's job).
  caf::replies_to<start_atom, container_spec>::with<container_info>,
  // Stops the container (SIGTERM, SIGKILL after the stop timeout).
  caf::replies_to<stop_atom, int64_t>::with<bool>,
  // Stops (if running) and starts the container again.
  caf::replies_to<restart_atom, container_spec>::with<container_info>,
  // Stops and deletes the container (the data dir stays).
  caf::replies_to<remove_atom, int64_t>::with<bool>,
  // Freezes (true) or thaws (false) a running container: an idle container
  // keeps its memory and resumes in well under a second
  // (`containers.idle-action=pause`).
  caf::replies_to<caf::idle_atom, int64_t, bool>::with<bool>,
  // Reports one container.
  caf::replies_to<inspect_atom, int64_t>::with<container_info>,
  // Lists the containers of zaki that exist now (adoption at start-up).
  caf::replies_to<list_atom>::with<std::vector<container_info>>,
  // Completion of an Engine API call, sent from the I/O threads.
  caf::reacts_to<internal_atom, http_done_atom, uint64_t, http_result>,
  // A child process ended (user, generation), from the I/O threads.
  caf::reacts_to<internal_atom, exited_atom, int64_t, uint64_t>,
  // Stop timeout: escalate to SIGKILL (user, generation).
  caf::reacts_to<internal_atom, timeout_atom, int64_t, uint64_t>,
  // One line of the Engine's event stream (or "" when it closed).
  caf::reacts_to<internal_atom, event_atom, std::string>,
  // Reconnects the event stream.
  caf::reacts_to<internal_atom, retry_atom>>::extend_with<status_client_actor>;

/// Returns the container name of a user, `zaki-user-{id}`.
std::string container_name(int64_t user_id);

/// Reports an unexpected exit to the health supervisor, if one runs.
void report_exit(caf::actor_system& sys, int64_t user_id, int32_t exit_code,
                 bool oom, std::string detail);

} // namespace zaki
