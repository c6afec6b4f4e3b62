#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace zaki {

/// Where one user's container is in its life, as the provisioner and the
/// health supervisor see it. The names (`to_string`) are what the admin
/// JSON, the logs and the `(container, user, state)` messages carry.
enum class container_phase : uint8_t {
  /// Not provisioned yet (no record).
  none,
  /// Waiting for a provisioning slot.
  queued,
  /// Created or started; the startup probe has not passed yet.
  starting,
  /// Started and ready.
  running,
  /// Started but its readiness probe fails.
  not_ready,
  /// Restart scheduled or under way.
  restarting,
  /// Being stopped by us (idle stop, admin).
  stopping,
  /// Not running, can be started.
  stopped,
  /// Restarted too often: given up until a later message or an operator.
  failed,
  /// Being removed with its user.
  removing,
  /// Frozen by us when idle (`containers.idle-action=pause`): it keeps its
  /// memory and resumes on the next message.
  paused,
};

/// Returns the name of `x`, e.g. "not_ready".
const char* to_string(container_phase x);

/// Parses a name `to_string` returns.
std::optional<container_phase> parse_container_phase(std::string_view name);

/// Returns whether a container in phase `x` holds resources (counts against
/// `containers.max-containers`).
bool holds_resources(container_phase x);

/// Returns whether nothing runs in phase `x`, so a start is needed.
inline bool is_down(container_phase x) {
  return x == container_phase::none || x == container_phase::stopped
    || x == container_phase::failed;
}

/// Returns whether we are stopping or removing the container ourselves (a
/// report of the health supervisor is then only it letting go).
inline bool stopped_by_us(container_phase x) {
  return x == container_phase::stopping || x == container_phase::removing
    || x == container_phase::stopped || x == container_phase::paused;
}

} // namespace zaki
