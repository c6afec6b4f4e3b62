#pragma once

#include <chrono>
#include <cstdint>

#include "supervision/restart_governor.hpp"

namespace zaki {

/// The clock of every probe decision (tests pass their own time points).
using probe_clock = supervision_clock;

/// What a probe checks, Kubernetes style (the HTTP path follows from it).
enum class probe_kind : uint8_t {
  /// Has the gateway started (/startupz, else /healthz)? Within a grace.
  startup,
  /// Is it alive (/healthz)? Failures in a row restart it.
  liveness,
  /// Can it take messages (/readyz)? Failures mark it not ready.
  readiness,
};

/// Returns "startup", "liveness" or "readiness".
const char* to_string(probe_kind x);

/// What one probe result changes, Kubernetes style.
enum class probe_verdict : uint8_t {
  /// Nothing changed (not enough consecutive results yet).
  unchanged,
  /// The threshold of consecutive successes was reached.
  became_healthy,
  /// The threshold of consecutive failures was reached.
  became_unhealthy,
};

/// Returns a short name for logs.
const char* to_string(probe_verdict x);

/// Hysteresis of one probe: it flips to unhealthy only after
/// `failure_threshold` consecutive failures and back after
/// `success_threshold` consecutive successes, so a single slow answer does
/// not restart a container.
class probe_tracker {
public:
  probe_tracker(uint32_t failure_threshold, uint32_t success_threshold = 1,
                bool initially_healthy = true);

  /// Records one probe result and reports a transition, if any.
  probe_verdict record(bool ok);

  /// Returns the current judgement.
  bool healthy() const {
    return healthy_;
  }

  /// Returns the number of failures in a row.
  uint32_t consecutive_failures() const {
    return failures_;
  }

  /// Starts over in the given state (after a restart).
  void reset(bool healthy);

private:
  uint32_t failure_threshold_;
  uint32_t success_threshold_;
  uint32_t failures_ = 0;
  uint32_t successes_ = 0;
  bool healthy_;
};

/// Returns whether a startup that began at `started` has used up `grace`.
inline bool startup_expired(probe_clock::time_point started,
                            std::chrono::milliseconds grace,
                            probe_clock::time_point now) {
  return now - started >= grace;
}

} // namespace zaki
