#pragma once

#include <chrono>
#include <cstdint>

namespace zaki {

/// Computes delays that double from `initial` up to `max`, with jitter.
class backoff {
public:
  backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max);

  /// Returns the delay before the next attempt and advances the sequence.
  std::chrono::milliseconds next();

  /// Starts over, e.g. after a success or a stable run.
  void reset();

  /// Returns how many delays were handed out since the last reset.
  uint32_t attempt() const {
    return attempt_;
  }

private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  uint32_t attempt_ = 0;
};

/// Returns `initial * 2^attempt`, capped at `max`, without jitter.
std::chrono::milliseconds exponential_delay(std::chrono::milliseconds initial,
                                            std::chrono::milliseconds max,
                                            uint32_t attempt);

/// Returns `base` scaled by a random factor in [1 - spread, 1 + spread].
std::chrono::milliseconds with_jitter(std::chrono::milliseconds base,
                                      double spread = 0.2);

} // namespace zaki
