#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "containers/docker_client.hpp"
#include "messages/backend.hpp"

namespace zaki {

/// State of the DOCKER backend: containers `zaki-user-{id}` through the
/// Engine API (v1.41) on a unix socket; die and oom events arrive through
/// the followed /events stream.
struct docker_backend_state {
  static inline const char* name = "docker_backend";
  context_ptr ctx;
  std::shared_ptr<docker_client> client;
  /// Continuations of Engine API calls in flight, by sequence number; they
  /// run inside the actor when the result arrives.
  std::unordered_map<uint64_t, std::function<void(http_result&)>> calls;
  uint64_t seq = 0;
  /// Users whose container we stop, restart or remove ourselves (since
  /// when): their die events until the next start are expected, not crashes.
  std::unordered_map<int64_t, std::chrono::steady_clock::time_point> expected;
  /// Users whose container had an oom event recently.
  std::unordered_map<int64_t, std::chrono::steady_clock::time_point> oom;
  /// Quota notes per user (StorageOpt refused, bandwidth, ...).
  std::unordered_map<int64_t, std::string> not_applied;
  bool events_connected = false;
  uint64_t events_seen = 0;
  uint64_t api_calls = 0;
  uint64_t api_errors = 0;
  std::string last_error;
  ~docker_backend_state();
};

/// Spawns the docker backend's behavior.
backend_actor::behavior_type
docker_backend(backend_actor::stateful_pointer<docker_backend_state> self,
               context_ptr ctx);

/// Turns a failed Engine API exchange into a zaki error with a clear text:
/// backend_unavailable for a daemon that does not answer (or answers
/// garbage), container_down for 404/409/500 with the daemon's message.
caf::error docker_error(const std::string& what, const http_result& res,
                        const std::string& socket_path);

} // namespace zaki
