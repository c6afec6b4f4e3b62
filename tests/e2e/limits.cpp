#define CAF_SUITE e2e.limits
#include "admin/http.hpp"
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <thread>

#include <caf/all.hpp>

#include "messages/peer.hpp"
#include "runtime/metrics.hpp"
#include "tests/fixtures/checks.hpp"
#include "tests/fixtures/router_fixture.hpp"

// The per-user limits of issue 23 end to end, the real tree against the fake
// Bot API and gateway: a burst over `access.rate` is held and delivered in
// order with one notice, and `access.daily-tokens` stops the gateway calls
// of a user until the next UTC midnight of a clock the test moves (admins
// are exempt).

using namespace zaki;
using namespace zaki::test;
using namespace std::chrono;

namespace {

constexpr int64_t user = 7001;
constexpr int64_t admin = 502;

size_t count_containing(const std::vector<std::string>& xs,
                        const std::string& what) {
  size_t n = 0;
  for (auto& x : xs)
    n += contains(x, what) ? 1 : 0;
  return n;
}

uint64_t counter_value(const char* name) {
  return metrics().get_counter(name, "").value();
}

/// Returns the status detail (JSON) of a user actor, as the admin API
/// serves it for GET /admin/users/{id}.
std::string user_detail(router_fixture& f, int64_t id) {
  caf::scoped_actor self{f.system()};
  std::string detail;
  self
    ->request(peer<user_supervisor_actor>(f.system()), seconds(5),
              status_atom_v, id)
    .receive(
      [&](const status_node& node) {
        detail = detail_to_json(node.detail);
      },
      [](caf::error&) {});
  return detail;
}

} // namespace

