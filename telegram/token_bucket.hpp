#pragma once

#include <algorithm>
#include <chrono>

namespace zaki {

/// A token bucket for rate limits: `rate` tokens per second, at most `burst`
/// stored. Time is passed in, so tests and actors control the clock.
class token_bucket {
public:
  using clock = std::chrono::steady_clock;

  token_bucket(double rate, double burst, clock::time_point now)
    : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_), last_(now) {
    // nop
  }

  /// Takes one token if available.
  bool try_take(clock::time_point now) {
    refill(now);
    if (tokens_ < 1.0)
      return false;
    tokens_ -= 1.0;
    return true;
  }

  /// Returns how long until one token is available.
  clock::duration wait_time(clock::time_point now) {
    refill(now);
    if (tokens_ >= 1.0)
      return clock::duration::zero();
    auto secs = (1.0 - tokens_) / rate_;
    return std::chrono::duration_cast<clock::duration>(
      std::chrono::duration<double>(secs));
  }

  /// Empties the bucket until `until` (a 429 asked us to wait).
  void block_until(clock::time_point until) {
    tokens_ = 0;
    last_ = std::max(last_, until);
  }

  /// Returns whether the bucket is full (an idle chat can be forgotten).
  bool full(clock::time_point now) {
    refill(now);
    return tokens_ >= burst_;
  }

private:
  void refill(clock::time_point now) {
    if (now <= last_)
      return;
    auto elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }

  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

} // namespace zaki
