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

CAF_TEST(startup grace) {
  auto t0 = probe_clock::now();
  CAF_CHECK(!startup_expired(t0, 60s, t0 + 59s));
  CAF_CHECK(startup_expired(t0, 60s, t0 + 60s));
}
