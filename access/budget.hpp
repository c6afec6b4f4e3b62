#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace zaki {

// The daily token budget of one user (issue 23, `access.daily-tokens`):
// the gateway's `usage` of each answer counts against the UTC day, and a
// user over the budget gets no gateway call until the next UTC midnight.
// The wall clock is passed in, so tests move the day without waiting.

/// Returns the UTC day of `t` as days since 1970-01-01.
int64_t utc_day_number(std::chrono::system_clock::time_point t);

/// Returns the UTC day of `t` as "YYYY-MM-DD" (the store's day key).
std::string utc_day_text(std::chrono::system_clock::time_point t);

/// Returns the first UTC midnight after `t`.
std::chrono::system_clock::time_point
next_utc_midnight(std::chrono::system_clock::time_point t);

/// Returns a wait in words, e.g. "5 h 12 min" or "42 s".
std::string format_wait(std::chrono::seconds d);

/// Returns the budget line of /usage (used, left, when it resets), or
/// says there is none (`exempt`: the user is an admin).
std::string budget_usage_text(uint64_t limit, uint64_t used, bool exempt,
                              std::chrono::system_clock::time_point now);

/// Returns what a user over the budget is told instead of an answer.
std::string budget_spent_text(uint64_t limit, uint64_t used,
                              std::chrono::system_clock::time_point now);

/// Tokens used today against a daily limit. The count starts unknown
/// (`known`) and is seeded once from the store's counters of the day; from
/// then on the user actor adds each answer's tokens itself, and the count
/// starts over at 0 when the UTC day changes.
class daily_budget {
public:
  using time_point = std::chrono::system_clock::time_point;

  /// No budget (every message passes).
  daily_budget() = default;

  /// A budget of `limit` tokens a day; 0 disables it.
  explicit daily_budget(uint64_t limit) : limit_(limit) {
    // nop
  }

  /// Returns whether a budget applies at all.
  bool enabled() const {
    return limit_ > 0;
  }

  /// Returns the tokens a day.
  uint64_t limit() const {
    return limit_;
  }

  /// Returns whether today's count is known at `now`: seeded today, or
  /// counted since an earlier day (a new day starts at 0).
  bool known(time_point now) const;

  /// Sets today's count (from the store) unless already known.
  void seed(time_point now, uint64_t used);

  /// Adds the tokens of one answer to the day of `now`.
  void add(time_point now, uint64_t tokens);

  /// Returns the tokens used on the day of `now` (0 when not known).
  uint64_t used(time_point now) const;

  /// Returns the tokens left on the day of `now`.
  uint64_t left(time_point now) const;

  /// Returns whether the day's budget is spent at `now`.
  bool exhausted(time_point now) const;

private:
  /// Starts a new day's count when `now` is on another day.
  void roll(time_point now);

  uint64_t limit_ = 0;
  uint64_t used_ = 0;
  /// The UTC day `used_` belongs to; -1: not known.
  int64_t day_ = -1;
};

} // namespace zaki
