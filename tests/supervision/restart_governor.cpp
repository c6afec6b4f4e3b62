#define CAF_SUITE supervision.restart_governor

#include "supervision/restart_governor.hpp"

#include "caf/test/unit_test.hpp"

using namespace zaki;
using namespace std::chrono_literals;

using probe_clock = supervision_clock;

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
  std::vector<int64_t> want{1000,  2000,   4000,   8000,   16000, 32000,
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

CAF_TEST(the root policy restarts after a constant delay and escalates) {
  // The root's defaults: at most 5 restarts in 60 s, 200 ms apart.
  restart_policy p;
  p.max_restarts = 5;
  p.window = 60s;
  p.backoff_initial = 200ms;
  p.backoff_max = 200ms;
  restart_governor g{p};
  auto t0 = supervision_clock::now();
  for (int i = 0; i < 5; ++i) {
    auto d = g.on_failure(t0 + std::chrono::seconds(i));
    CAF_REQUIRE(d.restart);
    CAF_CHECK_EQUAL(d.delay, 200ms);
  }
  CAF_CHECK(!g.on_failure(t0 + 59s).restart);
  // A window later the first five are forgotten.
  CAF_CHECK(g.on_failure(t0 + 65s).restart);
  CAF_CHECK_EQUAL(g.total_restarts(), 6u);
}

CAF_TEST(a quiet period resets the backoff of children without health) {
  restart_policy p;
  p.backoff_initial = 50ms;
  p.backoff_max = 5s;
  p.window = 60s;
  p.backoff_reset = 60s;
  p.quiet_resets_backoff = true;
  restart_governor g{p};
  auto t0 = supervision_clock::now();
  CAF_CHECK_EQUAL(g.on_failure(t0).delay, 50ms);
  CAF_CHECK_EQUAL(g.on_failure(t0 + 1s).delay, 100ms);
  CAF_CHECK_EQUAL(g.on_failure(t0 + 2s).delay, 200ms);
  // 60 s without a failure: a stable run.
  CAF_CHECK_EQUAL(g.on_failure(t0 + 62s).delay, 50ms);
  // Without the flag, only on_healthy resets the backoff.
  p.quiet_resets_backoff = false;
  restart_governor h{p};
  h.on_failure(t0);
  h.on_failure(t0 + 1s);
  CAF_CHECK_EQUAL(h.on_failure(t0 + 2min).delay, 200ms);
}

CAF_TEST(jitter spreads delays within the spread and the cap) {
  restart_policy p;
  p.backoff_initial = 1s;
  p.backoff_max = 1s;
  p.max_restarts = 1000;
  p.jitter = 0.2;
  restart_governor g{p};
  auto t0 = supervision_clock::now();
  bool varied = false;
  std::chrono::milliseconds first{0};
  for (int i = 0; i < 50; ++i) {
    auto d = g.on_failure(t0 + std::chrono::seconds(i)).delay;
    CAF_CHECK_GREATER_OR_EQUAL(d, 800ms);
    CAF_CHECK_LESS_OR_EQUAL(d, 1000ms);
    if (i == 0)
      first = d;
    else if (d != first)
      varied = true;
  }
  CAF_CHECK(varied);
}

CAF_TEST(zero max restarts gives up on the first failure) {
  restart_policy p;
  p.max_restarts = 0;
  restart_governor g{p};
  auto d = g.on_failure(supervision_clock::now());
  CAF_CHECK(!d.restart);
  CAF_CHECK_EQUAL(d.recent, 1u);
  CAF_CHECK_EQUAL(g.total_restarts(), 0u);
}
