#include "supervision/restart_governor.hpp"

#include <algorithm>

#include "supervision/backoff.hpp"

namespace zaki {

restart_governor::restart_governor(restart_policy policy) : policy_(policy) {
  // nop
}

restart_decision
restart_governor::on_failure(supervision_clock::time_point now) {
  on_unhealthy();
  if (policy_.quiet_resets_backoff && !recent_.empty()
      && now - recent_.back() >= policy_.backoff_reset)
    step_ = 0;
  auto first_kept = std::find_if(recent_.begin(), recent_.end(),
                                 [&](supervision_clock::time_point t) {
                                   return now - t < policy_.window;
                                 });
  recent_.erase(recent_.begin(), first_kept);
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
  if (policy_.jitter > 0)
    result.delay
      = std::min(with_jitter(result.delay, policy_.jitter),
                 std::max(policy_.backoff_initial, policy_.backoff_max));
  ++step_;
  ++total_;
  return result;
}

void restart_governor::on_healthy(supervision_clock::time_point now) {
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
