#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

namespace zaki {

/// The clock of every probe decision (tests pass their own time points).
using probe_clock = std::chrono::steady_clock;

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

/// Tunables of the restart governor.
struct restart_policy {
  std::chrono::milliseconds backoff_initial = std::chrono::seconds(1);
  std::chrono::milliseconds backoff_max = std::chrono::minutes(5);
  /// Healthy this long resets the backoff to `backoff_initial`.
  std::chrono::milliseconds backoff_reset = std::chrono::minutes(10);
  /// More than `max_restarts` restarts within `window`: give up (failed).
  uint32_t max_restarts = 5;
  std::chrono::milliseconds window = std::chrono::minutes(10);
};

/// The decision after a container failed (liveness, exit, OOM).
struct restart_decision {
  /// False: the restart intensity is exceeded; mark the container failed.
  bool restart = false;
  /// Wait this long before restarting.
  std::chrono::milliseconds delay{0};
  /// Restarts within the window, this one included.
  uint32_t recent = 0;
};

/// Decides restarts like Kubernetes' CrashLoopBackOff plus OTP's restart
/// intensity: exponential backoff (initial doubling up to a cap, reset after
/// a stable run) and "more than R restarts in T means failed".
class restart_governor {
public:
  explicit restart_governor(restart_policy policy);

  /// Decides what to do about a failure at `now`.
  restart_decision on_failure(probe_clock::time_point now);

  /// Notes that the container is healthy at `now`; after `backoff_reset`
  /// of continuous health the backoff starts over.
  void on_healthy(probe_clock::time_point now);

  /// Notes that the container is not healthy (ends a healthy run).
  void on_unhealthy();

  /// Forgets every restart (an operator or a later message retries).
  void reset();

  /// Returns the number of restarts handed out since the last reset.
  uint32_t total_restarts() const {
    return total_;
  }

  /// Returns the next backoff step (0: the next delay is `backoff_initial`).
  uint32_t backoff_step() const {
    return step_;
  }

private:
  restart_policy policy_;
  std::deque<probe_clock::time_point> recent_;
  uint32_t step_ = 0;
  uint32_t total_ = 0;
  bool healthy_run_ = false;
  probe_clock::time_point healthy_since_;
};

/// Returns whether a startup that began at `started` has used up `grace`.
inline bool startup_expired(probe_clock::time_point started,
                            std::chrono::milliseconds grace,
                            probe_clock::time_point now) {
  return now - started >= grace;
}

} // namespace zaki
