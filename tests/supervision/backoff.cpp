#define CAF_SUITE supervision.backoff
#include "caf/test/unit_test.hpp"

#include "supervision/backoff.hpp"

#include <set>

// Restart and retry delays: doubling from the initial delay, capped, with a
// bounded random jitter, and starting over after a reset.

using namespace zaki;
using namespace std::chrono;

CAF_TEST(exponential delay doubles and is capped) {
  auto d = [](int64_t init, int64_t max, uint32_t n) {
    return exponential_delay(milliseconds(init), milliseconds(max), n).count();
  };
  CAF_CHECK_EQUAL(d(1000, 60000, 0), 1000);
  CAF_CHECK_EQUAL(d(1000, 60000, 1), 2000);
  CAF_CHECK_EQUAL(d(1000, 60000, 2), 4000);
  CAF_CHECK_EQUAL(d(1000, 60000, 5), 32000);
  CAF_CHECK_EQUAL(d(1000, 60000, 6), 60000);
  CAF_CHECK_EQUAL(d(50, 5000, 100), 5000);
  // A huge attempt count neither overflows nor loops for long.
  CAF_CHECK_EQUAL(d(1, 30000, 4000000000u), 30000);
  CAF_CHECK_EQUAL(d(500, 100, 3), 100);
}

CAF_TEST(jitter stays within the spread and varies) {
  std::set<int64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    auto x = with_jitter(milliseconds(1000)).count();
    CAF_CHECK_GREATER_OR_EQUAL(x, 800);
    CAF_CHECK_LESS_OR_EQUAL(x, 1200);
    seen.insert(x);
  }
  CAF_CHECK_GREATER(seen.size(), 50u);
  for (int i = 0; i < 100; ++i) {
    auto x = with_jitter(milliseconds(1000), 0.5).count();
    CAF_CHECK_GREATER_OR_EQUAL(x, 500);
    CAF_CHECK_LESS_OR_EQUAL(x, 1500);
  }
  CAF_CHECK_EQUAL(with_jitter(milliseconds(0)).count(), 0);
  CAF_CHECK_EQUAL(with_jitter(milliseconds(1000), 0.0).count(), 1000);
}

CAF_TEST(backoff sequence grows to the cap and resets) {
  backoff b{milliseconds(100), milliseconds(1000)};
  CAF_CHECK_EQUAL(b.attempt(), 0u);
  auto first = b.next().count();
  CAF_CHECK_GREATER_OR_EQUAL(first, 80);
  CAF_CHECK_LESS_OR_EQUAL(first, 120);
  auto second = b.next().count();
  CAF_CHECK_GREATER_OR_EQUAL(second, 160);
  CAF_CHECK_LESS_OR_EQUAL(second, 240);
  for (int i = 0; i < 20; ++i) {
    auto x = b.next().count();
    // Jitter never pushes a delay above the cap.
    CAF_CHECK_LESS_OR_EQUAL(x, 1000);
  }
  auto capped = b.next().count();
  CAF_CHECK_GREATER_OR_EQUAL(capped, 800);
  CAF_CHECK_EQUAL(b.attempt(), 23u);
  b.reset();
  CAF_CHECK_EQUAL(b.attempt(), 0u);
  CAF_CHECK_LESS_OR_EQUAL(b.next().count(), 120);
}

CAF_TEST(gateway retry schedule is about 1 s 2 s 4 s) {
  // The user actor waits exponential_delay(1 s, 60 s, attempt - 1) with
  // jitter between its (up to 3) gateway attempts.
  for (uint32_t a = 0; a < 3; ++a) {
    auto base = exponential_delay(seconds(1), seconds(60), a);
    CAF_CHECK_EQUAL(base.count(), 1000 << a);
    auto j = with_jitter(base).count();
    CAF_CHECK_GREATER_OR_EQUAL(j, (1000 << a) * 8 / 10);
    CAF_CHECK_LESS_OR_EQUAL(j, (1000 << a) * 12 / 10);
  }
}

CAF_TEST(initial above max is clamped) {
  backoff b{milliseconds(500), milliseconds(100)};
  for (int i = 0; i < 5; ++i)
    CAF_CHECK_LESS_OR_EQUAL(b.next().count(), 500);
}
