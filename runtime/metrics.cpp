#include "runtime/metrics.hpp"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace zaki {

namespace {

uint64_t to_bits(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
}

double from_bits(uint64_t bits) {
  double x;
  std::memcpy(&x, &bits, sizeof(x));
  return x;
}

/// Formats a sample value as Prometheus expects: integers without a
/// fraction, non-finite values as +Inf, -Inf and NaN.
void append_value(std::string& out, double x) {
  if (std::isnan(x))
    out += "NaN";
  else if (std::isinf(x))
    out += x > 0 ? "+Inf" : "-Inf";
  else if (x == std::floor(x) && std::fabs(x) < 1e15)
    fmt::format_to(std::back_inserter(out), "{}", static_cast<int64_t>(x));
  else
    fmt::format_to(std::back_inserter(out), "{}", x);
}

// HELP texts escape backslash and newline; label values also the quote.
void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quote && c == '"')
      out += "\\\"";
    else
      out += c;
  }
}

} // namespace

// -- histogram -----------------------------------------------------------------

histogram::histogram(std::vector<double> bounds)
  : bounds_(std::move(bounds)),
    buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i].store(0, std::memory_order_relaxed);
  sum_bits_.store(to_bits(0.0), std::memory_order_relaxed);
}

void histogram::observe(double x) noexcept {
  // Few buckets: a linear scan beats a binary search here.
  size_t i = 0;
  while (i < bounds_.size() && x > bounds_[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  auto old = sum_bits_.load(std::memory_order_relaxed);
  while (!sum_bits_.compare_exchange_weak(old, to_bits(from_bits(old) + x),
                                          std::memory_order_relaxed))
    ; // retry with the fresh value in `old`
}

histogram::snapshot histogram::read() const {
  snapshot result;
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    result.cumulative.push_back(total);
  }
  // The +Inf bucket must equal the count; reading both from the buckets
  // keeps them consistent while observations race with the scrape.
  result.count = total;
  result.sum = from_bits(sum_bits_.load(std::memory_order_relaxed));
  return result;
}

// -- prometheus_writer ---------------------------------------------------------

void prometheus_writer::family(std::string_view name, std::string_view type,
                               std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void prometheus_writer::sample(std::string_view name,
                               const std::vector<std::string>& label_names,
                               const label_values& values, double value) {
  out_ += name;
  if (!values.empty()) {
    out_ += '{';
    for (size_t i = 0; i < values.size() && i < label_names.size(); ++i) {
      if (i > 0)
        out_ += ',';
      out_ += label_names[i];
      out_ += "=\"";
      append_escaped(out_, values[i], true);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  append_value(out_, value);
  out_ += '\n';
}

void prometheus_writer::sample(std::string_view name, double value) {
  sample(name, {}, {}, value);
}

// -- metrics_registry ----------------------------------------------------------

template <class Metric>
metric_family<Metric>& metrics_registry::find_or_add(
  std::map<std::string, std::unique_ptr<metric_family<Metric>>>& m,
  const std::string& name, const std::string& help,
  std::vector<std::string> label_names, std::vector<double> bounds) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = m.find(name); i != m.end())
    return *i->second;
  auto taken = counters_.count(name) + gauges_.count(name)
    + histos_.count(name);
  auto fam = std::make_unique<metric_family<Metric>>(
    name, help, std::move(label_names), std::move(bounds));
  auto& ref = *fam;
  if (taken > 0)
    detached_.emplace_back(
      std::shared_ptr<metric_family<Metric>>(std::move(fam)));
  else
    m.emplace(name, std::move(fam));
  return ref;
}

metric_family<counter>&
metrics_registry::counters(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names) {
  return find_or_add(counters_, name, help, std::move(label_names), {});
}

metric_family<gauge>&
metrics_registry::gauges(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names) {
  return find_or_add(gauges_, name, help, std::move(label_names), {});
}

metric_family<histogram>&
metrics_registry::histograms(const std::string& name, const std::string& help,
                             std::vector<double> bounds,
                             std::vector<std::string> label_names) {
  return find_or_add(histos_, name, help, std::move(label_names),
                     std::move(bounds));
}

void metrics_registry::render(prometheus_writer& out) const {
  std::lock_guard<std::mutex> guard{mtx_};
  // Series whose label count does not match their family are skipped: the
  // format has no way to express them.
  for (auto& [name, fam] : counters_) {
    out.family(name, "counter", fam->help());
    fam->for_each([&](const label_values& values, const counter& c) {
      if (values.size() == fam->label_names().size())
        out.sample(name, fam->label_names(), values,
                   static_cast<double>(c.value()));
    });
  }
  for (auto& [name, fam] : gauges_) {
    out.family(name, "gauge", fam->help());
    fam->for_each([&](const label_values& values, const gauge& g) {
      if (values.size() == fam->label_names().size())
        out.sample(name, fam->label_names(), values,
                   static_cast<double>(g.value()));
    });
  }
  for (auto& [name, fam] : histos_) {
    out.family(name, "histogram", fam->help());
    auto names = fam->label_names();
    names.emplace_back("le");
    fam->for_each([&](const label_values& values, const histogram& h) {
      if (values.size() != fam->label_names().size())
        return;
      auto snap = h.read();
      auto labels = values;
      labels.emplace_back();
      for (size_t i = 0; i < snap.cumulative.size(); ++i) {
        labels.back() = i < h.bounds().size() ? fmt::format("{}", h.bounds()[i])
                                              : std::string{"+Inf"};
        out.sample(name + "_bucket", names, labels,
                   static_cast<double>(snap.cumulative[i]));
      }
      out.sample(name + "_sum", fam->label_names(), values, snap.sum);
      out.sample(name + "_count", fam->label_names(), values,
                 static_cast<double>(snap.count));
    });
  }
}

std::string metrics_registry::render() const {
  prometheus_writer out;
  render(out);
  return out.take();
}

metrics_registry& metrics() {
  // Never destroyed: actors may count while the process exits.
  static auto* instance = new metrics_registry;
  return *instance;
}

// -- helpers -------------------------------------------------------------------

namespace metric {

void observe_gateway_latency(std::chrono::microseconds elapsed) {
  static auto& h
    = metrics()
        .histograms(gateway_latency,
                    "Duration of gateway requests (POST "
                    "/v1/chat/completions), in seconds.",
                    {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120})
        .get();
  h.observe(std::chrono::duration<double>(elapsed).count());
}

void gateway_retry() {
  static auto& c = metrics().get_counter(gateway_retries,
                                         "Gateway attempts after the first "
                                         "one of a message.");
  c.inc();
}

void error(std::string_view code) {
  static auto& fam = metrics().counters(errors,
                                        "Errors reported to users, by zaki "
                                        "error code.",
                                        {"code"});
  fam.with({std::string{code}}).inc();
}

void container_restart() {
  static auto& c = metrics().get_counter(container_restarts,
                                         "Container restarts by the "
                                         "provisioner or the health "
                                         "supervisor.");
  c.inc();
}

void admin_request(unsigned status) {
  static auto& fam = metrics().counters(admin_requests,
                                        "Admin HTTP requests, by status "
                                        "code.",
                                        {"code"});
  fam.with({std::to_string(status)}).inc();
}

void rate_limit_held() {
  static auto& c = metrics().get_counter(rate_held,
                                         "Messages that waited for their "
                                         "user's rate limit (access.rate).");
  c.inc();
}

void rate_limit_notice() {
  static auto& c = metrics().get_counter(rate_notices,
                                         "Slow-down notices sent (one per "
                                         "burst over access.rate).");
  c.inc();
}

void budget_refusal() {
  static auto& c = metrics().get_counter(budget_refused,
                                         "Messages not sent to the gateway: "
                                         "the user's daily token budget was "
                                         "spent.");
  c.inc();
}

} // namespace metric

} // namespace zaki
