#include "admin/checks.hpp"

#include "messages/status_detail.hpp"

namespace zaki {

namespace {

/// The few detail fields the judges read.
struct detail_fields {
  bool parsed = false;
  bool healthy = false;
  bool has_healthy = false;
  bool reachable = true;
  std::string last_error;
  int64_t users = -1;
  /// The store's database refuses writes (full disk, read-only file).
  std::string db_error;
};

detail_fields read_detail(const caf::settings& d) {
  detail_fields result;
  result.parsed = true;
  if (auto healthy = detail_member(d, "healthy")) {
    result.has_healthy = caf::holds_alternative<bool>(healthy->get_data());
    result.healthy = detail_bool(d, "healthy");
  }
  result.reachable = detail_bool(d, "reachable", true);
  result.last_error = detail_string(d, "last_error");
  result.db_error = detail_string(d, "db_error");
  result.users = detail_int(d, "users", -1);
  return result;
}

} // namespace

check_result passed(std::string name, std::string detail) {
  return {std::move(name), true, "ok", std::move(detail)};
}

check_result failed(std::string name, std::string state, std::string detail) {
  return {std::move(name), false, std::move(state), std::move(detail)};
}

check_result judge_poller(const status_node& poller) {
  auto d = read_detail(poller.detail);
  if (poller.state == "fatal")
    return failed("poller", "failing",
                  d.last_error.empty() ? "the poller stopped on a fatal error"
                                       : d.last_error);
  if (d.healthy)
    return passed("poller", "the last getUpdates succeeded");
  if (poller.state == "polling" && d.last_error.empty())
    return passed("poller", "polling, no error so far");
  auto why = d.last_error.empty() ? "the poller is " + poller.state
                                  : "getUpdates failing: " + d.last_error;
  return failed("poller", "failing", std::move(why));
}

check_result judge_store(const status_node& store) {
  auto d = read_detail(store.detail);
  std::string detail = d.users >= 0 ? std::to_string(d.users) + " users loaded"
                                    : std::string{"loaded"};
  if (!d.last_error.empty())
    detail += "; the last reload failed (" + d.last_error
      + "), the previous mapping stays in use";
  // Routing goes on (lookups read), but new users, usage and transcripts
  // cannot be kept: an operator must free the disk or fix the file.
  if (!d.db_error.empty())
    return failed("store", "db_unwritable",
                  "the database refuses writes: " + d.db_error);
  return passed("store", std::move(detail));
}

check_result judge_backend(const status_node& provisioner) {
  auto d = read_detail(provisioner.detail);
  auto& s = provisioner.state;
  bool bad_state = s == "failed" || s == "unreachable" || s == "down"
    || s == "unresponsive" || s == "fatal";
  if (bad_state || !d.reachable || (d.has_healthy && !d.healthy))
    return failed("container_backend", "failing",
                  d.last_error.empty()
                    ? "the container backend is " + s
                    : "the container backend is unreachable: " + d.last_error);
  return passed("container_backend", "the provisioner is " + s);
}

bool all_ok(const std::vector<check_result>& checks) {
  for (auto& check : checks)
    if (!check.ok)
      return false;
  return true;
}

void write_checks(json_writer& w, const std::vector<check_result>& checks) {
  w.begin_array();
  for (auto& check : checks) {
    w.begin_object().field("name", check.name).field("state", check.state);
    w.field("ok", check.ok).field("detail", check.detail).end_object();
  }
  w.end_array();
}

std::string render_health(const std::vector<check_result>& checks,
                          const process_stats& stats, double uptime_s,
                          const char* version) {
  json_writer w;
  w.begin_object().field("status", all_ok(checks) ? "ok" : "failing");
  w.field("version", version).field("uptime_s", uptime_s);
  w.key("checks");
  write_checks(w, checks);
  w.key("memory").begin_object();
  w.field("rss_bytes", stats.rss_bytes);
  w.field("peak_rss_bytes", stats.peak_rss_bytes).end_object();
  w.field("cpu_seconds", stats.cpu_seconds);
  w.field("threads", stats.threads).field("open_fds", stats.open_fds);
  return w.end_object().take();
}

std::string render_probe(const std::vector<check_result>& checks) {
  json_writer w;
  w.begin_object().field("status", all_ok(checks) ? "ok" : "failing");
  w.key("checks");
  write_checks(w, checks);
  return w.end_object().take();
}

} // namespace zaki
