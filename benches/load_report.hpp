#pragma once

// Results of the load bench: one `phase_result` per measured run (the
// router, or the floor client), the targets of issue 7 with met / not met,
// printed as a table and written as JSON.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "benches/load_driver.hpp"
#include "json/writer.hpp"

namespace zaki::bench {

/// Returns the q-quantile (0..1) of sorted `xs` (nearest rank), or 0.
inline double quantile(const std::vector<double>& xs, double q) {
  if (xs.empty())
    return 0;
  auto rank = static_cast<size_t>(std::ceil(q * xs.size()));
  return xs[std::min(xs.size() - 1, rank == 0 ? 0 : rank - 1)];
}

/// Figures of one measured run.
struct phase_result {
  /// "<scenario>/router" or "<scenario>/floor".
  std::string name;
  std::string mode; // "closed" or "open"
  size_t users = 0;
  size_t messages = 0;
  size_t registered = 0;
  double rate = 0; // open loop only
  int64_t gateway_latency_ms = 0;
  run_record rec;
  gateway_totals gw;
  /// Latency quantiles in ms.
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
  double throughput = 0; // delivered messages per second
  /// CPU seconds of the router process (or the floor thread) over the run.
  double cpu_s = 0;
  double cpu_us_per_msg = 0;
  /// Peak RSS of the router process (VmHWM), bytes; 0 for the floor.
  uint64_t peak_rss = 0;
  /// RSS of the router at the end of the run (VmRSS), bytes.
  uint64_t end_rss = 0;
  /// CPU seconds of the bench process (fakes, driver) over the run.
  double bench_cpu_s = 0;
  /// Machine: load average before/after, busy share of all CPUs.
  double load_before = 0, load_after = 0, machine_busy = 0;
  /// Exit code of the router after SIGTERM (-1: not a router run).
  int router_exit = -1;
  /// Failed exchanges of the floor client.
  uint64_t floor_errors = 0;
  /// Set on the median of several runs: how many, and the CPU per message
  /// of each, in run order.
  size_t median_of = 0;
  std::vector<double> cpu_runs_us;
  /// Updates per getUpdates answer over the run (0: not measured).
  double updates_per_poll = 0;
  /// System calls of the router per delivered message, in all and by call
  /// (perf stat over the run; empty: not counted).
  double syscalls_per_msg = 0;
  std::vector<std::pair<std::string, double>> syscalls_by_call;

  /// Returns the number of correctness violations (must be 0).
  uint64_t violations() const {
    return rec.lost + rec.duplicated + rec.misrouted + rec.order_violations
      + rec.unexpected + gw.overlap_violations + gw.order_violations
      + gw.misrouted + gw.unauthorized + floor_errors;
  }

