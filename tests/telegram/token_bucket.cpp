#define CAF_SUITE telegram.token_bucket
#include "caf/test/unit_test.hpp"

#include "telegram/token_bucket.hpp"

// The pacing of sendMessage: a bucket per chat (1/s, small burst) and one
// for the bot (30/s). Time is passed in, so these tests need no sleeping.

using namespace zaki;
using namespace std::chrono;

namespace {

token_bucket::clock::time_point t0 = token_bucket::clock::time_point{}
  + hours(1);

} // namespace

CAF_TEST(burst then rate) {
  token_bucket b{1.0, 3.0, t0};
  CAF_CHECK(b.full(t0));
  CAF_CHECK(b.try_take(t0));
  CAF_CHECK(b.try_take(t0));
  CAF_CHECK(b.try_take(t0));
  CAF_CHECK(!b.try_take(t0));
  CAF_CHECK(!b.full(t0));
  auto wait = duration_cast<milliseconds>(b.wait_time(t0)).count();
  CAF_CHECK_GREATER_OR_EQUAL(wait, 999);
  CAF_CHECK_LESS_OR_EQUAL(wait, 1000);
  CAF_CHECK(!b.try_take(t0 + milliseconds(500)));
  CAF_CHECK(b.try_take(t0 + milliseconds(1000)));
  CAF_CHECK(!b.try_take(t0 + milliseconds(1500)));
  // Refill is capped at the burst.
  CAF_CHECK(b.full(t0 + seconds(100)));
  CAF_CHECK(b.try_take(t0 + seconds(100)));
  CAF_CHECK(b.try_take(t0 + seconds(100)));
  CAF_CHECK(b.try_take(t0 + seconds(100)));
  CAF_CHECK(!b.try_take(t0 + seconds(100)));
}

CAF_TEST(thirty per second overall) {
  token_bucket b{30.0, 30.0, t0};
  int taken = 0;
  // Over 10 s of 1 ms steps, at most burst + 10 s * 30/s tokens go out.
  for (int ms = 0; ms < 10000; ++ms)
    while (b.try_take(t0 + milliseconds(ms)))
      ++taken;
  CAF_CHECK_GREATER_OR_EQUAL(taken, 325);
  CAF_CHECK_LESS_OR_EQUAL(taken, 330);
}

CAF_TEST(wait time predicts the next token) {
  token_bucket b{30.0, 1.0, t0};
  CAF_CHECK(b.try_take(t0));
  auto wait = b.wait_time(t0);
  CAF_CHECK(!b.try_take(t0 + wait - milliseconds(1)));
  CAF_CHECK(b.try_take(t0 + wait + microseconds(1)));
}

CAF_TEST(block until honours retry after) {
  token_bucket b{1.0, 3.0, t0};
  b.block_until(t0 + seconds(7));
  CAF_CHECK(!b.try_take(t0));
  CAF_CHECK(!b.try_take(t0 + seconds(7)));
  auto wait = duration_cast<milliseconds>(b.wait_time(t0 + seconds(7)));
  CAF_CHECK_EQUAL(wait.count(), 1000);
  CAF_CHECK(b.try_take(t0 + seconds(8)));
  // An earlier block does not shorten a later one.
  b.block_until(t0 + seconds(20));
  b.block_until(t0 + seconds(10));
  CAF_CHECK(!b.try_take(t0 + seconds(20)));
  CAF_CHECK(b.try_take(t0 + seconds(21)));
}

CAF_TEST(time going backwards does not mint tokens) {
  token_bucket b{1.0, 1.0, t0 + seconds(5)};
  CAF_CHECK(b.try_take(t0 + seconds(5)));
  CAF_CHECK(!b.try_take(t0));
  CAF_CHECK(!b.try_take(t0 + seconds(5)));
}

CAF_TEST(burst below one is raised to one) {
  token_bucket b{10.0, 0.0, t0};
  CAF_CHECK(b.try_take(t0));
  CAF_CHECK(!b.try_take(t0));
}
