#pragma once

#include <string>
#include <vector>

#include "json/writer.hpp"
#include "messages/types.hpp"
#include "runtime/process_stats.hpp"

// How the admin judges health from the actors' status answers. Pure
// functions over `status_node`s, tested without actors.

namespace zaki {

/// The outcome of one health check.
struct check_result {
  /// e.g. "startup", "live", "poller", "store", "container_backend", or the
  /// name of a registered readiness check.
  std::string name;
  bool ok = false;
  /// A word for dashboards: ok, failing, not_started, unresponsive, ...
  std::string state;
  /// One sentence for operators.
  std::string detail;
};

/// Returns a passing check.
check_result passed(std::string name, std::string detail);

/// Returns a failing check with `state` (e.g. "failing", "unresponsive").
check_result failed(std::string name, std::string state, std::string detail);

/// Judges the poller: ready while its last getUpdates succeeded
/// (`healthy`), or while it polls without a recorded error (the first long
/// poll of a quiet bot takes the whole poll timeout).
check_result judge_poller(const status_node& poller);

/// Judges the store: ready once it answers (it serves its last good mapping
/// even when a reload failed, which the detail mentions).
check_result judge_store(const status_node& store);

/// Judges the provisioner: not ready when its state or its detail say the
/// backend is unreachable or failed.
check_result judge_backend(const status_node& provisioner);

/// Returns whether every check passed.
bool all_ok(const std::vector<check_result>& checks);

/// Writes the checks as a JSON array of {name, state, ok, detail}.
void write_checks(json_writer& w, const std::vector<check_result>& checks);

/// The body of /health: overall status, the checks, memory, uptime, version.
std::string render_health(const std::vector<check_result>& checks,
                          const process_stats& stats, double uptime_s,
                          const char* version);

/// The body of /health/live, /health/ready and /health/startup:
/// {"status": "ok"|"failing", "checks": [...]}.
std::string render_probe(const std::vector<check_result>& checks);

} // namespace zaki
