#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace zaki {

/// The clock of every restart decision (tests pass their own time points).
using supervision_clock = std::chrono::steady_clock;

/// Tunables of the restart governor. The defaults are the health
/// supervisor's (Kubernetes' CrashLoopBackOff); the root and the user
/// supervisor set their own from the settings.
struct restart_policy {
  std::chrono::milliseconds backoff_initial = std::chrono::seconds(1);
  std::chrono::milliseconds backoff_max = std::chrono::minutes(5);
  /// A stable run this long resets the backoff to `backoff_initial`.
  std::chrono::milliseconds backoff_reset = std::chrono::minutes(10);
  /// More than `max_restarts` restarts within `window`: give up.
  uint32_t max_restarts = 5;
  std::chrono::milliseconds window = std::chrono::minutes(10);
  /// Spread of the random factor applied to each delay (0: none). Many
  /// children crashing together then do not all restart in the same tick.
  double jitter = 0.0;
  /// Whether a failure `backoff_reset` after the previous one counts as the
  /// end of a stable run. For children without a health signal (actors),
  /// whose only sign of health is not failing.
  bool quiet_resets_backoff = false;
};

/// The decision after a child failed.
struct restart_decision {
  /// False: the restart intensity is exceeded; the child stays down (or
  /// the supervisor escalates).
  bool restart = false;
  /// Wait this long before restarting.
  std::chrono::milliseconds delay{0};
  /// Restarts within the window, this one included.
  uint32_t recent = 0;
};

/// Decides restarts like OTP's restart intensity plus Kubernetes'
/// CrashLoopBackOff: "more than R restarts in T means give up", and an
/// exponential backoff (doubling up to a cap, reset after a stable run).
/// Pure: the caller passes the time, so every decision is testable.
class restart_governor {
public:
  explicit restart_governor(restart_policy policy = {});

  /// Decides what to do about a failure at `now`.
  restart_decision on_failure(supervision_clock::time_point now);

  /// Notes that the child is healthy at `now`; after `backoff_reset` of
  /// continuous health the backoff starts over.
  void on_healthy(supervision_clock::time_point now);

  /// Notes that the child is not healthy (ends a healthy run).
  void on_unhealthy();

  /// Forgets every restart (an operator or a later message retries).
  void reset();

  /// Returns the number of restarts handed out since construction.
  uint32_t total_restarts() const {
    return total_;
  }

  /// Returns the next backoff step (0: the next delay is `backoff_initial`).
  uint32_t backoff_step() const {
    return step_;
  }

  /// Returns the policy this governor applies.
  const restart_policy& policy() const {
    return policy_;
  }

private:
  restart_policy policy_;
  /// Times of the restarts within the window, oldest first (a vector: at
  /// most `max_restarts` entries, and no allocation until the first one).
  std::vector<supervision_clock::time_point> recent_;
  uint32_t step_ = 0;
  uint32_t total_ = 0;
  bool healthy_run_ = false;
  supervision_clock::time_point healthy_since_;
};

} // namespace zaki
