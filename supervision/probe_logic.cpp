#include "supervision/probe_logic.hpp"

#include <algorithm>

#include "supervision/backoff.hpp"

namespace zaki {

const char* to_string(probe_verdict x) {
  switch (x) {
    case probe_verdict::unchanged:
      return "unchanged";
    case probe_verdict::became_healthy:
      return "became_healthy";
    case probe_verdict::became_unhealthy:
      return "became_unhealthy";
  }
  return "unknown";
}

probe_tracker::probe_tracker(uint32_t failure_threshold,
                             uint32_t success_threshold,
                             bool initially_healthy)
  : failure_threshold_(std::max<uint32_t>(1, failure_threshold)),
    success_threshold_(std::max<uint32_t>(1, success_threshold)),
    healthy_(initially_healthy) {
  // nop
}

probe_verdict probe_tracker::record(bool ok) {
  if (ok) {
    failures_ = 0;
    ++successes_;
    if (!healthy_ && successes_ >= success_threshold_) {
      healthy_ = true;
      return probe_verdict::became_healthy;
    }
    return probe_verdict::unchanged;
  }
  successes_ = 0;
  ++failures_;
  if (healthy_ && failures_ >= failure_threshold_) {
    healthy_ = false;
    return probe_verdict::became_unhealthy;
  }
  return probe_verdict::unchanged;
}

void probe_tracker::reset(bool healthy) {
  failures_ = 0;
  successes_ = 0;
  healthy_ = healthy;
}

restart_governor::restart_governor(restart_policy policy) : policy_(policy) {
  // nop
}

restart_decision restart_governor::on_failure(probe_clock::time_point now) {
  on_unhealthy();
  while (!recent_.empty() && now - recent_.front() >= policy_.window)
    recent_.pop_front();
  restart_decision result;
  if (recent_.size() >= policy_.max_restarts) {
    // This would be restart number max_restarts + 1 within the window.
    result.restart = false;
    result.recent = static_cast<uint32_t>(recent_.size()) + 1;
    return result;
  }
  recent_.push_back(now);
  result.restart = true;
  result.recent = static_cast<uint32_t>(recent_.size());
  result.delay = exponential_delay(policy_.backoff_initial, policy_.backoff_max,
                                   step_);
  ++step_;
  ++total_;
  return result;
}

void restart_governor::on_healthy(probe_clock::time_point now) {
  if (!healthy_run_) {
    healthy_run_ = true;
    healthy_since_ = now;
    return;
  }
  if (step_ > 0 && now - healthy_since_ >= policy_.backoff_reset)
    step_ = 0;
}

void restart_governor::on_unhealthy() {
  healthy_run_ = false;
}

void restart_governor::reset() {
  recent_.clear();
  step_ = 0;
  healthy_run_ = false;
}

} // namespace zaki
