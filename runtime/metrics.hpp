#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

// A small process-wide metrics registry with the Prometheus text exposition
// format 0.0.4. Updating a metric is one relaxed atomic operation; only
// creating a metric (or a new label combination) takes a lock, so hot code
// looks its metric up once and keeps the reference (the helpers in
// `zaki::metric` do that with function-local statics).

namespace zaki {

/// Label values of one series, in the order of the family's label names.
using label_values = std::vector<std::string>;

/// A count that only goes up (restarts from 0 with the process).
class counter {
public:
  /// Adds `n`.
  void inc(uint64_t n = 1) noexcept {
    value_.fetch_add(n, std::memory_order_relaxed);
  }

  /// Returns the current count.
  uint64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

private:
  std::atomic<uint64_t> value_{0};
};

/// A value that goes up and down.
class gauge {
public:
  /// Replaces the value.
  void set(int64_t x) noexcept {
    value_.store(x, std::memory_order_relaxed);
  }

  /// Adds `n` (may be negative).
  void inc(int64_t n = 1) noexcept {
    value_.fetch_add(n, std::memory_order_relaxed);
  }

  /// Subtracts `n`.
  void dec(int64_t n = 1) noexcept {
    value_.fetch_sub(n, std::memory_order_relaxed);
  }

  /// Returns the current value.
  int64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

private:
  std::atomic<int64_t> value_{0};
};

/// Counts observations into fixed buckets (upper bounds, ascending) and keeps
/// their sum, like a Prometheus histogram.
class histogram {
public:
  /// Creates a histogram with the given upper bounds (+Inf is implicit).
  explicit histogram(std::vector<double> bounds);

  /// Records one observation.
  void observe(double x) noexcept;

  /// Returns the upper bounds, without +Inf.
  const std::vector<double>& bounds() const {
    return bounds_;
  }

  /// A consistent-enough copy of the counts for rendering.
  struct snapshot {
    /// Cumulative counts per bound, then +Inf.
    std::vector<uint64_t> cumulative;
    uint64_t count = 0;
    double sum = 0;
  };

  /// Returns the current counts.
  snapshot read() const;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  // A double kept as its bit pattern; C++17 has no atomic<double>::fetch_add.
  std::atomic<uint64_t> sum_bits_{0};
};

/// Writes the Prometheus text exposition format 0.0.4 with correct escaping
/// of help texts and label values. Used by the registry and for values
/// computed at scrape time (the status walk, process statistics).
class prometheus_writer {
public:
  /// Starts a family: `# HELP` and `# TYPE` lines. `type` is counter, gauge,
  /// histogram or untyped.
  void family(std::string_view name, std::string_view type,
              std::string_view help);

  /// Writes one sample line `name{labels} value`.
  void sample(std::string_view name,
              const std::vector<std::string>& label_names,
              const label_values& values, double value);

  /// Shorthand for a sample without labels.
  void sample(std::string_view name, double value);

  /// Returns the text written so far.
  const std::string& str() const {
    return out_;
  }

  /// Moves the text out.
  std::string take() {
    return std::move(out_);
  }

private:
  std::string out_;
};

/// A named metric with label names and one series per label combination.
/// Series are created on first use and live as long as the registry.
template <class Metric>
class metric_family {
public:
  metric_family(std::string name, std::string help,
                std::vector<std::string> label_names,
                std::vector<double> bounds = {})
    : name_(std::move(name)), help_(std::move(help)),
      label_names_(std::move(label_names)), bounds_(std::move(bounds)) {
    // nop
  }

  /// Returns the series for `values` (one per label name), creating it on
  /// first use. Takes a reader lock: keep the reference in hot code.
  Metric& with(const label_values& values) {
    {
      std::shared_lock<std::shared_mutex> guard{mtx_};
      if (auto i = series_.find(values); i != series_.end())
        return *i->second;
    }
    std::unique_lock<std::shared_mutex> guard{mtx_};
    auto& slot = series_[values];
    if (!slot)
      slot = make();
    return *slot;
  }

  /// Returns the series without labels.
  Metric& get() {
    return with({});
  }

  /// Returns the metric's name.
  const std::string& name() const {
    return name_;
  }

  /// Returns the help text.
  const std::string& help() const {
    return help_;
  }

  /// Returns the label names.
  const std::vector<std::string>& label_names() const {
    return label_names_;
  }

