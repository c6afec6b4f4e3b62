#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zaki {

// The message rate limit of one user (issue 23, `access.rate`): a token
// bucket that holds `count` tokens and refills them evenly over `per`. The
// clock is passed in, so the maths is tested without waiting.

/// `access.rate`: `count` messages per `per`; a count of 0 means no limit.
struct rate_spec {
  uint32_t count = 0;
  std::chrono::seconds per{60};
};

/// Parses "N/sec", "N/min" or "N/hour" (also "s", "second", "m", "minute",
/// "h"), and "0" for no limit. Returns nullopt for anything else.
std::optional<rate_spec> parse_rate(std::string_view text);

/// Returns `x` as the option text, e.g. "20/min" ("0" for no limit).
std::string to_string(const rate_spec& x);

/// Returns the limit in words, e.g. "20 messages a minute".
std::string describe(const rate_spec& x);

/// Returns the one notice of a burst: the user is over `x` and the next
/// kept message goes out in `wait`.
std::string slow_down_text(const rate_spec& x, std::chrono::seconds wait);

/// A token bucket per user, plus the "one notice per burst" rule: the first
/// message that has to wait asks for a notice; later ones of the same burst
/// do not, until the user's backlog is cleared (`end_burst`).
class rate_limit {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// A disabled limit (every message passes).
  rate_limit() = default;

  /// A full bucket at `now`.
  rate_limit(rate_spec spec, time_point now);

  /// Returns whether a limit applies at all.
  bool enabled() const {
    return spec_.count > 0;
  }

  /// Returns the limit this bucket enforces.
  const rate_spec& spec() const {
    return spec_;
  }

  /// Takes one token if there is one; otherwise the caller holds the
  /// message and asks again after `wait(now)`.
  bool try_take(time_point now);

  /// Returns how long until the next whole token (0 when one is there).
  clock::duration wait(time_point now) const;

  /// Returns the whole tokens available at `now` (what /usage shows).
  uint32_t available(time_point now) const;

  /// Returns true once per burst: whether the user is told to slow down.
  bool take_notice();

  /// The user's backlog is cleared: the next wait starts a new burst.
  void end_burst() {
    told_ = false;
  }

private:
  /// Adds the tokens that accrued since the last call.
  void refill(time_point now);

  /// Returns the level at `now` without changing the bucket.
  int64_t level_at(time_point now) const;

  rate_spec spec_;
  /// Tokens in the bucket, one token being `per` in nanoseconds: refilling
  /// adds `count` per elapsed nanosecond, in exact integer maths.
  int64_t level_ = 0;
  time_point last_;
  bool told_ = false;
};

} // namespace zaki
