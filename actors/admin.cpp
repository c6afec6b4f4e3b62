#include "actors/admin.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <caf/all.hpp>

#include "actors/admin_endpoints.hpp"
#include "locks/lock_sweep.hpp"
#include "messages/peer.hpp"
#include "messages/status_detail.hpp"
#include "runtime/logging.hpp"

namespace zaki {

namespace http = boost::beast::http;

namespace {

using clock_type = std::chrono::steady_clock;

std::chrono::milliseconds ms(caf::timespan d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

/// How long the I/O side waits for the admin actor before it answers 503
/// itself. /health/live must fail even when no scheduler thread is free to
/// run the admin actor, so this deadline lives on the io_context.
std::chrono::milliseconds io_deadline(const settings& s, admin_endpoint e) {
  auto live = ms(s.admin.live_timeout);
  switch (e) {
    case admin_endpoint::health_live:
    case admin_endpoint::health_startup:
      return live + std::chrono::milliseconds(500);
    case admin_endpoint::health_ready:
    case admin_endpoint::health:
      return 2 * live + std::chrono::milliseconds(500);
    case admin_endpoint::users_import:
    case admin_endpoint::users_export:
      // A million users take seconds to import.
      return std::chrono::seconds(125);
    default: return ms(s.admin.action_timeout) + std::chrono::seconds(5);
  }
}

/// Builds the server's request handler. It runs on the I/O threads: it
/// rejects what needs no actor (unknown paths, wrong methods, bad ids,
/// missing tokens) and hands everything else to the admin actor.
http_handler make_handler(boost::asio::io_context& ioc, caf::actor_addr addr,
                          std::shared_ptr<admin_shared> shared, settings cfg) {
  return [&ioc, addr, shared, cfg](http_request req,
                                   std::shared_ptr<http_responder> res) {
    auto ex = std::make_shared<admin_exchange>();
    ex->route = match_admin_route(to_sv(req.method_string()),
                                  to_sv(req.target()));
    ex->res = res;
    ex->received = clock_type::now();
    if (ex->route.endpoint == admin_endpoint::broadcast)
      ex->body = std::move(req.body());
    auto& route = ex->route;
    if (route.endpoint == admin_endpoint::unknown) {
      ex->reply(http::status::not_found, not_found(to_sv(req.target())).body());
      return;
    }
    if (!route.method_allowed) {
      auto answer = method_not_allowed(route.allow);
      answer.set(http::field::cache_control, "no-store");
      if (res->send(std::move(answer)))
        metric::admin_request(405);
      return;
    }
    if (shared->access.require_token && endpoint_needs_token(route.endpoint)
        && !bearer_token_matches(to_sv(req[http::field::authorization]),
                                 shared->access.token)) {
      // No hint whether the token was missing or wrong.
      auto answer = json_error(http::status::unauthorized, "unauthorized");
      answer.set(http::field::www_authenticate, "Bearer");
      if (res->send(std::move(answer)))
        metric::admin_request(401);
      return;
    }
    if (route.bad_user_id) {
      ex->fail(http::status::bad_request,
               "the user id must be a positive decimal number");
      return;
    }
    auto hdl = caf::actor_cast<admin_actor>(addr);
    if (!hdl) {
      ex->fail(http::status::service_unavailable, "the admin actor is down");
      return;
    }
    auto timer = std::make_shared<boost::asio::steady_timer>(ioc);
    timer->expires_after(io_deadline(cfg, route.endpoint));
    timer->async_wait([ex, timer](boost::system::error_code ec) {
      if (!ec)
        ex->fail(http::status::service_unavailable,
                 "the actor system did not answer in time");
    });
    caf::anon_send(hdl, internal_atom_v, http_req_atom_v, ex);
  };
}

void serve_tree(admin_self self, const admin_exchange_ptr& ex) {
  auto root = peer<status_client_actor>(self, names::root);
  if (!root) {
    ex->fail(http::status::service_unavailable,
             "the root supervisor is not running");
    return;
  }
  self->request(root, self->state.ctx->cfg.admin.action_timeout, status_atom_v)
    .then(
      [ex](const status_node& tree) {
        ex->reply(http::status::ok, status_to_json(tree));
      },
      [ex](caf::error&) {
        ex->fail(http::status::gateway_timeout,
                 "the status walk did not finish in time");
      });
}

/// Answers for a user without a live actor: known to the store or 404.
void serve_user_from_store(admin_self self, const admin_exchange_ptr& ex) {
  auto id = ex->route.user_id;
  auto store = peer<store_actor>(self);
  if (!store) {
    ex->fail(http::status::service_unavailable, "the store is not running");
    return;
  }
  self->request(store, self->state.ctx->cfg.admin.live_timeout, get_atom_v, id)
    .then(
      [ex, id](const user_lookup& found) {
        if (!found.found) {
          ex->fail(http::status::not_found,
                   "unknown user " + std::to_string(id));
          return;
        }
        auto& rec = found.record;
        json_writer w;
        // Never the gateway token.
        w.begin_object().field("name", "user:" + std::to_string(id));
        w.field("id", uint64_t{0}).field("state", "not_running");
        w.field("user_id", id).field("container", rec.container);
        w.field("host", rec.host).field("port", uint64_t{rec.port});
        if (!rec.status.empty())
          w.field("container_status", rec.status);
        w.key("children").begin_array().end_array();
        ex->reply(http::status::ok, w.end_object().take());
      },
      [ex](caf::error&) {
        ex->fail(http::status::gateway_timeout, "the store did not answer");
      });
}

void serve_user(admin_self self, const admin_exchange_ptr& ex) {
  auto sup = peer<user_supervisor_actor>(self);
  if (!sup) {
    ex->fail(http::status::service_unavailable,
             "the user supervisor is not running");
    return;
  }
  self
    ->request(sup, self->state.ctx->cfg.admin.action_timeout, status_atom_v,
              ex->route.user_id)
    .then(
      [ex](const status_node& node) {
        ex->reply(http::status::ok, status_to_json(node));
      },
      [self, ex](caf::error& err) {
        if (err == caf::sec::request_timeout)
          ex->fail(http::status::gateway_timeout,
                   "the user actor did not answer in time");
        else
          serve_user_from_store(self, ex);
      });
}

void reply_action(const admin_exchange_ptr& ex, const char* action,
                  const char* via, bool ok, std::string note) {
  json_writer w;
  w.begin_object().field("user_id", ex->route.user_id);
  w.field("action", action).field("via", via).field("ok", ok);
  w.field("detail", note);
  ex->reply(ok ? http::status::ok : http::status::not_found,
            w.end_object().take());
}

void serve_user_action(admin_self self, const admin_exchange_ptr& ex,
                       bool restart) {
  auto id = ex->route.user_id;
  auto timeout = self->state.ctx->cfg.admin.action_timeout;
  auto action = restart ? "restart" : "stop";
  logger("admin")->info("event=admin_action action={} user={}", action, id);
  auto sup = peer<user_supervisor_actor>(self);
  auto prov = peer<provisioner_actor>(self);
  auto stop_actor = [self, ex, sup, timeout, action](const char* via,
                                                     bool container_ok) {
    if (!sup) {
      reply_action(ex, action, via, container_ok,
                   "the user supervisor is not running");
      return;
    }
    // Stopping the actor is its restart too: the supervisor starts it again
    // at once when messages are pending, else with the next message.
    self->request(sup, timeout, stop_atom_v, ex->route.user_id)
      .then(
        [ex, action, via, container_ok](bool stopped) {
          auto ok = stopped || container_ok;
          reply_action(ex, action, via, ok,
                       stopped ? "the user actor stopped; the next message "
                                 "starts it again"
                         : ok  ? "no user actor was running"
                               : "no user actor is running for this user");
        },
        [ex, action, via](caf::error&) {
          ex->fail(http::status::gateway_timeout,
                   std::string{action} + " did not finish in time (" + via
                     + ")");
        });
  };
  if (!prov) {
    stop_actor("user_supervisor", false);
    return;
  }
  auto call = [&](auto atom) {
    self->request(prov, timeout, atom, id)
      .then(
        [stop_actor, restart, ex, action](bool ok) {
          if (restart)
            reply_action(ex, action, "provisioner", ok,
                         ok ? "the container restarted"
                            : "the provisioner knows no such container");
          else
            stop_actor("provisioner", ok);
        },
        [ex, action](caf::error& err) {
          ex->fail(http::status::bad_gateway,
                   std::string{action} + " failed: " + caf::to_string(err));
        });
  };
  if (restart)
    call(restart_atom_v);
  else
    call(stop_atom_v);
}

/// Sweeps the data root on the admin's I/O thread (file system calls must
/// not run where the actors run) and answers from there.
void serve_locks_clean(admin_self self, const admin_exchange_ptr& ex) {
  auto& cfg = self->state.ctx->cfg;
  sweep_options opts;
  opts.max_age = ms(cfg.lock.max_age);
  opts.clean = true;
  // Gateways in containers run in their own pid namespace.
  opts.legacy_age_only = cfg.backend.kind == "docker";
  auto root = cfg.store.data_root;
  logger("admin")->info("event=admin_action action=locks_clean");
  boost::asio::post(self->state.io->context(), [ex, root, opts] {
    auto report = sweep_data_root(root, opts);
    json_writer w;
    w.begin_object().field("scanned", uint64_t{report.locks.size()});
    w.field("stale", uint64_t{report.stale()});
    w.field("removed", uint64_t{report.removed()});
    w.field("errors", uint64_t{report.errors()});
    if (!report.root_error.empty())
      w.field("root_error", report.root_error);
    w.key("locks").begin_array();
    for (auto& lock : report.locks) {
      w.begin_object().field("path", lock.path);
      w.field("kind", to_string(lock.kind)).field("user_id", lock.user_id);
      w.field("removed", lock.removed);
      if (!lock.error.empty())
        w.field("error", lock.error);
      w.end_object();
    }
    w.end_array();
    auto status = report.root_error.empty()
      ? http::status::ok
      : http::status::internal_server_error;
    ex->reply(status, w.end_object().take());
  });
}

void dispatch(admin_self self, const admin_exchange_ptr& ex) {
  ++self->state.requests;
  switch (ex->route.endpoint) {
    case admin_endpoint::health_live: return serve_live(self, ex);
    case admin_endpoint::health_ready: return serve_ready(self, ex);
    case admin_endpoint::health_startup: return serve_startup(self, ex);
    case admin_endpoint::health: return serve_health(self, ex);
    case admin_endpoint::metrics: return serve_metrics(self, ex);
    case admin_endpoint::tree: return serve_tree(self, ex);
    case admin_endpoint::user: return serve_user(self, ex);
    case admin_endpoint::user_restart: return serve_user_action(self, ex, true);
    case admin_endpoint::user_stop: return serve_user_action(self, ex, false);
    case admin_endpoint::locks_clean: return serve_locks_clean(self, ex);
    case admin_endpoint::users_list: return serve_users_list(self, ex);
    case admin_endpoint::user_access: return serve_user_access(self, ex);
    case admin_endpoint::user_remove: return serve_user_remove(self, ex);
    case admin_endpoint::user_transcript:
      return serve_user_transcript(self, ex);
    case admin_endpoint::users_import:
    case admin_endpoint::users_export:
      return serve_users_transfer(
        self, ex, ex->route.endpoint == admin_endpoint::users_import);
    case admin_endpoint::broadcast: return serve_broadcast(self, ex);
    default: ex->fail(http::status::not_found, "no such endpoint");
  }
}

void start_server(admin_self self) {
  auto& st = self->state;
  auto& access = st.shared->access;
  auto log = logger("admin");
  auto& cfg = st.ctx->cfg;
  http_server_options opts;
  opts.address = access.host;
  opts.port = access.port;
  opts.body_limit = cfg.admin.max_body;
  opts.header_limit = static_cast<uint32_t>(cfg.admin.max_header);
  opts.read_timeout = ms(cfg.admin.request_timeout);
  opts.write_timeout = ms(cfg.admin.request_timeout);
  opts.max_connections = cfg.admin.max_connections;
  // Kubelet probes open a new connection each time: a full server must make
  // room for them rather than refuse them, or clients holding idle or
  // slow-header sockets would get a healthy router restarted.
  opts.evict_idle_at_limit = true;
  opts.server_name = "zaki-router";
  st.io = std::make_unique<io_runtime>(1);
  st.server = std::make_unique<http_server>(
    st.io->context(),
    make_handler(st.io->context(), self->address(), st.shared, cfg), opts);
  try {
    st.port = st.server->start();
    log->info("event=admin_listening address={}:{} token_required={}",
              access.host, st.port, access.require_token);
  } catch (const std::exception& e) {
    st.listen_error = e.what();
    st.server.reset();
    log->critical("event=admin_listen_failed address={} error={} "
                  "action=shutdown",
                  log_value(cfg.admin.address), log_value(st.listen_error));
    // Without its admin endpoint the router cannot be probed: stop it.
    int expected = 0;
    st.ctx->exit_code.compare_exchange_strong(expected, 2);
    if (auto root = peer<root_actor>(self))
      self->send(root, shutdown_atom_v);
  }
}

} // namespace

admin_state::~admin_state() {
  if (server)
    server->stop();
}

admin_actor::behavior_type admin(admin_self self, context_ptr ctx,
                                 std::shared_ptr<admin_shared> shared) {
  self->state.ctx = ctx;
  self->state.shared = std::move(shared);
  if (!self->state.shared->access.problem.empty()) {
    self->state.listen_error = self->state.shared->access.problem;
    logger("admin")->critical("event=admin_refused reason={}",
                              log_value(self->state.listen_error));
  } else {
    start_server(self);
  }
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& checks = self->state.shared->checks;
    for (auto i = checks.begin(); i != checks.end();)
      if (i->second.address() == msg.source)
        i = checks.erase(i);
      else
        ++i;
  });
  // Checks registered with a previous incarnation are watched again.
  for (auto& kvp : self->state.shared->checks)
    self->monitor(kvp.second);
  return {
    [self](register_atom, const std::string& name,
           const readiness_check_actor& hdl) {
      logger("admin")->info("event=readiness_check_registered name={}",
                            log_value(name));
      self->state.shared->checks[name] = hdl;
      self->monitor(hdl);
    },
    [self](get_atom, port_atom) {
      return self->state.port;
    },
    [self](internal_atom, http_req_atom, const admin_exchange_ptr& ex) {
      dispatch(self, ex);
    },
    [self](status_atom) {
      auto& st = self->state;
      status_node node;
      node.name = "admin";
      node.id = self->id();
      node.state = st.server ? "running" : "failed";
      node.mailbox_size = self->mailbox().size();
      status_detail w;
      w.begin_object();
      if (st.server) {
        w.field("address",
                st.shared->access.host + ":" + std::to_string(st.port));
        w.field("connections", uint64_t{st.server->connections()});
      } else {
        w.field("last_error", st.listen_error);
      }
      w.field("requests", st.requests);
      w.field("token_required", st.shared->access.require_token);
      w.field("readiness_checks", uint64_t{st.shared->checks.size()});
      node.detail = w.end_object().take();
      return node;
    },
  };
}

child_spec admin_child(const context_ptr& ctx, admin_options opts) {
  auto shared = std::make_shared<admin_shared>();
  shared->access = opts.access ? *opts.access : check_admin_access(ctx->cfg);
  return {"admin", names::admin, [ctx, shared](root_self self) {
            return caf::actor_cast<caf::actor>(
              self->spawn<caf::linked>(admin, ctx, shared));
          }};
}

} // namespace zaki