  /// Calls `f(values, metric)` for every series, in label order.
  template <class F>
  void for_each(F&& f) const {
    std::shared_lock<std::shared_mutex> guard{mtx_};
    for (auto& kvp : series_)
      f(kvp.first, *kvp.second);
  }

private:
  std::unique_ptr<Metric> make() {
    if constexpr (std::is_same_v<Metric, histogram>)
      return std::make_unique<histogram>(bounds_);
    else
      return std::make_unique<Metric>();
  }

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::shared_mutex mtx_;
  std::map<label_values, std::unique_ptr<Metric>> series_;
};

/// All metrics of the process. Families are never removed, so references to
/// families and series stay valid.
class metrics_registry {
public:
  /// Returns the counter family `name`, creating it on first use. A name is
  /// registered once; asking for it with another type or labels returns a
  /// detached family that is never rendered.
  metric_family<counter>& counters(const std::string& name,
                                   const std::string& help,
                                   std::vector<std::string> label_names = {});

  /// Returns the gauge family `name`, creating it on first use.
  metric_family<gauge>& gauges(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names = {});

  /// Returns the histogram family `name` with the given bucket bounds.
  metric_family<histogram>&
  histograms(const std::string& name, const std::string& help,
             std::vector<double> bounds,
             std::vector<std::string> label_names = {});

  /// Shorthand for the unlabelled counter `name`.
  counter& get_counter(const std::string& name, const std::string& help) {
    return counters(name, help).get();
  }

  /// Shorthand for the unlabelled gauge `name`.
  gauge& get_gauge(const std::string& name, const std::string& help) {
    return gauges(name, help).get();
  }

  /// Renders every family in the text exposition format, sorted by name.
  void render(prometheus_writer& out) const;

  /// Returns `render` as a string.
  std::string render() const;

private:
  template <class Metric>
  metric_family<Metric>&
  find_or_add(std::map<std::string, std::unique_ptr<metric_family<Metric>>>& m,
              const std::string& name, const std::string& help,
              std::vector<std::string> label_names, std::vector<double> bounds);

  mutable std::mutex mtx_;
  std::map<std::string, std::unique_ptr<metric_family<counter>>> counters_;
  std::map<std::string, std::unique_ptr<metric_family<gauge>>> gauges_;
  std::map<std::string, std::unique_ptr<metric_family<histogram>>> histos_;
  // Families asked for under a name taken by another type: never rendered.
  std::vector<std::shared_ptr<void>> detached_;
};

/// Returns the process-wide registry.
metrics_registry& metrics();

/// Metric names of zaki-router and increment helpers for the actors. Each
/// helper resolves its series once; afterwards a call is one atomic add.
/// Counters that actors already keep in their state (updates received,
/// messages routed, Telegram 429s, user actor restarts) are read from the
/// status tree at scrape time instead (see actors/admin_metrics.hpp).
namespace metric {

/// Histogram of gateway request durations in seconds.
constexpr const char* gateway_latency = "zaki_gateway_request_duration_seconds";
/// Counter of gateway attempts after the first one.
constexpr const char* gateway_retries = "zaki_gateway_retries_total";
/// Counter of errors reported to users, by zaki error code (label `code`).
constexpr const char* errors = "zaki_errors_total";
/// Counter of container restarts by the provisioner or health supervisor.
constexpr const char* container_restarts = "zaki_container_restarts_total";
/// Counter of admin HTTP requests by status code (label `code`).
constexpr const char* admin_requests = "zaki_admin_requests_total";

/// Counter of messages that waited for the per-user rate limit.
constexpr const char* rate_held = "zaki_rate_limit_held_total";
/// Counter of "slow down" notices (one per burst).
constexpr const char* rate_notices = "zaki_rate_limit_notices_total";
/// Counter of messages refused over the daily token budget.
constexpr const char* budget_refused = "zaki_budget_refused_total";

/// Records the duration of one gateway request.
void observe_gateway_latency(std::chrono::microseconds elapsed);

/// Counts one retried gateway attempt.
void gateway_retry();

/// Counts one error shown to a user, e.g. `error("ZR-GATEWAY-TIMEOUT")`.
void error(std::string_view code);

/// Counts one container restart.
void container_restart();

/// Counts one admin request answered with `status`.
void admin_request(unsigned status);

/// Counts one message held by the rate limit.
void rate_limit_held();

/// Counts one "slow down" notice.
void rate_limit_notice();

/// Counts one message refused over the daily token budget.
void budget_refusal();

} // namespace metric

} // namespace zaki
