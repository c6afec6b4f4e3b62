// The per-user limits of issue 23 as pure maths: the `access.rate` option,
// the token bucket (burst, refill, the wait until the next token, one notice
// per burst) and the daily token budget over UTC days, all on clocks the
// test moves.
#define CAF_SUITE access.rate_limit
#include "caf/test/unit_test.hpp"

#include "access/budget.hpp"
#include "access/rate_limit.hpp"

using namespace zaki;
using namespace std::chrono;

namespace {

const steady_clock::time_point t0 = steady_clock::time_point{} + hours(1);

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

/// 2026-12-07 23:30:00 UTC.
system_clock::time_point late_evening() {
  return system_clock::time_point{seconds(1796686200)};
}

} // namespace

CAF_TEST(rates parse and print) {
  auto r = parse_rate("20/min");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->count, 20u);
  CAF_CHECK(r->per == seconds(60));
  CAF_CHECK_EQUAL(to_string(*r), "20/min");
  CAF_CHECK(parse_rate("5/sec")->per == seconds(1));
  CAF_CHECK(parse_rate("100/hour")->per == hours(1));
  CAF_CHECK_EQUAL(to_string(*parse_rate(" 3/s ")), "3/sec");
  auto off = parse_rate("0");
  CAF_REQUIRE(off);
  CAF_CHECK_EQUAL(off->count, 0u);
  CAF_CHECK_EQUAL(to_string(*off), "0");
  for (std::string bad : {"", "20", "/min", "20/", "20/day", "-1/min", "x/min",
                          "20/min/", "99999999999/sec", "2.5/min"})
    CAF_CHECK(!parse_rate(bad));
  CAF_CHECK_EQUAL(describe(*r), "20 messages a minute");
  CAF_CHECK_EQUAL(describe(*parse_rate("1/hour")), "1 message an hour");
}

CAF_TEST(a full bucket takes a burst then refills evenly) {
  rate_limit b{*parse_rate("3/min"), t0};
  CAF_CHECK(b.enabled());
  CAF_CHECK_EQUAL(b.available(t0), 3u);
  CAF_CHECK(b.try_take(t0));
  CAF_CHECK(b.try_take(t0));
  CAF_CHECK(b.try_take(t0));
  CAF_CHECK(!b.try_take(t0));
  CAF_CHECK_EQUAL(b.available(t0), 0u);
  // One token every 20 s.
  CAF_CHECK(b.wait(t0) == seconds(20));
  CAF_CHECK(b.wait(t0 + seconds(5)) == seconds(15));
  CAF_CHECK(!b.try_take(t0 + seconds(19)));
  CAF_CHECK(b.try_take(t0 + seconds(20)));
  CAF_CHECK(!b.try_take(t0 + seconds(20)));
  // A long pause refills to the burst size, never beyond.
  auto later = t0 + hours(5);
  CAF_CHECK_EQUAL(b.available(later), 3u);
  CAF_CHECK(b.wait(later) == steady_clock::duration{0});
  for (int i = 0; i < 3; ++i)
    CAF_CHECK(b.try_take(later));
  CAF_CHECK(!b.try_take(later));
}

CAF_TEST(fractions of a token add up) {
  // 7 a second: a token every 142857142.86 ns; seven takes after one
  // second exactly, never eight.
  rate_limit b{*parse_rate("7/sec"), t0};
  for (int i = 0; i < 7; ++i)
    CAF_CHECK(b.try_take(t0));
  int taken = 0;
  for (auto t = t0; t <= t0 + seconds(1); t += milliseconds(1))
    while (b.try_take(t))
      ++taken;
  CAF_CHECK_EQUAL(taken, 7);
  // The wait is never zero while no token is there, and it is enough.
  auto now = t0 + seconds(1);
  auto w = b.wait(now);
  CAF_CHECK(w > steady_clock::duration{0});
  CAF_CHECK(!b.try_take(now + w - nanoseconds(1)));
  CAF_CHECK(b.try_take(now + w));
}

CAF_TEST(no limit lets everything through) {
  rate_limit off;
  CAF_CHECK(!off.enabled());
  for (int i = 0; i < 1000; ++i)
    CAF_CHECK(off.try_take(t0));
  rate_limit zero{*parse_rate("0"), t0};
  CAF_CHECK(!zero.enabled());
  CAF_CHECK(zero.try_take(t0));
  CAF_CHECK(zero.wait(t0) == steady_clock::duration{0});
}

