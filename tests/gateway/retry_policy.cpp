#define CAF_SUITE gateway.retry_policy
#include "caf/test/unit_test.hpp"

#include "gateway/retry_policy.hpp"

// Which failed gateway attempts are retried, after how long, and which
// message the user gets when they are not.

using namespace zaki;
using namespace std::chrono;

namespace {

retry_input transport(http_failure failure) {
  retry_input in;
  in.failure = failure;
  return in;
}

retry_input answered(int status, std::string_view type = {},
                     gateway_outcome outcome = gateway_outcome::retryable) {
  retry_input in;
  in.status = status;
  in.error_type = type;
  in.outcome = outcome;
  return in;
}

} // namespace

CAF_TEST(transient failures are retried with a doubling backoff) {
  auto in = transport(http_failure::connect);
  in.backoff_initial = milliseconds(500);
  auto d = decide_retry(in);
  CAF_CHECK(d.retry);
  CAF_CHECK(d.jitter);
  CAF_CHECK_EQUAL(d.delay.count(), 500);
  CAF_CHECK(d.reason == retry_reason::backoff);
  in.attempt = 2;
  CAF_CHECK_EQUAL(decide_retry(in).delay.count(), 1000);
  in.attempt = 3;
  d = decide_retry(in);
  CAF_CHECK(!d.retry);
  CAF_CHECK(d.reason == retry_reason::attempts_exhausted);
  CAF_CHECK(decide_retry(answered(502)).retry);
  CAF_CHECK(decide_retry(answered(429, "rate_limit_error")).retry);
}

CAF_TEST(an answer over max body is not fetched again) {
  auto d = decide_retry(transport(http_failure::too_large));
  CAF_CHECK(!d.retry);
  CAF_CHECK(d.reason == retry_reason::too_large);
  CAF_CHECK(gateway_error_code(transport(http_failure::too_large))
            == error_code::gateway_answer_too_large);
}

CAF_TEST(insufficient quota is not retried) {
  auto in = answered(429, "insufficient_quota");
  auto d = decide_retry(in);
  CAF_CHECK(!d.retry);
  CAF_CHECK(d.reason == retry_reason::quota);
  CAF_CHECK(gateway_error_code(in) == error_code::provider_quota);
}

CAF_TEST(retry after is honoured within the deadline) {
  auto in = answered(429, "rate_limit_error");
  in.retry_after = 2;
  auto d = decide_retry(in);
  CAF_CHECK(d.retry);
  CAF_CHECK(!d.jitter);
  CAF_CHECK_EQUAL(d.delay.count(), 2000);
  CAF_CHECK(d.reason == retry_reason::retry_after);
  // Longer than the request's deadline allows: waiting cannot help.
  in.retry_after = 600;
  in.wait_budget = seconds(120);
  d = decide_retry(in);
  CAF_CHECK(!d.retry);
  CAF_CHECK(d.reason == retry_reason::retry_after_too_long);
  CAF_CHECK(gateway_error_code(in) == error_code::provider_failed);
}

CAF_TEST(a hang is not retried blindly) {
  auto in = transport(http_failure::timeout);
  auto d = decide_retry(in);
  CAF_CHECK(!d.retry);
  CAF_CHECK(d.reason == retry_reason::hang);
  CAF_CHECK(gateway_error_code(in) == error_code::gateway_timeout);
}

CAF_TEST(each failure gets its own accurate message) {
  auto cut = transport(http_failure::interrupted);
  CAF_CHECK(!decide_retry(cut).retry);
  CAF_CHECK(decide_retry(cut).reason == retry_reason::interrupted);
  CAF_CHECK(gateway_error_code(cut) == error_code::gateway_interrupted);
  for (int status : {400, 404}) {
    auto in = answered(status, "invalid_request_error",
                       gateway_outcome::rejected);
    CAF_CHECK(!decide_retry(in).retry);
    CAF_CHECK(gateway_error_code(in) == error_code::gateway_rejected);
  }
  CAF_CHECK(gateway_error_code(transport(http_failure::connect))
            == error_code::container_down);
  CAF_CHECK(
    gateway_error_code(answered(500, {}, gateway_outcome::session_locked))
    == error_code::session_lock_timeout);
  // None of them is the generic "something went wrong on our side".
  for (auto code :
       {error_code::gateway_interrupted, error_code::gateway_rejected,
        error_code::gateway_answer_too_large})
    CAF_CHECK_NOT_EQUAL(describe(code).title,
                        describe(error_code::internal).title);
}

CAF_TEST(reasons have names for the logs) {
  CAF_CHECK_EQUAL(std::string{to_string(retry_reason::hang)}, "hang");
  CAF_CHECK_EQUAL(std::string{to_string(retry_reason::quota)}, "quota");
}