CAF_TEST(rate limit holds and then delivers) {
  router_fixture f;
  // Three at once, then one every 333 ms.
  f.cfg().access.rate = "3/sec";
  f.add_user(user);
  f.start();
  auto held_before = counter_value(metric::rate_held);
  auto notices_before = counter_value(metric::rate_notices);
  auto t0 = steady_clock::now();
  constexpr int burst = 8;
  for (int i = 1; i <= burst; ++i)
    f.telegram.push_text(user, "u7001-m" + std::to_string(i));
  // Every message is answered, none lost; the notice comes on top.
  CAF_REQUIRE(f.telegram.wait_for_sent_to(user, burst + 1, seconds(20)));
  auto elapsed = steady_clock::now() - t0;
  auto got = texts_to(f, user);
  CAF_CHECK_EQUAL(count_containing(got, "Slow down"), 1u);
  CAF_CHECK_EQUAL(count_containing(got, "try again in 1 s"), 1u);
  CAF_CHECK_EQUAL(count_containing(got, "3 messages a second"), 1u);
  // The gateway saw all of them, in order, one at a time.
  std::vector<std::string> want;
  for (int i = 1; i <= burst; ++i)
    want.push_back("u7001-m" + std::to_string(i));
  CAF_CHECK_EQUAL(f.gateway.behavior().received(std::to_string(user)), want);
  auto stats = f.gateway.stats();
  CAF_CHECK_EQUAL(stats.order_violations, 0u);
  CAF_CHECK_EQUAL(stats.overlap_violations, 0u);
  std::vector<std::string> answers;
  for (auto& t : got)
    if (!contains(t, "Slow down"))
      answers.push_back(t);
  CAF_REQUIRE_EQUAL(answers.size(), size_t{burst});
  for (int i = 0; i < burst; ++i)
    CAF_CHECK_EQUAL(answers[i], "echo: " + want[i]);
  // Held, not sent at once: five messages beyond the burst of three need
  // at least 5/3 s of refill (a lower bound: a working bucket never beats
  // it, a missing one does).
  CAF_CHECK_GREATER_OR_EQUAL(duration_cast<milliseconds>(elapsed).count(),
                             1600);
  CAF_CHECK_GREATER_OR_EQUAL(counter_value(metric::rate_held) - held_before,
                             1u);
  CAF_CHECK_EQUAL(counter_value(metric::rate_notices) - notices_before, 1u);
  auto detail = user_detail(f, user);
  CAF_CHECK(contains(detail, R"("rate":"3/sec")"));
  CAF_CHECK(!contains(detail, R"("rate_held":0,)"));
  // Commands the router answers itself pass without a token, so a user
  // over the rate can still read their limits.
  f.telegram.push_text(user, "/usage");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(user, burst + 2, seconds(10)));
  CAF_CHECK(
    contains(texts_to(f, user).back(), "Rate limit: 3 messages a second"));
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(the daily budget with a fake clock) {
  router_fixture f;
  f.cfg().access.rate = "0";
  // "u7001-mN" costs 3 prompt and 4 completion tokens at the fake gateway:
  // the second answer spends the budget.
  f.cfg().access.daily_tokens = 10;
  f.cfg().access.admins = std::to_string(admin);
  f.add_user(user);
  f.add_user(admin);
  f.start();
  // 2030-01-19 23:30:00 UTC, moved by the test only.
  auto fake = std::make_shared<std::atomic<int64_t>>(1895095800);
  f.ctx->wall_clock = [fake] {
    return system_clock::time_point{seconds(fake->load())};
  };
  auto refused_before = counter_value(metric::budget_refused);
  auto say = [&f](int64_t who, const std::string& text, size_t n) {
    f.telegram.push_text(who, text);
    CAF_REQUIRE(f.telegram.wait_for_sent_to(who, n, seconds(10)));
    return texts_to(f, who).back();
  };
  CAF_CHECK_EQUAL(say(user, "u7001-m1", 1), "echo: u7001-m1");
  CAF_CHECK_EQUAL(say(user, "u7001-m2", 2), "echo: u7001-m2");
  // Spent: told when it resets, and the gateway is not called.
  auto refused = say(user, "u7001-m3", 3);
  CAF_CHECK(contains(refused, "budget of 10 tokens (14 used)"));
  CAF_CHECK(contains(refused, "00:00 UTC (in 30 min)"));
  CAF_CHECK(contains(refused, "not sent to your assistant"));
  std::vector<std::string> two{"u7001-m1", "u7001-m2"};
  CAF_CHECK_EQUAL(f.gateway.behavior().received(std::to_string(user)), two);
  CAF_CHECK_EQUAL(counter_value(metric::budget_refused) - refused_before, 1u);
  auto usage = say(user, "/usage", 4);
  CAF_CHECK(contains(usage,
                     "Daily budget: 14 of 10 tokens used, 0 left; "
                     "resets at 00:00 UTC (in 30 min)"));
  CAF_CHECK(contains(usage, "Rate limit: none"));
  auto detail = user_detail(f, user);
  CAF_CHECK(contains(detail, R"("daily_tokens":10)"));
  CAF_CHECK(contains(detail, R"("tokens_used_today":14)"));
  CAF_CHECK(contains(detail, R"("tokens_left_today":0)"));
  CAF_CHECK(contains(detail, R"("budget_resets_at":"2030-01-20 00:00 UTC")"));
  CAF_CHECK(contains(detail, R"("budget_refused":1)"));
  // Admins are exempt: three answers, 21 tokens, all from the gateway.
  CAF_CHECK_EQUAL(say(admin, "u502-m1", 1), "echo: u502-m1");
  CAF_CHECK_EQUAL(say(admin, "u502-m2", 2), "echo: u502-m2");
  CAF_CHECK_EQUAL(say(admin, "u502-m3", 3), "echo: u502-m3");
  CAF_CHECK(contains(say(admin, "/usage", 4), "none for admins"));
  // Past midnight (UTC) of the fake clock the user is served again.
  *fake += 31 * 60;
  CAF_CHECK_EQUAL(say(user, "u7001-m4", 5), "echo: u7001-m4");
  std::vector<std::string> three{"u7001-m1", "u7001-m2", "u7001-m4"};
  CAF_CHECK_EQUAL(f.gateway.behavior().received(std::to_string(user)), three);
  CAF_CHECK(contains(user_detail(f, user), R"("tokens_used_today":7)"));
  CAF_CHECK_EQUAL(f.stop(), 0);
}
