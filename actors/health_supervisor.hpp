#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <caf/typed_response_promise.hpp>

#include "containers/container_phase.hpp"
#include "messages/interfaces.hpp"
#include "runtime/context.hpp"
#include "supervision/probe_logic.hpp"
#include "supervision/restart_governor.hpp"

namespace zaki {

class http_client;

/// One probed container.
struct watched_container {
  int64_t user_id = 0;
  std::string host;
  uint16_t port = 0;
  /// Bumped on every (re)start and failure: stale probes and timers of an
  /// earlier generation are ignored.
  uint64_t generation = 0;
  /// starting, running, not_ready, restarting, failed (none until the
  /// first report).
  container_phase phase = container_phase::none;
  std::shared_ptr<http_client> client;
  probe_tracker liveness{3};
  probe_tracker readiness{3};
  restart_governor governor{restart_policy{}};
  probe_clock::time_point started;
  /// /startupz, or /healthz for gateways without a startup endpoint.
  std::string startup_path = "/startupz";
  /// The provisioner waiting for the startup probe.
  std::optional<caf::typed_response_promise<bool>> startup_waiter;
  uint32_t restarts = 0;
  std::string last_failure;
  // The last probe, for the admin status.
  std::string last_probe_path;
  int last_probe_status = 0;
  int64_t last_probe_ms = 0;
  std::string last_probe_error;
  std::chrono::system_clock::time_point last_probe_at;
};

/// What a probe in flight was for.
struct pending_probe {
  int64_t user_id = 0;
  uint64_t generation = 0;
  probe_kind kind = probe_kind::startup;
};

/// State of the HEALTH_SUPERVISOR actor.
struct health_state {
  static inline const char* name = "health_supervisor";
  context_ptr ctx;
  std::unordered_map<int64_t, watched_container> watched;
  std::unordered_map<uint64_t, pending_probe> pending;
  uint64_t seq = 0;
  uint64_t probes = 0;
  uint64_t restarts = 0;
  ~health_state();
};

/// Spawns the health supervisor: Kubernetes probe semantics (startup with a
/// grace period, liveness with a failure threshold, readiness), restarts
/// through the provisioner with exponential backoff and a restart
/// intensity limit; every state change goes to the user supervisor and the
/// provisioner as `(container, user_id, state)`.
health_actor::behavior_type
health_supervisor(health_actor::stateful_pointer<health_state> self,
                  context_ptr ctx);

} // namespace zaki
