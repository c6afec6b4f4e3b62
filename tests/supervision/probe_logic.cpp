#define CAF_SUITE supervision.probe_logic

#include "supervision/probe_logic.hpp"

#include "caf/test/unit_test.hpp"

using namespace zaki;
using namespace std::chrono_literals;

CAF_TEST(liveness flips only after the failure threshold) {
  probe_tracker t{3};
  CAF_CHECK(t.healthy());
  CAF_CHECK(t.record(false) == probe_verdict::unchanged);
  CAF_CHECK(t.record(false) == probe_verdict::unchanged);
  // A success in between starts the count over.
  CAF_CHECK(t.record(true) == probe_verdict::unchanged);
  CAF_CHECK(t.record(false) == probe_verdict::unchanged);
  CAF_CHECK(t.record(false) == probe_verdict::unchanged);
  CAF_CHECK_EQUAL(t.consecutive_failures(), 2u);
  CAF_CHECK(t.record(false) == probe_verdict::became_unhealthy);
  CAF_CHECK(!t.healthy());
  // Further failures report no new transition.
  CAF_CHECK(t.record(false) == probe_verdict::unchanged);
  CAF_CHECK(t.record(true) == probe_verdict::became_healthy);
  CAF_CHECK(t.healthy());
}

CAF_TEST(success threshold needs consecutive successes) {
  probe_tracker t{1, 2, false};
  CAF_CHECK(t.record(true) == probe_verdict::unchanged);
  CAF_CHECK(t.record(false) == probe_verdict::unchanged);
  CAF_CHECK(t.record(true) == probe_verdict::unchanged);
  CAF_CHECK(t.record(true) == probe_verdict::became_healthy);
  t.reset(false);
  CAF_CHECK(!t.healthy());
  CAF_CHECK_EQUAL(t.consecutive_failures(), 0u);
}

CAF_TEST(restart backoff doubles from one second and caps at five minutes) {
  restart_policy p;
  p.max_restarts = 100;
  p.window = 1h;
  restart_governor g{p};
  auto now = probe_clock::now();
  std::vector<int64_t> delays;
  for (int i = 0; i < 11; ++i) {
    auto d = g.on_failure(now + std::chrono::hours(i));
    CAF_REQUIRE(d.restart);
    delays.push_back(d.delay.count());
  }
  std::vector<int64_t> want{1000,  2000,  4000,   8000,   16000, 32000,
                            64000, 128000, 256000, 300000, 300000};
  CAF_CHECK_EQUAL(delays, want);
}

CAF_TEST(backoff resets after a healthy run of backoff_reset) {
  restart_policy p;
  p.backoff_reset = 10min;
  restart_governor g{p};
  auto t0 = probe_clock::now();
  CAF_CHECK_EQUAL(g.on_failure(t0).delay, 1000ms);
  CAF_CHECK_EQUAL(g.on_failure(t0 + 1s).delay, 2000ms);
  // Healthy for nine minutes: not yet.
  g.on_healthy(t0 + 10s);
  g.on_healthy(t0 + 10s + 9min);
  CAF_CHECK_EQUAL(g.backoff_step(), 2u);
  // An unhealthy moment ends the run; the clock starts again.
  g.on_unhealthy();
  g.on_healthy(t0 + 10s + 9min + 30s);
  g.on_healthy(t0 + 10s + 18min);
  CAF_CHECK_EQUAL(g.backoff_step(), 2u);
  g.on_healthy(t0 + 10s + 19min + 31s);
  CAF_CHECK_EQUAL(g.backoff_step(), 0u);
  CAF_CHECK_EQUAL(g.on_failure(t0 + 30min).delay, 1000ms);
}

CAF_TEST(more than five restarts in ten minutes means failed) {
  restart_governor g{restart_policy{}};
  auto t0 = probe_clock::now();
  for (int i = 0; i < 5; ++i) {
    auto d = g.on_failure(t0 + std::chrono::minutes(i));
    CAF_CHECK(d.restart);
    CAF_CHECK_EQUAL(d.recent, static_cast<uint32_t>(i + 1));
  }
  auto sixth = g.on_failure(t0 + 5min);
  CAF_CHECK(!sixth.restart);
  CAF_CHECK_EQUAL(sixth.recent, 6u);
  // Once the first restarts leave the window, restarts are allowed again.
  auto later = g.on_failure(t0 + 11min + 1s);
  CAF_CHECK(later.restart);
  // An operator's reset forgets everything.
  g.reset();
  CAF_CHECK_EQUAL(g.backoff_step(), 0u);
  for (int i = 0; i < 5; ++i)
    CAF_CHECK(g.on_failure(t0 + 12min).restart);
}

CAF_TEST(startup grace) {
  auto t0 = probe_clock::now();
  CAF_CHECK(!startup_expired(t0, 60s, t0 + 59s));
  CAF_CHECK(startup_expired(t0, 60s, t0 + 60s));
}
