#include "actors/health_supervisor.hpp"

#include <caf/all.hpp>

#include "actors/supervision.hpp"
#include "http/client.hpp"
#include "messages/errors.hpp"
#include "messages/peer.hpp"
#include "messages/status_detail.hpp"
#include "runtime/actor_io.hpp"
#include "runtime/logging.hpp"

namespace zaki {

namespace {

using self_ptr = health_actor::stateful_pointer<health_state>;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

milliseconds ms(caf::timespan x) {
  return duration_cast<milliseconds>(x);
}

/// Tells the user supervisor (and so the user's actor) and the
/// provisioner about a state change.
void report(self_ptr self, watched_container& w, container_phase phase) {
  if (w.phase == phase)
    return;
  w.phase = phase;
  // The messages carry the phase's name: the user actors take it as text.
  std::string name = to_string(phase);
  logger("health")->info("event=container_state user={} state={} port={}",
                         w.user_id, name, w.port);
  auto& reg = self->system().registry();
  if (auto sup = reg.get<user_supervisor_actor>(names::user_supervisor))
    self->send(sup, container_atom_v, w.user_id, name);
  if (auto prov = reg.get<provisioner_impl_actor>(names::provisioner))
    self->send(prov, container_atom_v, w.user_id, name);
}

void arm(self_ptr self, watched_container& w, caf::timespan delay) {
  self->delayed_send(self, delay, internal_atom_v, probe_atom_v, w.user_id,
                     w.generation);
}

void send_probe(self_ptr self, watched_container& w, probe_kind kind,
                const std::string& path) {
  auto& st = self->state;
  auto seq = ++st.seq;
  st.pending[seq] = pending_probe{w.user_id, w.generation, kind};
  ++st.probes;
  http_request_spec req;
  req.method = boost::beast::http::verb::get;
  req.target = path;
  req.timeout = ms(st.ctx->cfg.health.timeout);
  w.last_probe_path = path;
  w.client->async_request(std::move(req), reply_to<health_actor>(self, seq));
}

void fail_waiter(watched_container& w, errc code, const std::string& why) {
  if (w.startup_waiter) {
    w.startup_waiter->deliver(make_error(code, why));
    w.startup_waiter.reset();
  }
}

/// A liveness failure, a failed startup, an exit or an OOM kill: restart
/// after the backoff, or give up when the restart intensity is exceeded.
void on_failure(self_ptr self, watched_container& w, const std::string& why) {
  auto& st = self->state;
  ++w.generation; // drops probes and timers of the failed run
  w.last_failure = why;
  fail_waiter(w, errc::container_down, why);
  auto d = w.governor.on_failure(probe_clock::now());
  auto log = logger("health");
  if (!d.restart) {
    log->error("event=container_failed user={} reason={} restarts_in_window={} "
               "message=\"restart intensity exceeded; a later message or an "
               "admin restart tries again\"",
               w.user_id, log_value(why), d.recent);
    report(self, w, container_phase::failed);
    return;
  }
  ++w.restarts;
  ++st.restarts;
  log->warn("event=container_restart_scheduled user={} reason={} "
            "delay_ms={} restarts_in_window={}",
            w.user_id, log_value(why), d.delay.count(), d.recent);
  report(self, w, container_phase::restarting);
  self->delayed_send(self, d.delay, internal_atom_v, restart_atom_v, w.user_id,
                     w.generation);
}

void on_startup_result(self_ptr self, watched_container& w,
                       const http_result& res) {
  auto& cfg = self->state.ctx->cfg.health;
  if (res.status == 404 && w.startup_path == "/startupz") {
    // Gateways without a startup endpoint: /healthz answers the question.
    w.startup_path = "/healthz";
    send_probe(self, w, probe_kind::startup, w.startup_path);
    return;
  }
  if (res.ok()) {
    w.liveness.reset(true);
    w.readiness.reset(true);
    w.governor.on_healthy(probe_clock::now());
    auto took = duration_cast<milliseconds>(probe_clock::now() - w.started);
    logger("health")->info("event=startup_passed user={} port={} took_ms={}",
                           w.user_id, w.port, took.count());
    report(self, w, container_phase::running);
    if (w.startup_waiter) {
      w.startup_waiter->deliver(true);
      w.startup_waiter.reset();
    }
    arm(self, w, cfg.period);
    return;
  }
  if (startup_expired(w.started, ms(cfg.startup_grace), probe_clock::now())) {
    auto why = "startup probe " + w.startup_path + " not passed within "
      + std::to_string(ms(cfg.startup_grace).count()) + " ms";
    fail_waiter(w, errc::container_starting, why);
    on_failure(self, w, why);
    return;
  }
  arm(self, w, cfg.startup_period);
}

void on_probe_result(self_ptr self, pending_probe p, http_result& res) {
  auto& st = self->state;
  auto i = st.watched.find(p.user_id);
  if (i == st.watched.end() || i->second.generation != p.generation)
    return;
  auto& w = i->second;
  w.last_probe_status = res.status;
  w.last_probe_ms = res.latency_us / 1000;
  w.last_probe_error = res.status == 0 ? res.error : std::string{};
  w.last_probe_at = std::chrono::system_clock::now();
  if (p.kind == probe_kind::startup)
    return on_startup_result(self, w, res);
  auto log = logger("health");
  if (p.kind == probe_kind::liveness) {
    auto verdict = w.liveness.record(res.ok());
    if (res.ok()) {
      w.governor.on_healthy(probe_clock::now());
    } else {
      log->warn("event=liveness_failed user={} status={} error={} "
                "consecutive={}",
                w.user_id, res.status, log_value(res.error),
                w.liveness.consecutive_failures());
      w.governor.on_unhealthy();
    }
    if (verdict == probe_verdict::became_unhealthy)
      return on_failure(
        self, w,
        "liveness /healthz failed "
          + std::to_string(w.liveness.consecutive_failures()) + " times ("
          + (res.status ? std::to_string(res.status) : res.error) + ")");
    if (!res.ok()) {
      arm(self, w, st.ctx->cfg.health.period);
      return;
    }
    send_probe(self, w, probe_kind::readiness, "/readyz");
    return;
  }
  // Readiness: a gateway without /readyz counts as ready.
  bool ready = res.ok() || res.status == 404;
  auto verdict = w.readiness.record(ready);
  if (verdict == probe_verdict::became_unhealthy) {
    log->warn("event=not_ready user={} status={}", w.user_id, res.status);
    report(self, w, container_phase::not_ready);
  } else if (verdict == probe_verdict::became_healthy) {
    report(self, w, container_phase::running);
  }
  arm(self, w, st.ctx->cfg.health.period);
}

/// The probes, restarts and each watched container, for the admin tree.
status_node health_status(self_ptr self) {
  auto& st = self->state;
  status_node node;
  node.name = "health_supervisor";
  node.id = self->id();
  node.state = "running";
  node.mailbox_size = self->mailbox().size();
  node.restarts = 0;
  status_detail w;
  w.begin_object().field("probes", st.probes).field("restarts", st.restarts);
  w.key("containers").begin_array();
  auto now = std::chrono::system_clock::now();
  for (auto& [id, c] : st.watched) {
    w.begin_object().field("user", id).field("state", to_string(c.phase));
    w.field("port", int{c.port}).field("restarts", uint64_t{c.restarts});
    w.field("backoff_step", uint64_t{c.governor.backoff_step()});
    w.field("liveness_failures", uint64_t{c.liveness.consecutive_failures()});
    w.field("ready", c.readiness.healthy());
    if (!c.last_failure.empty())
      w.field("last_failure", c.last_failure);
    if (!c.last_probe_path.empty()) {
      w.key("last_probe").begin_object();
      w.field("path", c.last_probe_path).field("status", c.last_probe_status);
      w.field("latency_ms", c.last_probe_ms);
      w.field(
        "ago_ms",
        int64_t{duration_cast<milliseconds>(now - c.last_probe_at).count()});
      if (!c.last_probe_error.empty())
        w.field("error", c.last_probe_error);
      w.end_object();
    }
    w.end_object();
  }
  w.end_array();
  node.detail = w.end_object().take();
  return node;
}

/// Watches (or watches again) a started container: a fresh probe client
/// when its address changed, then the startup probe; the promise is kept
/// until the container is ready or fails.
caf::result<bool> watch_container(self_ptr self, int64_t user,
                                  const std::string& host, uint16_t port,
                                  bool fresh) {
  auto& st = self->state;
  auto& cfg = st.ctx->cfg.health;
  auto [i, added] = st.watched.try_emplace(user);
  auto& w = i->second;
  if (added) {
    w.user_id = user;
    w.governor = restart_governor{health_restart_policy(st.ctx->cfg)};
    w.phase = container_phase::none; // the first report goes out
  }
  w.liveness = probe_tracker{static_cast<uint32_t>(cfg.liveness_failures)};
  w.readiness = probe_tracker{static_cast<uint32_t>(cfg.readiness_failures)};
  if (fresh)
    w.governor.reset();
  if (!w.client || w.host != host || w.port != port) {
    if (w.client)
      w.client->shutdown();
    origin where;
    where.host = host;
    where.port = port;
    http_client_options opts;
    opts.max_connections = 1;
    opts.max_body = 64 << 10;
    w.client = http_client::make(st.ctx->io->context(), where, opts);
  }
  w.host = host;
  w.port = port;
  ++w.generation;
  w.started = probe_clock::now();
  w.startup_path = "/startupz";
  fail_waiter(w, errc::container_starting, "superseded by a new start");
  auto rp = self->make_response_promise<bool>();
  w.startup_waiter = rp;
  report(self, w, container_phase::starting);
  send_probe(self, w, probe_kind::startup, w.startup_path);
  return rp;
}

} // namespace

health_state::~health_state() {
  for (auto& [id, w] : watched)
    if (w.client)
      w.client->shutdown();
}

health_actor::behavior_type
health_supervisor(health_actor::stateful_pointer<health_state> self,
                  context_ptr ctx) {
  self->state.ctx = ctx;
  return {
    [self](watch_atom, int64_t user, const std::string& host, uint16_t port,
           bool fresh) -> caf::result<bool> {
      return watch_container(self, user, host, port, fresh);
    },
    [self](unwatch_atom, int64_t user) {
      auto& st = self->state;
      auto i = st.watched.find(user);
      if (i == st.watched.end())
        return;
      fail_waiter(i->second, errc::container_down, "container stopped");
      report(self, i->second, container_phase::stopped);
      if (i->second.client)
        i->second.client->shutdown();
      st.watched.erase(i);
    },
    [self](exited_atom, int64_t user, int32_t code, bool oom,
           const std::string& detail) {
      auto& st = self->state;
      auto i = st.watched.find(user);
      if (i == st.watched.end())
        return;
      auto& w = i->second;
      if (w.phase != container_phase::starting
          && w.phase != container_phase::running
          && w.phase != container_phase::not_ready)
        return;
      logger("health")->warn("event=container_exited user={} code={} oom={} "
                             "detail={}",
                             user, code, oom, log_value(detail));
      on_failure(self, w,
                 oom ? "OOM killed (memory quota)" : "exited: " + detail);
    },
    [self](internal_atom, probe_atom, int64_t user, uint64_t gen) {
      auto& st = self->state;
      auto i = st.watched.find(user);
      if (i == st.watched.end() || i->second.generation != gen)
        return;
      auto& w = i->second;
      if (w.phase == container_phase::starting)
        send_probe(self, w, probe_kind::startup, w.startup_path);
      else if (w.phase == container_phase::running
               || w.phase == container_phase::not_ready)
        send_probe(self, w, probe_kind::liveness, "/healthz");
    },
    [self](internal_atom, http_done_atom, uint64_t seq, http_result& res) {
      auto& st = self->state;
      auto i = st.pending.find(seq);
      if (i == st.pending.end())
        return;
      auto p = std::move(i->second);
      st.pending.erase(i);
      on_probe_result(self, p, res);
    },
    [self](internal_atom, restart_atom, int64_t user, uint64_t gen) {
      auto& st = self->state;
      auto i = st.watched.find(user);
      if (i == st.watched.end() || i->second.generation != gen
          || i->second.phase != container_phase::restarting)
        return;
      auto prov = peer<provisioner_impl_actor>(self);
      if (!prov) {
        on_failure(self, i->second, "no provisioner to restart through");
        return;
      }
      auto& cfg = st.ctx->cfg;
      auto timeout = cfg.health.startup_grace + cfg.containers.stop_timeout
        + cfg.containers.docker_timeout;
      self->request(prov, timeout, recover_atom_v, user)
        .then([](bool) { /* the watch that follows reports the state */ },
              [self, user, gen](caf::error& err) {
                auto& st = self->state;
                auto i = st.watched.find(user);
                // A watch already started a newer generation: that one
                // judges the restart.
                if (i == st.watched.end() || i->second.generation != gen)
                  return;
                on_failure(self, i->second,
                           "restart failed: " + self->system().render(err));
              });
    },
    [self](status_atom) {
      return health_status(self);
    },
  };
}

} // namespace zaki
