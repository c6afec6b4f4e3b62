#include "gateway/retry_policy.hpp"

#include <algorithm>

namespace zaki {

namespace {

retry_decision no_retry(retry_reason why) {
  retry_decision out;
  out.reason = why;
  return out;
}

} // namespace

const char* to_string(retry_reason x) {
  switch (x) {
    case retry_reason::backoff: return "backoff";
    case retry_reason::retry_after: return "retry_after";
    case retry_reason::not_transient: return "not_transient";
    case retry_reason::attempts_exhausted: return "attempts_exhausted";
    case retry_reason::too_large: return "too_large";
    case retry_reason::quota: return "quota";
    case retry_reason::hang: return "hang";
    case retry_reason::interrupted: return "interrupted";
    case retry_reason::retry_after_too_long: return "retry_after_too_long";
  }
  return "unknown";
}

retry_decision decide_retry(const retry_input& in) {
  if (in.status == 0) {
    // Transport failures: only those where the gateway never got (or never
    // started) the run are worth another one.
    switch (in.failure) {
      case http_failure::too_large: return no_retry(retry_reason::too_large);
      case http_failure::timeout: return no_retry(retry_reason::hang);
      case http_failure::interrupted:
        return no_retry(retry_reason::interrupted);
      default: break;
    }
  }
  if (in.outcome != gateway_outcome::retryable)
    return no_retry(retry_reason::not_transient);
  if (in.error_type == "insufficient_quota")
    return no_retry(retry_reason::quota);
  if (in.attempt >= in.max_attempts)
    return no_retry(retry_reason::attempts_exhausted);
  retry_decision out;
  out.retry = true;
  if (in.retry_after > 0) {
    auto wait = std::chrono::milliseconds(int64_t{in.retry_after} * 1000);
    if (wait > in.wait_budget)
      return no_retry(retry_reason::retry_after_too_long);
    out.delay = wait;
    out.reason = retry_reason::retry_after;
    return out;
  }
  // 1x, 2x, 4x ... the initial delay, capped at a minute.
  auto shift = std::min<uint64_t>(in.attempt - 1, 16);
  auto delay = in.backoff_initial * (int64_t{1} << shift);
  out.delay = std::min(delay, std::chrono::milliseconds(60000));
  out.jitter = true;
  out.reason = retry_reason::backoff;
  return out;
}

error_code gateway_error_code(const retry_input& in) {
  if (in.outcome == gateway_outcome::session_locked)
    return error_code::session_lock_timeout;
  if (in.status == 0) {
    switch (in.failure) {
      case http_failure::timeout: return error_code::gateway_timeout;
      case http_failure::connect:
      case http_failure::closed: return error_code::container_down;
      case http_failure::too_large: return error_code::gateway_answer_too_large;
      case http_failure::interrupted: return error_code::gateway_interrupted;
      default: return error_code::internal;
    }
  }
  return classify_gateway_error(in.status, in.error_type);
}

} // namespace zaki
