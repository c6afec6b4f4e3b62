#include "actors/admin_endpoints.hpp"

#include <map>

#include <caf/all.hpp>

#include "locks/session_lock.hpp"
#include "messages/peer.hpp"
#include "messages/status_detail.hpp"
#include "runtime/process_stats.hpp"

#ifndef ZAKI_VERSION
#  define ZAKI_VERSION "unknown"
#endif

namespace zaki {

namespace http = boost::beast::http;

namespace {

/// Returns the counter `key` of a detail object, or 0.
uint64_t detail_u64(const caf::settings& d, std::string_view key) {
  auto n = detail_int(d, key);
  return n > 0 ? static_cast<uint64_t>(n) : 0;
}

bool is_user_node(const status_node& node) {
  return node.name.rfind("user:", 0) == 0;
}

/// Sums over the user actors below the user supervisor.
struct user_totals {
  std::map<std::string, uint64_t> by_state;
  uint64_t active = 0;
  uint64_t mailbox_sum = 0;
  uint64_t mailbox_max = 0;
  uint64_t queued = 0;
};

void add_users(const status_node& sup, user_totals& t) {
  for (auto& user : sup.children) {
    if (!is_user_node(user))
      continue;
    ++t.by_state[user.state];
    // Restarting and stopped users are synthesized by the supervisor: no
    // live actor stands behind them.
    if (user.id != 0)
      ++t.active;
    t.mailbox_sum += user.mailbox_size;
    t.mailbox_max = std::max(t.mailbox_max, user.mailbox_size);
    t.queued += detail_u64(user.detail, "queued");
  }
}

void counter_from(prometheus_writer& out, const char* name, const char* help,
                  const status_node* node, std::string_view key) {
  if (node == nullptr)
    return;
  out.family(name, "counter", help);
  out.sample(name, static_cast<double>(detail_u64(node->detail, key)));
}

/// The store's database worker: queue depth, jobs and the time from
/// queueing a job to its commit (sum and max), write failures.
void write_store_metrics(prometheus_writer& out, const status_node* store) {
  if (store == nullptr)
    return;
  auto& d = store->detail;
  out.family("zaki_store_queue_depth", "gauge",
             "Database jobs waiting for the store's worker thread.");
  out.sample("zaki_store_queue_depth",
             static_cast<double>(detail_u64(d, "queue_depth")));
  // Counters rather than a summary: rate(sum)/rate(count) is the mean.
  out.family("zaki_store_latency_seconds_total", "counter",
             "Summed time from queueing a database job to its commit.");
  out.sample("zaki_store_latency_seconds_total",
             static_cast<double>(detail_u64(d, "latency_ns_sum")) / 1e9);
  counter_from(out, "zaki_store_jobs_total",
               "Database jobs done by the store's worker.", store, "jobs");
  out.family("zaki_store_latency_max_seconds", "gauge",
             "Longest time from queueing a database job to its commit.");
  out.sample("zaki_store_latency_max_seconds",
             static_cast<double>(detail_u64(d, "latency_ns_max")) / 1e9);
  counter_from(out, "zaki_store_batches_total",
               "Transactions committed by the store's worker.", store,
               "batches");
  counter_from(out, "zaki_store_write_failures_total",
               "Database writes that failed (full disk, read-only file).",
               store, "write_failures");
  out.family("zaki_store_users", "gauge", "Users in the database.");
  out.sample("zaki_store_users", static_cast<double>(detail_u64(d, "users")));
}

} // namespace

void write_tree_metrics(prometheus_writer& out, const status_node& root) {
  const status_node* poller = nullptr;
  const status_node* sup = nullptr;
  const status_node* telegram = nullptr;
  const status_node* store = nullptr;
  out.family("zaki_actor_mailbox_size", "gauge",
             "Messages waiting in the mailbox of a long-lived actor.");
  std::vector<std::string> actor_label{"actor"};
  out.sample("zaki_actor_mailbox_size", actor_label, {root.name},
             static_cast<double>(root.mailbox_size));
  for (auto& child : root.children) {
    out.sample("zaki_actor_mailbox_size", actor_label, {child.name},
               static_cast<double>(child.mailbox_size));
    if (child.name == "poller")
      poller = &child;
    else if (child.name == "user_supervisor")
      sup = &child;
    else if (child.name == "telegram")
      telegram = &child;
    else if (child.name == "store")
      store = &child;
  }
  out.family("zaki_actor_restarts_total", "counter",
             "Restarts of a long-lived actor by the root supervisor.");
  for (auto& child : root.children)
    out.sample("zaki_actor_restarts_total", actor_label, {child.name},
               child.restarts);
  counter_from(out, "zaki_updates_received_total",
               "Updates received from getUpdates.", poller, "updates");
  counter_from(out, "zaki_poll_failures_total", "Failed getUpdates calls.",
               poller, "failures");
  counter_from(out, "zaki_messages_routed_total",
               "Messages handed to user actors (duplicates excluded).", sup,
               "routed");
  counter_from(out, "zaki_user_actor_restarts_total",
               "User actor restarts after crashes.", sup, "restarts");
  counter_from(out, "zaki_telegram_sent_total", "Messages sent to Telegram.",
               telegram, "sent");
  counter_from(out, "zaki_telegram_rate_limited_total",
               "Bot API answers 429 Too Many Requests.", telegram,
               "rate_limited");
  counter_from(out, "zaki_telegram_retries_total",
               "Bot API calls retried after 5xx or network errors.", telegram,
               "retries");
  counter_from(out, "zaki_telegram_held_long_total",
               "Replies held by retry_after longer than telegram.max-wait.",
               telegram, "held_long");
  user_totals t;
  if (sup != nullptr)
    add_users(*sup, t);
  out.family("zaki_active_user_actors", "gauge", "User actors running now.");
  out.sample("zaki_active_user_actors", static_cast<double>(t.active));
  out.family("zaki_user_actors", "gauge",
             "User actors known to the supervisor, by state.");
  for (auto& [state, n] : t.by_state)
    out.sample("zaki_user_actors", {"state"}, {state}, static_cast<double>(n));
  out.family("zaki_user_mailbox_size_sum", "gauge",
             "Messages waiting in all user actors' mailboxes.");
  out.sample("zaki_user_mailbox_size_sum", static_cast<double>(t.mailbox_sum));
  out.family("zaki_user_mailbox_size_max", "gauge",
             "Messages waiting in the fullest user actor mailbox.");
  out.sample("zaki_user_mailbox_size_max", static_cast<double>(t.mailbox_max));
  out.family("zaki_user_messages_queued", "gauge",
             "Messages queued in user actors behind the one in flight.");
  out.sample("zaki_user_messages_queued", static_cast<double>(t.queued));
  write_store_metrics(out, store);
}

void write_process_metrics(prometheus_writer& out, double uptime_s) {
  auto stats = read_process_stats();
  out.family("process_resident_memory_bytes", "gauge",
             "Resident memory size in bytes.");
  out.sample("process_resident_memory_bytes",
             static_cast<double>(stats.rss_bytes));
  out.family("zaki_process_peak_resident_memory_bytes", "gauge",
             "Highest resident memory size so far, in bytes.");
  out.sample("zaki_process_peak_resident_memory_bytes",
             static_cast<double>(stats.peak_rss_bytes));
  out.family("process_cpu_seconds_total", "counter",
             "User and system CPU time spent in seconds.");
  out.sample("process_cpu_seconds_total", stats.cpu_seconds);
  out.family("process_open_fds", "gauge", "Open file descriptors.");
  out.sample("process_open_fds", static_cast<double>(stats.open_fds));
  out.family("zaki_uptime_seconds", "gauge", "Seconds since the start.");
  out.sample("zaki_uptime_seconds", uptime_s);
  out.family("zaki_build_info", "gauge", "Version of zaki-router.");
  out.sample("zaki_build_info", {"version"}, {ZAKI_VERSION}, 1);
  auto locks = lock_counters_snapshot();
  out.family("zaki_session_lock_acquisitions_total", "counter",
             "Session locks acquired.");
  out.sample("zaki_session_lock_acquisitions_total",
             static_cast<double>(locks.acquisitions));
  out.family("zaki_session_lock_waits_total", "counter",
             "Session lock attempts that found the lock held.");
  out.sample("zaki_session_lock_waits_total", static_cast<double>(locks.waits));
  out.family("zaki_session_lock_reclaims_total", "counter",
             "Stale session locks removed.");
  out.sample("zaki_session_lock_reclaims_total",
             static_cast<double>(locks.reclaims));
  out.family("zaki_session_locks_held", "gauge",
             "Session locks held now (exchanges and lingering ones).");
  out.sample("zaki_session_locks_held", static_cast<double>(locks.held));
}

void serve_metrics(admin_self self, const admin_exchange_ptr& ex) {
  auto ctx = self->state.ctx;
  auto finish = [ex, ctx](const status_node* tree) {
    prometheus_writer out;
    metrics().render(out);
    auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                                - ctx->started_at)
                    .count();
    write_process_metrics(out, uptime);
    if (tree != nullptr)
      write_tree_metrics(out, *tree);
    out.family("zaki_admin_tree_walk_ok", "gauge",
               "1 when the status walk of this scrape succeeded.");
    out.sample("zaki_admin_tree_walk_ok", tree != nullptr ? 1 : 0);
    ex->reply(http::status::ok, out.take(),
              "text/plain; version=0.0.4; charset=utf-8");
  };
  auto root = peer<status_client_actor>(self, names::root);
  if (!root) {
    finish(nullptr);
    return;
  }
  // A stuck walk must not stall the scrape: without the tree, the scrape
  // still has the registry and process values.
  self->request(root, std::chrono::seconds(6), status_atom_v)
    .then(
      [finish](const status_node& tree) {
        finish(&tree);
      },
      [finish](caf::error&) {
        finish(nullptr);
      });
}

} // namespace zaki
