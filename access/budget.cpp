#include "access/budget.hpp"

#include <algorithm>
#include <ctime>

namespace zaki {

namespace {

constexpr int64_t seconds_per_day = 86400;

int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
    .count();
}

/// Floor division: days before 1970 stay on the right day.
int64_t floor_div(int64_t x, int64_t y) {
  return x / y - ((x % y != 0) && ((x < 0) != (y < 0)));
}

} // namespace

int64_t utc_day_number(std::chrono::system_clock::time_point t) {
  return floor_div(unix_seconds(t), seconds_per_day);
}

std::string utc_day_text(std::chrono::system_clock::time_point t) {
  auto secs = static_cast<std::time_t>(unix_seconds(t));
  std::tm parts{};
  gmtime_r(&secs, &parts);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &parts);
  return buf;
}

std::chrono::system_clock::time_point
next_utc_midnight(std::chrono::system_clock::time_point t) {
  auto day = utc_day_number(t) + 1;
  return std::chrono::system_clock::time_point{
    std::chrono::seconds{day * seconds_per_day}};
}

std::string format_wait(std::chrono::seconds d) {
  auto s = std::max<int64_t>(d.count(), 0);
  if (s < 60)
    return std::to_string(s) + " s";
  auto m = (s + 59) / 60; // "in 1 min" rather than "in 0 min"
  if (m < 60)
    return std::to_string(m) + " min";
  return std::to_string(m / 60) + " h " + std::to_string(m % 60) + " min";
}

namespace {

std::string resets_in(std::chrono::system_clock::time_point now) {
  auto at = next_utc_midnight(now);
  return "00:00 UTC (in "
    + format_wait(std::chrono::duration_cast<std::chrono::seconds>(at - now))
    + ")";
}

} // namespace

std::string budget_usage_text(uint64_t limit, uint64_t used, bool exempt,
                              std::chrono::system_clock::time_point now) {
  if (limit == 0)
    return "Daily budget: none";
  if (exempt)
    return "Daily budget: none for admins (others get " + std::to_string(limit)
      + " tokens a day)";
  auto left = used >= limit ? 0 : limit - used;
  return "Daily budget: " + std::to_string(used) + " of "
    + std::to_string(limit) + " tokens used, " + std::to_string(left)
    + " left; resets at " + resets_in(now);
}

std::string budget_spent_text(uint64_t limit, uint64_t used,
                              std::chrono::system_clock::time_point now) {
  return "ð You have used today's budget of " + std::to_string(limit)
    + " tokens (" + std::to_string(used)
    + " used), so this message was not sent to your assistant. The budget "
      "resets at "
    + resets_in(now) + "; /usage shows it.";
}

bool daily_budget::known(time_point now) const {
  // A later day than the one counted is known too: it started at 0 while
  // this budget was counting (the user's answers all pass here).
  return day_ >= 0 && utc_day_number(now) >= day_;
}

void daily_budget::seed(time_point now, uint64_t used) {
  if (known(now))
    return;
  day_ = utc_day_number(now);
  used_ = used;
}

void daily_budget::roll(time_point now) {
  auto day = utc_day_number(now);
  if (day_ >= 0 && day > day_) {
    // A new day: nothing of it was used before this actor counted it.
    day_ = day;
    used_ = 0;
  }
}

void daily_budget::add(time_point now, uint64_t tokens) {
  roll(now);
  used_ += tokens;
}

uint64_t daily_budget::used(time_point now) const {
  return day_ >= 0 && utc_day_number(now) == day_ ? used_ : 0;
}

uint64_t daily_budget::left(time_point now) const {
  auto u = used(now);
  return u >= limit_ ? 0 : limit_ - u;
}

bool daily_budget::exhausted(time_point now) const {
  return enabled() && used(now) >= limit_;
}

} // namespace zaki
