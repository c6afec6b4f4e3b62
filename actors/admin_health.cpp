#include "actors/admin_endpoints.hpp"

#include <caf/all.hpp>

#include "messages/peer.hpp"
#include "runtime/process_stats.hpp"
#include "storage/writable.hpp"

#ifndef ZAKI_VERSION
#  define ZAKI_VERSION "unknown"
#endif

namespace zaki {

namespace http = boost::beast::http;

namespace {

using clock_type = std::chrono::steady_clock;

/// Collects the answers of checks that run in parallel and calls `done`
/// once all are in. Lives in the continuations; only the admin actor
/// touches it.
struct check_gather {
  std::vector<check_result> results;
  size_t missing = 0;
  std::function<void(std::vector<check_result>)> done;

  void set(size_t i, check_result r) {
    results[i] = std::move(r);
    if (--missing == 0)
      done(std::move(results));
  }
};

long long millis_since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now()
                                                               - t)
    .count();
}

std::string seconds_text(caf::timespan d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::to_string(ms / 1000.0).substr(0, 4) + " s";
}

/// Asks the registered status actor `key` and judges its answer.
template <class Judge>
void ask_status(admin_self self, caf::atom_value key, const char* name,
                std::shared_ptr<check_gather> g, size_t i, Judge judge,
                bool missing_ok) {
  auto hdl = peer<status_client_actor>(self, key);
  if (!hdl) {
    g->set(i,
           missing_ok
             ? passed(name, "none registered (static backend)")
             : failed(name, "down",
                      std::string{"the "} + name + " actor is not running"));
    return;
  }
  auto timeout = self->state.ctx->cfg.admin.live_timeout;
  self->request(hdl, timeout, status_atom_v)
    .then(
      [g, i, judge](status_node node) {
        g->set(i, judge(node));
      },
      [g, i, name, timeout](caf::error&) {
        g->set(i,
               failed(name, "unresponsive",
                      std::string{"no status answer within "}
                        + seconds_text(timeout)));
      });
}

} // namespace

check_result check_storage(admin_self self) {
  // Two system calls on local metadata, like reading /proc for /health.
  auto& store = self->state.ctx->cfg.store;
  auto why = unwritable_reason(store.data_root);
  if (why.empty() && store.inbox_journal)
    why = unwritable_file_reason(store.data_root + "/inbox.journal");
  if (!why.empty())
    return failed("storage", "failing",
                  "the data root cannot be written: " + why
                    + "; session locks and the inbox journal need it");
  return passed("storage", "the data root is writable");
}

check_result check_startup(admin_self self) {
  if (self->state.ctx->started)
    return passed("startup", "the actor tree has started");
  return failed("startup", "not_started", "initialisation is not finished");
}

void check_live(admin_self self, std::function<void(check_result)> k) {
  auto root = self->system().registry().get(names::root);
  if (!root) {
    k(failed("live", "down", "the root supervisor is not registered"));
    return;
  }
  auto timeout = self->state.ctx->cfg.admin.live_timeout;
  auto started = clock_type::now();
  // CAF answers the system message ('sys', 'get', "info") from within the
  // receiving actor's own message loop: a real round trip through the
  // root's mailbox and a scheduler thread, without growing root's interface.
  self
    ->request(caf::actor_cast<caf::actor>(root), timeout, caf::sys_atom_v,
              caf::get_atom_v, std::string{"info"})
    .then(
      [k, started](caf::ok_atom, const std::string&,
                   const caf::strong_actor_ptr&, const std::string&) {
        k(passed("live",
                 "the root supervisor answered in "
                   + std::to_string(millis_since(started)) + " ms"));
      },
      [k, timeout](caf::error&) {
        k(failed("live", "unresponsive",
                 "the root supervisor did not answer within "
                   + seconds_text(timeout)));
      });
}

void gather_readiness(admin_self self,
                      std::function<void(std::vector<check_result>)> k) {
  auto g = std::make_shared<check_gather>();
  auto& checks = self->state.shared->checks;
  g->results.resize(4 + checks.size());
  g->missing = g->results.size();
  g->done = std::move(k);
  g->set(3, check_storage(self));
  ask_status(self, names::poller, "poller", g, 0, judge_poller, false);
  ask_status(self, names::store, "store", g, 1, judge_store, false);
  ask_status(self, names::provisioner, "container_backend", g, 2, judge_backend,
             true);
  size_t i = 4;
  auto timeout = self->state.ctx->cfg.admin.live_timeout;
  for (auto& [name, hdl] : checks) {
    self->request(hdl, timeout, ready_atom_v)
      .then(
        [g, i, name = name](bool ok, const std::string& why) {
          g->set(i, ok ? passed(name, why) : failed(name, "failing", why));
        },
        [g, i, name = name, timeout](caf::error&) {
          g->set(i,
                 failed(name, "unresponsive",
                        "no answer within " + seconds_text(timeout)));
        });
    ++i;
  }
}

void serve_live(admin_self self, const admin_exchange_ptr& ex) {
  check_live(self, [ex](check_result r) {
    auto status = r.ok ? http::status::ok : http::status::service_unavailable;
    ex->reply(status, render_probe({std::move(r)}));
  });
}

void serve_startup(admin_self self, const admin_exchange_ptr& ex) {
  auto r = check_startup(self);
  auto status = r.ok ? http::status::ok : http::status::service_unavailable;
  ex->reply(status, render_probe({std::move(r)}));
}

void serve_ready(admin_self self, const admin_exchange_ptr& ex) {
  auto startup = check_startup(self);
  gather_readiness(self, [ex, startup](std::vector<check_result> checks) {
    checks.insert(checks.begin(), startup);
    auto status = all_ok(checks) ? http::status::ok
                                 : http::status::service_unavailable;
    ex->reply(status, render_probe(checks));
  });
}

void serve_health(admin_self self, const admin_exchange_ptr& ex) {
  auto ctx = self->state.ctx;
  auto startup = check_startup(self);
  gather_readiness(
    self, [self, ex, ctx, startup](std::vector<check_result> ready) {
      check_live(self,
                 [ex, ctx, startup,
                  ready = std::move(ready)](check_result live) mutable {
                   std::vector<check_result> checks;
                   checks.push_back(startup);
                   checks.push_back(std::move(live));
                   for (auto& r : ready)
                     checks.push_back(std::move(r));
                   auto uptime = std::chrono::duration<double>(
                                   clock_type::now() - ctx->started_at)
                                   .count();
                   auto status = all_ok(checks)
                     ? http::status::ok
                     : http::status::service_unavailable;
                   ex->reply(status,
                             render_health(checks, read_process_stats(), uptime,
                                           ZAKI_VERSION));
                 });
    });
}

} // namespace zaki
