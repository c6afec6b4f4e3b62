#pragma once

#include <functional>
#include <vector>

#include "actors/admin.hpp"
#include "admin/checks.hpp"
#include "runtime/metrics.hpp"

// The endpoint handlers of the admin actor, split by topic: health
// (admin_health.cpp), metrics (admin_metrics.cpp), tree, users and actions
// (admin.cpp). Each runs inside the admin actor and answers through the
// exchange, usually from a request's continuation.

namespace zaki {

/// Serves /health/live: round-trips a message through the root supervisor.
void serve_live(admin_self self, const admin_exchange_ptr& ex);

/// Serves /health/ready: poller, store, container backend, custom checks.
void serve_ready(admin_self self, const admin_exchange_ptr& ex);

/// Serves /health/startup: whether the tree has started.
void serve_startup(admin_self self, const admin_exchange_ptr& ex);

/// Serves /health: every check, memory, uptime and version.
void serve_health(admin_self self, const admin_exchange_ptr& ex);

/// Serves /metrics: the registry plus values read at scrape time.
void serve_metrics(admin_self self, const admin_exchange_ptr& ex);

/// Writes the metrics read from the status tree: active user actors,
/// mailbox sizes, and the counters actors keep in their state (updates
/// received, messages routed, Telegram 429s, restarts).
void write_tree_metrics(prometheus_writer& out, const status_node& root);

/// Writes the metrics computed at scrape time without the tree: process
/// statistics, uptime, build info, session lock counters.
void write_process_metrics(prometheus_writer& out, double uptime_s);

/// Calls `k` with the readiness checks (poller, store, backend, registered
/// checks), gathered in parallel with the live-timeout as deadline.
void gather_readiness(admin_self self,
                      std::function<void(std::vector<check_result>)> k);

/// Calls `k` with the liveness check.
void check_live(admin_self self, std::function<void(check_result)> k);

/// Serves /admin/users?status=&limit=&after=: one page of users, no tokens.
void serve_users_list(admin_self self, const admin_exchange_ptr& ex);

/// POST /admin/users/{id}/approve|reject|revoke (`?purge=1` removes the
/// data with the revoke): the access actor decides as an admin would.
void serve_user_access(admin_self self, const admin_exchange_ptr& ex);

/// POST /admin/broadcast with `{"text": "..."}`: sends the text to every
/// approved user (paced like /broadcast); answers 202 with the number of
/// recipients once they are known, the final count goes to the log.
void serve_broadcast(admin_self self, const admin_exchange_ptr& ex);

/// GET /admin/users?status=pending|approved|rejected|revoked: the access
/// decisions of that status.
void serve_access_list(admin_self self, const admin_exchange_ptr& ex,
                       const std::string& status);

/// Serves DELETE /admin/users/{id}: the provisioner (or the store) removes
/// the user.
void serve_user_remove(admin_self self, const admin_exchange_ptr& ex);

/// Serves DELETE /admin/users/{id}/transcript: the store forgets it.
void serve_user_transcript(admin_self self, const admin_exchange_ptr& ex);

/// Serves POST /admin/users/import?file= and /admin/users/export?out=.
void serve_users_transfer(admin_self self, const admin_exchange_ptr& ex,
                          bool import);

/// Returns the startup check.
check_result check_startup(admin_self self);

/// Judges whether the data root (and the inbox journal in it) can be
/// written: without it no message gets its session lock.
check_result check_storage(admin_self self);

} // namespace zaki
