#include "access/rate_limit.hpp"

#include <algorithm>
#include <charconv>

namespace zaki {

namespace {

/// The largest count accepted: keeps count * per(ns) of an hour in int64.
constexpr uint32_t max_count = 1'000'000;

int64_t unit(const rate_spec& x) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(x.per).count();
}

} // namespace

std::optional<rate_spec> parse_rate(std::string_view text) {
  while (!text.empty() && text.front() == ' ')
    text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ')
    text.remove_suffix(1);
  if (text == "0")
    return rate_spec{0, std::chrono::seconds{60}};
  auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0)
    return std::nullopt;
  uint32_t count = 0;
  auto digits = text.substr(0, slash);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(),
                                   count);
  if (ec != std::errc{} || end != digits.data() + digits.size()
      || count > max_count)
    return std::nullopt;
  auto per = text.substr(slash + 1);
  rate_spec result;
  result.count = count;
  if (per == "sec" || per == "s" || per == "second")
    result.per = std::chrono::seconds{1};
  else if (per == "min" || per == "m" || per == "minute")
    result.per = std::chrono::minutes{1};
  else if (per == "hour" || per == "h")
    result.per = std::chrono::hours{1};
  else
    return std::nullopt;
  return result;
}

std::string to_string(const rate_spec& x) {
  if (x.count == 0)
    return "0";
  auto per = x.per == std::chrono::seconds{1} ? "sec"
    : x.per == std::chrono::minutes{1}        ? "min"
                                              : "hour";
  return std::to_string(x.count) + "/" + per;
}

std::string describe(const rate_spec& x) {
  if (x.count == 0)
    return "no limit";
  auto per = x.per == std::chrono::seconds{1} ? " a second"
    : x.per == std::chrono::minutes{1}        ? " a minute"
                                              : " an hour";
  return std::to_string(x.count) + (x.count == 1 ? " message" : " messages")
    + per;
}

std::string slow_down_text(const rate_spec& x, std::chrono::seconds wait) {
  auto n = std::max<int64_t>(wait.count(), 1);
  return "â³ Slow down: this bot takes " + describe(x)
    + " from you. Your messages are kept and answered in order; try again in "
    + std::to_string(n) + " s.";
}

rate_limit::rate_limit(rate_spec spec, time_point now)
  : spec_(spec), level_(int64_t{spec.count} * unit(spec)), last_(now) {
  // nop
}

int64_t rate_limit::level_at(time_point now) const {
  auto cap = int64_t{spec_.count} * unit(spec_);
  if (now <= last_)
    return level_;
  // Beyond one period the bucket is full anyway; the cap also keeps the
  // product below overflow.
  auto elapsed = std::min<int64_t>(
    std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count(),
    unit(spec_));
  return std::min(cap, level_ + elapsed * int64_t{spec_.count});
}

void rate_limit::refill(time_point now) {
  level_ = level_at(now);
  if (now > last_)
    last_ = now;
}

bool rate_limit::try_take(time_point now) {
  if (!enabled())
    return true;
  refill(now);
  if (level_ < unit(spec_))
    return false;
  level_ -= unit(spec_);
  return true;
}

rate_limit::clock::duration rate_limit::wait(time_point now) const {
  if (!enabled())
    return clock::duration{0};
  auto missing = unit(spec_) - level_at(now);
  if (missing <= 0)
    return clock::duration{0};
  auto count = int64_t{spec_.count};
  return std::chrono::duration_cast<clock::duration>(
    std::chrono::nanoseconds{(missing + count - 1) / count});
}

uint32_t rate_limit::available(time_point now) const {
  if (!enabled())
    return 0;
  return static_cast<uint32_t>(level_at(now) / unit(spec_));
}

bool rate_limit::take_notice() {
  if (told_)
    return false;
  told_ = true;
  return true;
}

} // namespace zaki
