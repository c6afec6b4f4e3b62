#include "supervision/probe_logic.hpp"

#include <algorithm>

namespace zaki {

const char* to_string(probe_kind x) {
  switch (x) {
    case probe_kind::startup: return "startup";
    case probe_kind::liveness: return "liveness";
    case probe_kind::readiness: return "readiness";
  }
  return "unknown";
}

const char* to_string(probe_verdict x) {
  switch (x) {
    case probe_verdict::unchanged: return "unchanged";
    case probe_verdict::became_healthy: return "became_healthy";
    case probe_verdict::became_unhealthy: return "became_unhealthy";
  }
  return "unknown";
}

probe_tracker::probe_tracker(uint32_t failure_threshold,
                             uint32_t success_threshold, bool initially_healthy)
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

} // namespace zaki