CAF_TEST(one notice per burst) {
  rate_limit b{*parse_rate("1/sec"), t0};
  CAF_CHECK(b.try_take(t0));
  CAF_CHECK(!b.try_take(t0));
  CAF_CHECK(b.take_notice());
  // The rest of the burst waits without another notice.
  CAF_CHECK(!b.take_notice());
  CAF_CHECK(!b.take_notice());
  // The backlog cleared: the next wait is a new burst.
  b.end_burst();
  CAF_CHECK(b.take_notice());
  CAF_CHECK(!b.take_notice());
  auto text = slow_down_text(b.spec(), seconds(3));
  CAF_CHECK(contains(text, "Slow down"));
  CAF_CHECK(contains(text, "try again in 3 s"));
  CAF_CHECK(contains(text, "1 message a second"));
  // Never "in 0 s".
  CAF_CHECK(contains(slow_down_text(b.spec(), seconds(0)), "in 1 s"));
}

CAF_TEST(utc days and midnights) {
  auto t = late_evening();
  CAF_CHECK_EQUAL(utc_day_text(t), "2026-12-07");
  CAF_CHECK_EQUAL(utc_day_text(t + minutes(30)), "2026-12-08");
  CAF_CHECK_EQUAL(utc_day_number(t) + 1, utc_day_number(t + minutes(30)));
  CAF_CHECK(next_utc_midnight(t) == t + minutes(30));
  // Exactly at midnight the next one is a day away.
  auto midnight = t + minutes(30);
  CAF_CHECK(next_utc_midnight(midnight) == midnight + hours(24));
  CAF_CHECK_EQUAL(utc_day_text(system_clock::time_point{}), "1970-01-01");
  CAF_CHECK_EQUAL(utc_day_number(system_clock::time_point{} - seconds(1)), -1);
  CAF_CHECK_EQUAL(format_wait(seconds(42)), "42 s");
  CAF_CHECK_EQUAL(format_wait(seconds(61)), "2 min");
  CAF_CHECK_EQUAL(format_wait(hours(5) + minutes(12)), "5 h 12 min");
}

CAF_TEST(the daily budget counts a day and starts over at midnight) {
  auto t = late_evening();
  daily_budget b{100};
  CAF_CHECK(b.enabled());
  CAF_CHECK(!b.known(t));
  CAF_CHECK(!b.exhausted(t));
  b.seed(t, 60);
  CAF_CHECK(b.known(t));
  // A second seed (a late store answer) does not undo counting.
  b.add(t, 30);
  b.seed(t, 0);
  CAF_CHECK_EQUAL(b.used(t), 90u);
  CAF_CHECK_EQUAL(b.left(t), 10u);
  CAF_CHECK(!b.exhausted(t));
  b.add(t + minutes(1), 15);
  CAF_CHECK(b.exhausted(t + minutes(1)));
  CAF_CHECK_EQUAL(b.left(t), 0u);
  CAF_CHECK(b.exhausted(t + minutes(29)));
  // The next UTC day: spent no more; an answer then counts for that day.
  auto tomorrow = t + minutes(31);
  CAF_CHECK(!b.exhausted(tomorrow));
  CAF_CHECK(b.known(tomorrow));
  CAF_CHECK_EQUAL(b.used(tomorrow), 0u);
  CAF_CHECK_EQUAL(b.left(tomorrow), 100u);
  b.add(tomorrow, 5);
  CAF_CHECK_EQUAL(b.used(tomorrow), 5u);
  CAF_CHECK(!b.exhausted(tomorrow));
  // A clock set back to an earlier day asks the store again.
  CAF_CHECK(!b.known(t - hours(24)));
  daily_budget none{0};
  CAF_CHECK(!none.enabled());
  none.seed(t, 1'000'000);
  CAF_CHECK(!none.exhausted(t));
}

CAF_TEST(budget texts say when it resets) {
  auto t = late_evening();
  auto spent = budget_spent_text(100, 105, t);
  CAF_CHECK(contains(spent, "budget of 100 tokens (105 used)"));
  CAF_CHECK(contains(spent, "not sent to your assistant"));
  CAF_CHECK(contains(spent, "00:00 UTC (in 30 min)"));
  auto line = budget_usage_text(100, 40, false, t);
  CAF_CHECK(contains(line, "40 of 100 tokens used, 60 left"));
  CAF_CHECK(contains(line, "resets at 00:00 UTC (in 30 min)"));
  CAF_CHECK_EQUAL(budget_usage_text(0, 40, false, t), "Daily budget: none");
  CAF_CHECK(contains(budget_usage_text(100, 400, true, t), "none for admins"));
  CAF_CHECK(contains(budget_usage_text(100, 400, false, t), "0 left"));
}