  /// Sorts the latencies and fills the derived figures.
  void summarise() {
    auto& xs = rec.latencies_us;
    std::sort(xs.begin(), xs.end());
    p50 = quantile(xs, 0.50) / 1000;
    p90 = quantile(xs, 0.90) / 1000;
    p99 = quantile(xs, 0.99) / 1000;
    max = xs.empty() ? 0 : xs.back() / 1000;
    throughput = rec.wall_seconds > 0 ? rec.delivered / rec.wall_seconds : 0;
    cpu_us_per_msg = rec.delivered > 0 ? cpu_s * 1e6 / rec.delivered : 0;
  }
};

/// One target of issue 7.
struct target_result {
  std::string name;
  double value = 0;
  double limit = 0;
  std::string unit;
  bool met = false;
  /// Where the value comes from, e.g. the phase name.
  std::string source;
};

/// Returns a target judged as "value <= limit".
inline target_result at_most(std::string name, double value, double limit,
                             std::string unit, std::string source) {
  return {std::move(name), value,          limit,
          std::move(unit), value <= limit, std::move(source)};
}

/// Prints the phases as a table.
inline void print_phases(const std::vector<phase_result>& phases) {
  std::printf("\n%-22s %5s %6s %4s %7s %5s %5s %3s %3s %3s %3s %3s %8s "
              "%7s %7s %7s %8s %8s %7s %6s %7s %9s\n",
              "phase", "mode", "users", "msgs", "deliv", "lost", "dup", "mis",
              "ord", "ovl", "err", "rep", "msg/s", "p50ms", "p90ms", "p99ms",
              "maxms", "cpu_us/m", "rss_MB", "bench", "load", "busy%");
  for (auto& p : phases) {
    std::printf(
      "%-22s %5s %6zu %4zu %7llu %5llu %5llu %3llu %3llu %3llu "
      "%3llu %3llu %8.0f %7.2f %7.2f %7.2f %8.2f %8.1f %7.1f %6.2f "
      "%3.1f/%-3.1f %8.0f\n",
      p.name.c_str(), p.mode.c_str(), p.users, p.messages,
      (unsigned long long) p.rec.delivered, (unsigned long long) p.rec.lost,
      (unsigned long long) p.rec.duplicated,
      (unsigned long long) (p.rec.misrouted + p.gw.misrouted),
      (unsigned long long) (p.rec.order_violations + p.gw.order_violations),
      (unsigned long long) p.gw.overlap_violations,
      (unsigned long long) (p.rec.unexpected + p.floor_errors
                            + p.gw.unauthorized),
      (unsigned long long) p.gw.repeats, p.throughput, p.p50, p.p90, p.p99,
      p.max, p.cpu_us_per_msg, p.peak_rss / 1048576.0, p.bench_cpu_s,
      p.load_before, p.load_after, p.machine_busy * 100);
  }
  std::printf("columns: mis = misrouted, ord = order violations, ovl = "
              "overlapping gateway requests of one user, err = error replies "
              "or failed exchanges, rep = gateway retries; latency from "
              "push_text to sendMessage arrival; cpu_us/m = router process "
              "(or floor thread) CPU per delivered message; bench = CPU s of "
              "the bench process; load = 1-min load average before/after; "
              "busy%% = all CPUs of the machine.\n");
}

/// Prints the targets with met / not met.
inline void print_targets(const std::vector<target_result>& targets) {
  std::printf("\n%-58s %12s %12s  %s\n", "target", "measured", "limit",
              "result");
  for (auto& t : targets)
    std::printf("%-58s %10.2f %-2s %9.2f %-2s  %s\n", t.name.c_str(), t.value,
                t.unit.c_str(), t.limit, t.unit.c_str(),
                t.met ? "met" : "NOT MET");
}

/// Returns the JSON report.
inline std::string to_json(const std::vector<phase_result>& phases,
                           const std::vector<target_result>& targets,
                           const std::string& command) {
  json_writer w;
  w.begin_object().field("command", command).key("phases").begin_array();
  for (auto& p : phases) {
    w.begin_object()
      .field("name", p.name)
      .field("mode", p.mode)
      .field("users", static_cast<uint64_t>(p.users))
      .field("messages_per_user", static_cast<uint64_t>(p.messages))
      .field("registered_users", static_cast<uint64_t>(p.registered))
      .field("rate_per_s", p.rate)
      .field("gateway_latency_ms", p.gateway_latency_ms)
      .field("expected", p.rec.expected)
      .field("delivered", p.rec.delivered)
      .field("lost", p.rec.lost)
      .field("duplicated", p.rec.duplicated)
      .field("misrouted", p.rec.misrouted + p.gw.misrouted)
      .field("order_violations", p.rec.order_violations + p.gw.order_violations)
      .field("overlap_violations", p.gw.overlap_violations)
      .field("unexpected_replies", p.rec.unexpected)
      .field("gateway_unauthorized", p.gw.unauthorized)
      .field("gateway_repeats", p.gw.repeats)
      .field("gateway_requests", p.gw.chat_requests)
      .field("floor_errors", p.floor_errors)
      .field("violations", p.violations())
      .field("throughput_per_s", p.throughput)
      .field("wall_s", p.rec.wall_seconds)
      .field("latency_p50_ms", p.p50)
      .field("latency_p90_ms", p.p90)
      .field("latency_p99_ms", p.p99)
      .field("latency_max_ms", p.max)
      .field("cpu_s", p.cpu_s)
      .field("cpu_us_per_msg", p.cpu_us_per_msg)
      .field("peak_rss_bytes", p.peak_rss)
      .field("end_rss_bytes", p.end_rss)
      .field("bench_cpu_s", p.bench_cpu_s)
      .field("loadavg_before", p.load_before)
      .field("loadavg_after", p.load_after)
      .field("machine_busy_share", p.machine_busy)
      .field("router_exit_code", p.router_exit);
    if (p.median_of > 0) {
      w.field("median_of_runs", static_cast<uint64_t>(p.median_of));
      w.key("cpu_us_per_msg_runs").begin_array();
      for (auto x : p.cpu_runs_us)
        w.value(x);
      w.end_array();
    }
    w.end_object();
  }
  w.end_array().key("targets").begin_array();
  for (auto& t : targets)
    w.begin_object()
      .field("name", t.name)
      .field("value", t.value)
      .field("limit", t.limit)
      .field("unit", t.unit)
      .field("met", t.met)
      .field("source", t.source)
      .end_object();
  return w.end_array().end_object().take();
}

} // namespace zaki::bench
