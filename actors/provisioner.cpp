#include "actors/provisioner.hpp"

#include <filesystem>

#include <caf/all.hpp>

#include "actors/docker_backend.hpp"
#include "actors/health_supervisor.hpp"
#include "actors/off_thread.hpp"
#include "actors/process_backend.hpp"
#include "actors/status_collector.hpp"
#include "containers/ports.hpp"
#include "messages/errors.hpp"
#include "messages/peer.hpp"
#include "messages/status_detail.hpp"
#include "runtime/logging.hpp"
#include "storage/database.hpp"
#include "storage/user_paths.hpp"
#include "storage/users_file.hpp"

namespace zaki {

namespace {

using self_ptr = provisioner_impl_actor::stateful_pointer<provisioner_state>;
using std::chrono::steady_clock;

void on_state(self_ptr self, int64_t user, container_phase reported);
void watch_startup(self_ptr self, int64_t user, bool fresh,
                   std::function<void(bool)> then);

size_t active_count(self_ptr self) {
  size_t n = 0;
  for (auto& [id, e] : self->state.users)
    if (holds_resources(e.state))
      ++n;
  return n;
}

void fail_waiters(provisioned& e, const caf::error& err) {
  auto waiters = std::move(e.waiters);
  for (auto& rp : waiters)
    rp.deliver(err);
}

void deliver_waiters(provisioned& e) {
  auto waiters = std::move(e.waiters);
  for (auto& rp : waiters)
    rp.deliver(e.record);
}

container_spec spec_of(const context_ptr& ctx, const user_record& rec) {
  container_spec spec;
  spec.user_id = rec.user_id;
  spec.name = rec.container;
  spec.port = rec.port;
  spec.token = rec.token;
  spec.data_dir = user_data_dir(ctx->cfg.store.data_root, rec.user_id);
  return spec;
}

std::string now_iso8601() {
  auto t
    = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm parts{};
  gmtime_r(&t, &parts);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buf;
}

/// Fills in a new user's record: port, token, data dir, container name.
caf::error prepare_new(self_ptr self, int64_t user, provisioned& e) {
  auto& st = self->state;
  auto& c = st.ctx->cfg.containers;
  auto port = st.ports.allocate();
  if (port == 0)
    return make_error(errc::capacity_exhausted,
                      "no free port in " + std::to_string(c.port_base) + ".."
                        + std::to_string(c.port_max));
  auto token = make_gateway_token();
  if (token.empty()) {
    st.ports.release(port);
    return make_error(errc::internal, "cannot generate a gateway token");
  }
  std::string err;
  auto dir = open_user_dir(st.ctx->cfg.store.data_root, user, true, err);
  if (!dir) {
    st.ports.release(port);
    return make_error(errc::container_down,
                      "cannot create the data dir: " + err);
  }
  e.record.user_id = user;
  e.record.host = c.host;
  e.record.port = port;
  e.record.token = std::move(token);
  e.record.container = container_name(user);
  e.record.data_dir = user_data_dir(st.ctx->cfg.store.data_root, user);
  e.record.created_at = now_iso8601();
  return {};
}

void start_next_queued(self_ptr self);

/// The end of a start (success or failure): frees the slot.
void launch_done(self_ptr self) {
  self->state.launches.finished();
  start_next_queued(self);
}

void launch_failed(self_ptr self, int64_t user, const caf::error& err) {
  auto& st = self->state;
  auto i = st.users.find(user);
  if (i != st.users.end()) {
    auto& e = i->second;
    e.last_error = self->system().render(err);
    logger("provisioner")
      ->error("event=start_failed user={} error={}", user,
              log_value(e.last_error, 300));
    // A failed backend call leaves nothing running; a failed startup
    // probe is the health supervisor's to retry (it reported restarting).
    if (e.state == container_phase::starting
        || e.state == container_phase::queued) {
      e.state = container_phase::stopped;
      fail_waiters(e, err);
    }
  }
  launch_done(self);
}

/// Creates (new user) or starts (known user) the container, then waits
/// for the startup probe.
void launch(self_ptr self, int64_t user, bool fresh) {
  auto& st = self->state;
  auto& e = st.users[user];
  if (e.record.port == 0) {
    if (auto err = prepare_new(self, user, e)) {
      e.state = container_phase::stopped;
      fail_waiters(e, err);
      e.last_error = self->system().render(err);
      logger("provisioner")
        ->error("event=provision_failed user={} error={}", user,
                log_value(e.last_error));
      return launch_done(self);
    }
    logger("provisioner")
      ->info("event=provisioning user={} port={} "
             "container={}",
             user, e.record.port, e.record.container);
  }
  e.state = container_phase::starting;
  e.container_removed = false;
  ++e.starts;
  auto spec = spec_of(st.ctx, e.record);
  self
    ->request(st.backend, st.ctx->cfg.containers.docker_timeout, start_atom_v,
              spec)
    .then(
      [self, user, fresh](container_info& info) {
        auto i = self->state.users.find(user);
        if (i == self->state.users.end())
          return launch_done(self);
        i->second.info = std::move(info);
        watch_startup(self, user, fresh, [self](bool) {
          launch_done(self);
        });
      },
      [self, user](caf::error& err) {
        launch_failed(self, user, err);
      });
}

void start_next_queued(self_ptr self) {
  auto& st = self->state;
  auto wanted = [&st](int64_t user) {
    auto i = st.users.find(user);
    return i != st.users.end() && i->second.state == container_phase::queued;
  };
  while (auto user = st.launches.next(wanted))
    launch(self, *user, true);
}

void begin_start(self_ptr self, int64_t user, bool fresh) {
  auto& st = self->state;
  auto& e = st.users[user];
  auto& c = st.ctx->cfg.containers;
  if (active_count(self) >= c.max_containers) {
    ++st.capacity_refusals;
    auto err = make_error(errc::capacity_exhausted,
                          std::to_string(c.max_containers)
                            + " containers are running (containers."
                              "max-containers)");
    logger("provisioner")
      ->warn("event=capacity_exhausted user={} max={}", user, c.max_containers);
    fail_waiters(e, err);
    return;
  }
  if (st.launches.admit(user) == provisioning_queue::admission::queued) {
    e.state = container_phase::queued;
    return;
  }
  launch(self, user, fresh);
}

void watch_startup(self_ptr self, int64_t user, bool fresh,
                   std::function<void(bool)> then) {
  auto& st = self->state;
  auto& e = st.users[user];
  auto health = peer<health_actor>(self);
  if (!health) {
    // Without a health supervisor (a partial tree), trust the backend.
    on_state(self, user, container_phase::running);
    return then(true);
  }
  auto timeout = st.ctx->cfg.health.startup_grace + std::chrono::seconds(10);
  self
    ->request(health, timeout, watch_atom_v, user, e.record.host, e.record.port,
              fresh)
    .then(
      [then](bool) {
        then(true);
      },
      [self, user, then](caf::error& err) {
        auto i = self->state.users.find(user);
        if (i != self->state.users.end())
          i->second.last_error = self->system().render(err);
        then(false);
      });
}

void persist_then_deliver(self_ptr self, int64_t user) {
  auto& st = self->state;
  auto& e = st.users[user];
  if (e.persisted) {
    deliver_waiters(e);
    return;
  }
  auto store = peer<store_actor>(self);
  if (!store) {
    deliver_waiters(e);
    return;
  }
  e.record.status = "running";
  self->request(store, std::chrono::seconds(10), put_atom_v, e.record)
    .then(
      [self, user](bool ok) {
        auto& e = self->state.users[user];
        e.persisted = ok;
        if (!ok)
          logger("provisioner")
            ->error("event=users_json_not_written user={}", user);
        else
          ++self->state.provisioned_total;
        if (e.state == container_phase::running)
          deliver_waiters(e);
      },
      [self, user](caf::error& err) {
        auto& e = self->state.users[user];
        logger("provisioner")
          ->error("event=users_json_not_written user={} "
                  "error={}",
                  user, log_value(self->system().render(err)));
        if (e.state == container_phase::running)
          deliver_waiters(e);
      });
}

void on_state(self_ptr self, int64_t user, container_phase reported) {
  auto& st = self->state;
  auto i = st.users.find(user);
  if (i == st.users.end())
    return;
  auto& e = i->second;
  if (stopped_by_us(e.state))
    return; // our own stop: the health supervisor just lets go
  switch (reported) {
    case container_phase::running:
      if (e.state != container_phase::running) {
        e.state = container_phase::running;
        e.last_error.clear();
        persist_then_deliver(self, user);
      }
      break;
    case container_phase::failed:
      e.state = container_phase::failed;
      e.failed_at = steady_clock::now();
      fail_waiters(e,
                   make_error(errc::container_failed,
                              "restarted too often; " + e.last_error));
      break;
    case container_phase::starting:
    case container_phase::restarting:
    case container_phase::not_ready: e.state = reported; break;
    default: break;
  }
}

/// Holds `rp` until the user's container is ready; false if too many wait.
bool hold(self_ptr self, provisioned& e,
          caf::typed_response_promise<user_record>& rp) {
  if (e.waiters.size() >= self->state.ctx->cfg.containers.max_waiters)
    return false;
  e.waiters.push_back(rp);
  return true;
}

void stop_container(self_ptr self, int64_t user,
                    std::function<void(bool)> then);

/// Thaws a paused container for a message that waits: the gateway never
/// stopped, so the startup probe passes at once (the time it took is
/// logged as resume_ms). If the backend cannot thaw it, it is stopped and
/// started again instead.
void resume_container(self_ptr self, int64_t user) {
  auto& st = self->state;
  auto& e = st.users[user];
  e.state = container_phase::starting;
  auto t0 = steady_clock::now();
  self
    ->request(st.backend, st.ctx->cfg.containers.docker_timeout,
              caf::idle_atom_v, user, false)
    .then(
      [self, user, t0](bool) {
        watch_startup(self, user, false, [user, t0](bool ok) {
          auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
            steady_clock::now() - t0);
          logger("provisioner")
            ->info("event=resume user={} ok={} resume_ms={}", user, ok,
                   took.count());
        });
      },
      [self, user](caf::error& err) {
        auto& e = self->state.users[user];
        e.last_error = self->system().render(err);
        logger("provisioner")
          ->warn("event=resume_failed user={} error={} action=restart", user,
                 log_value(e.last_error, 300));
        // stop_container starts it again for the waiting messages.
        stop_container(self, user, [](bool) {});
      });
}

caf::result<user_record> ensure(self_ptr self, int64_t user) {
  auto& st = self->state;
  auto now = steady_clock::now();
  auto& e = st.users[user];
  e.last_ensure = now;
  if (e.state == container_phase::running)
    return e.record;
  if (e.state == container_phase::failed
      && now - e.failed_at < st.ctx->cfg.containers.failed_retry_after)
    return make_error(errc::container_failed,
                      "restarted too often; " + e.last_error);
  auto rp = self->make_response_promise<user_record>();
  if (!hold(self, e, rp))
    return make_error(errc::container_starting,
                      "too many requests wait for this container");
  if (is_down(e.state)) {
    if (e.state == container_phase::failed)
      logger("provisioner")->info("event=retry_failed user={}", user);
    begin_start(self, user, true);
  } else if (e.state == container_phase::paused) {
    resume_container(self, user);
  }
  return rp;
}

/// Stops a container: the health supervisor lets go first, so the exit
/// is not taken for a crash.
void stop_container(self_ptr self, int64_t user,
                    std::function<void(bool)> then) {
  auto& st = self->state;
  auto& e = st.users[user];
  e.state = container_phase::stopping;
  if (auto health = peer<health_actor>(self))
    self->send(health, unwatch_atom_v, user);
  self
    ->request(st.backend,
              st.ctx->cfg.containers.stop_timeout
                + st.ctx->cfg.containers.docker_timeout,
              stop_atom_v, user)
    .then(
      [self, user, then](bool ok) {
        auto& e = self->state.users[user];
        e.state = container_phase::stopped;
        // A message that arrived while the container was stopping (an idle
        // stop racing the user's next message) starts it again instead of
        // failing.
        if (!e.waiters.empty())
          begin_start(self, user, true);
        then(ok);
      },
      [self, user, then](caf::error& err) {
        auto& e = self->state.users[user];
        e.state = container_phase::stopped;
        e.last_error = self->system().render(err);
        fail_waiters(e, err);
        then(false);
      });
}

/// Restarts a container through the backend (admin or health supervisor).
caf::result<bool> restart(self_ptr self, int64_t user, bool fresh) {
  auto& st = self->state;
  auto i = st.users.find(user);
  if (i == st.users.end() || i->second.record.port == 0)
    return make_error(errc::not_provisioned, "no container for this user");
  auto& e = i->second;
  auto rp = self->make_response_promise<bool>();
  if (is_down(e.state)) {
    // Nothing runs: an admin restart starts it (and forgets the failures).
    e.last_ensure = steady_clock::now();
    begin_start(self, user, true);
    rp.deliver(true);
    return rp;
  }
  e.state = container_phase::restarting;
  auto spec = spec_of(st.ctx, e.record);
  self
    ->request(st.backend,
              st.ctx->cfg.containers.stop_timeout
                + st.ctx->cfg.containers.docker_timeout,
              restart_atom_v, spec)
    .then(
      [self, user, fresh, rp](container_info& info) mutable {
        self->state.users[user].info = std::move(info);
        watch_startup(self, user, fresh, [rp](bool ok) mutable {
          if (ok)
            rp.deliver(true);
          else
            rp.deliver(make_error(errc::container_starting,
                                  "startup probe failed after restart"));
        });
      },
      [self, user, rp](caf::error& err) mutable {
        self->state.users[user].last_error = self->system().render(err);
        rp.deliver(err);
      });
  return rp;
}

/// Adopts containers that outlived a router restart; removes orphans.
void adopt(self_ptr self) {
  auto& st = self->state;
  self->request(st.backend, st.ctx->cfg.containers.docker_timeout, list_atom_v)
    .then(
      [self](std::vector<container_info>& found) {
        auto& st = self->state;
        auto log = logger("provisioner");
        for (auto& info : found) {
          auto i = st.users.find(info.user_id);
          bool known = i != st.users.end() && i->second.record.port != 0
            && i->second.record.port == info.port;
          if (!known) {
            log->warn("event=orphan_removed user={} container={} port={}",
                      info.user_id, info.name, info.port);
            self
              ->request(st.backend, st.ctx->cfg.containers.docker_timeout,
                        remove_atom_v, info.user_id)
              .then([](bool) {}, [](caf::error&) {});
            continue;
          }
          if (info.state != "running")
            continue;
          auto& e = i->second;
          log->info("event=adopted user={} container={} port={}", info.user_id,
                    info.name, info.port);
          e.info = info;
          e.state = container_phase::starting;
          e.last_ensure = steady_clock::now();
          watch_startup(self, info.user_id, true, [](bool) {});
        }
      },
      [self](caf::error& err) {
        logger("provisioner")
          ->error("event=adopt_failed error={}",
                  log_value(self->system().render(err)));
      });
}

/// Removes the data dir of `user` (blocking: runs off the actors' threads).
bool remove_user_data(const std::string& root, int64_t user) {
  auto dir = user_data_dir(root, user);
  if (!check_path_in_root(root, dir).empty())
    return false;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return !ec;
}

/// The end of a removal: the store forgets the user, then `rp` answers.
void forget_user(self_ptr self, int64_t user,
                 caf::typed_response_promise<bool>& rp) {
  logger("provisioner")->info("event=user_removed user={}", user);
  auto store = peer<store_actor>(self);
  if (!store) {
    rp.deliver(true);
    return;
  }
  self->request(store, std::chrono::seconds(10), remove_atom_v, user)
    .then(
      [rp](bool) mutable {
        rp.deliver(true);
      },
      [rp](caf::error&) mutable {
        rp.deliver(true);
      });
}

status_node status_of(self_ptr self) {
  auto& st = self->state;
  status_node node;
  node.name = "provisioner";
  node.id = self->id();
  node.state = "running";
  node.mailbox_size = self->mailbox().size();
  status_detail w;
  w.begin_object().field("backend", st.ctx->cfg.backend.kind);
  w.field("active", uint64_t{active_count(self)});
  w.field("max_containers", st.ctx->cfg.containers.max_containers);
  w.field("in_flight", uint64_t{st.launches.in_flight()});
  w.field("queued", uint64_t{st.launches.queued()});
  w.field("provisioned", st.provisioned_total);
  w.field("capacity_refusals", st.capacity_refusals);
  w.field("idle_stops", st.idle_stops);
  w.field("idle_action", st.ctx->cfg.containers.idle_action);
  w.field("idle_pauses", st.idle_pauses);
  w.field("idle_removals", st.idle_removals);
  w.key("containers").begin_array();
  auto now = steady_clock::now();
  for (auto& [id, e] : st.users) {
    if (e.record.port == 0)
      continue;
    w.begin_object().field("user", id).field("state", to_string(e.state));
    w.field("container", e.record.container).field("port", int{e.record.port});
    w.field("starts", uint64_t{e.starts});
    w.field("waiting", uint64_t{e.waiters.size()});
    if (e.last_ensure.time_since_epoch().count() != 0)
      w.field("idle_s",
              int64_t{std::chrono::duration_cast<std::chrono::seconds>(
                        now - e.last_ensure)
                        .count()});
    w.field("quota", e.info.quota);
    w.field("quota_not_applied", e.info.not_applied);
    if (!e.last_error.empty())
      w.field("last_error", e.last_error);
    w.end_object();
  }
  w.end_array();
  node.detail = w.end_object().take();
  return node;
}

/// Static backend: containers run elsewhere; users.json decides.
caf::result<user_record> lookup_static(self_ptr self, int64_t user) {
  auto store = peer<store_actor>(self);
  if (!store)
    return make_error(errc::internal, "store unavailable");
  // No timeout: the local store always answers (or its exit breaks the
  // promise), and a request timeout is a CAF clock timer per message.
  // The user actor keeps its own lookup deadline.
  auto rp = self->make_response_promise<user_record>();
  self->request(store, caf::infinite, get_atom_v, user)
    .then(
      [rp](user_lookup& found) mutable {
        if (found.found)
          rp.deliver(std::move(found.record));
        else
          rp.deliver(make_error(errc::not_provisioned, "not in users.json"));
      },
      [rp](caf::error& err) mutable {
        rp.deliver(err);
      });
  return rp;
}

/// Removes a user: the container, their data and their users.json entry.
caf::result<bool> remove_user(self_ptr self, int64_t user) {
  auto& st = self->state;
  if (!st.backend)
    return make_error(errc::not_provisioned, "static backend");
  auto rp = self->make_response_promise<bool>();
  if (auto health = peer<health_actor>(self))
    self->send(health, unwatch_atom_v, user);
  auto& e = st.users[user];
  e.state = container_phase::removing;
  fail_waiters(e, make_error(errc::not_provisioned, "user removed"));
  self
    ->request(st.backend,
              st.ctx->cfg.containers.stop_timeout
                + st.ctx->cfg.containers.docker_timeout,
              remove_atom_v, user)
    .then(
      [self, user, rp](bool) mutable {
        auto& st = self->state;
        if (auto i = st.users.find(user); i != st.users.end()) {
          st.ports.release(i->second.record.port);
          st.users.erase(i);
        }
        // The data dir goes too (validated path below the data root),
        // on a thread of its own: a large dir takes a while.
        auto root = st.ctx->cfg.store.data_root;
        off_thread(
          self,
          [root, user] {
            return remove_user_data(root, user);
          },
          [self, user, rp](bool) mutable {
            forget_user(self, user, rp);
          });
      },
      [rp](caf::error& err) mutable {
        rp.deliver(err);
      });
  return rp;
}

/// Freezes an idle container (`containers.idle-action=pause`): the health
/// supervisor lets go first (a frozen gateway fails every probe). If the
/// backend cannot pause it, it is stopped instead.
void pause_container(self_ptr self, int64_t user) {
  auto& st = self->state;
  auto& e = st.users[user];
  e.state = container_phase::paused;
  if (auto health = peer<health_actor>(self))
    self->send(health, unwatch_atom_v, user);
  self
    ->request(st.backend, st.ctx->cfg.containers.docker_timeout,
              caf::idle_atom_v, user, true)
    .then(
      [self, user](bool) {
        ++self->state.idle_pauses;
        // The user's actor hears "stopped" from the health supervisor's
        // letting go; tell it what really happened.
        if (auto sup = peer<user_supervisor_actor>(self))
          self->send(sup, container_atom_v, user, std::string{"paused"});
        auto& e = self->state.users[user];
        // A message that came while the pause was under way.
        if (!e.waiters.empty() && e.state == container_phase::paused)
          resume_container(self, user);
      },
      [self, user](caf::error& err) {
        auto& e = self->state.users[user];
        e.last_error = self->system().render(err);
        logger("provisioner")
          ->warn("event=pause_failed user={} error={} action=stop", user,
                 log_value(e.last_error, 300));
        stop_container(self, user, [](bool) {});
      });
}

/// Removes the container of a user without a message for
/// `containers.remove-after` days (their data, record and port stay: the
/// next message creates the container again).
void remove_container(self_ptr self, int64_t user) {
  auto& st = self->state;
  auto& e = st.users[user];
  e.state = container_phase::removing;
  if (auto health = peer<health_actor>(self))
    self->send(health, unwatch_atom_v, user);
  self
    ->request(st.backend,
              st.ctx->cfg.containers.stop_timeout
                + st.ctx->cfg.containers.docker_timeout,
              remove_atom_v, user)
    .then(
      [self, user](bool) {
        auto& e = self->state.users[user];
        e.state = container_phase::stopped;
        e.container_removed = true;
        ++self->state.idle_removals;
        if (!e.waiters.empty())
          begin_start(self, user, true);
      },
      [self, user](caf::error& err) {
        auto& e = self->state.users[user];
        e.state = container_phase::stopped;
        e.last_error = self->system().render(err);
        logger("provisioner")
          ->warn("event=idle_remove_failed user={} error={}", user,
                 log_value(e.last_error, 300));
        if (!e.waiters.empty())
          begin_start(self, user, true);
      });
}

/// Stops (or pauses) the containers nobody used for
/// `containers.idle-timeout`, and removes those idle for
/// `containers.remove-after` days.
void stop_idle(self_ptr self) {
  auto& st = self->state;
  auto& c = st.ctx->cfg.containers;
  auto now = steady_clock::now();
  bool pause = c.idle_action == "pause";
  auto remove_after = std::chrono::duration_cast<steady_clock::duration>(
    std::chrono::duration<double, std::ratio<86400>>{c.remove_after});
  std::vector<int64_t> idle;
  std::vector<int64_t> stale;
  for (auto& [id, e] : st.users) {
    auto quiet = now - e.last_ensure;
    if ((e.state == container_phase::running
         || e.state == container_phase::not_ready)
        && quiet >= c.idle_timeout)
      idle.push_back(id);
    else if (c.remove_after > 0 && e.record.port != 0 && !e.container_removed
             && e.waiters.empty()
             && (e.state == container_phase::stopped
                 || e.state == container_phase::paused
                 || e.state == container_phase::failed)
             && quiet >= remove_after)
      stale.push_back(id);
  }
  auto log = logger("provisioner");
  for (auto id : idle) {
    ++st.idle_stops;
    if (pause) {
      log->info("event=idle_pause user={}", id);
      pause_container(self, id);
    } else {
      log->info("event=idle_stop user={}", id);
      stop_container(self, id, [](bool) {});
    }
  }
  for (auto id : stale) {
    log->info("event=idle_remove user={} days={}", id, c.remove_after);
    remove_container(self, id);
  }
  self->delayed_send(self, c.idle_check, internal_atom_v, idle_check_atom_v);
}

caf::typed_response_promise<status_node> tree_status(self_ptr self) {
  auto node = status_of(self);
  std::vector<status_child> kids;
  if (self->state.backend) {
    status_child kid;
    kid.handle = caf::actor_cast<status_client_actor>(self->state.backend);
    kid.fallback.name = "backend";
    kids.push_back(std::move(kid));
  }
  return collect_status(self, std::move(node), std::move(kids));
}

} // namespace

provisioner_impl_actor::behavior_type
provisioner(provisioner_impl_actor::stateful_pointer<provisioner_state> self,
            context_ptr ctx, std::vector<user_record> known) {
  auto& st = self->state;
  st.ctx = ctx;
  auto& c = ctx->cfg.containers;
  st.ports = port_allocator{static_cast<uint16_t>(c.port_base),
                            static_cast<uint16_t>(c.port_max)};
  st.launches = provisioning_queue{c.max_provisioning};
  for (auto& rec : known) {
    auto& e = st.users[rec.user_id];
    st.ports.reserve(rec.port);
    e.record = std::move(rec);
    e.persisted = true;
    e.state = container_phase::stopped;
    // remove-after counts from the router's start for users it has not
    // seen a message of yet (the database keeps no last-message time).
    e.last_ensure = steady_clock::now();
  }
  auto& kind = ctx->cfg.backend.kind;
  if (kind == "process")
    st.backend = self->spawn<caf::linked>(process_backend, ctx);
  else if (kind == "docker")
    st.backend = self->spawn<caf::linked>(docker_backend, ctx);
  if (st.backend) {
    // Tell the backend why we stop: the process backend terminates its
    // gateways on an orderly shutdown and leaves them for adoption after a
    // crash. (Without this, dropping our handle makes it "unreachable".)
    self->attach_functor([backend = st.backend](const caf::error& reason) {
      bool orderly = !reason || reason == caf::exit_reason::user_shutdown;
      caf::anon_send_exit(backend,
                          orderly ? caf::exit_reason::user_shutdown
                                  : caf::exit_reason::unknown);
    });
    self->send(self, internal_atom_v, adopt_atom_v);
    self->delayed_send(self, ctx->cfg.containers.idle_check, internal_atom_v,
                       idle_check_atom_v);
  }
  return {
    [self](ensure_atom, int64_t user) -> caf::result<user_record> {
      if (self->state.backend)
        return ensure(self, user);
      return lookup_static(self, user);
    },
    [self](restart_atom, int64_t user) -> caf::result<bool> {
      if (!self->state.backend)
        return make_error(errc::not_provisioned, "static backend");
      logger("provisioner")->info("event=admin_restart user={}", user);
      return restart(self, user, true);
    },
    [self](recover_atom, int64_t user) -> caf::result<bool> {
      if (!self->state.backend)
        return make_error(errc::not_provisioned, "static backend");
      return restart(self, user, false);
    },
    [self](stop_atom, int64_t user) -> caf::result<bool> {
      auto& st = self->state;
      auto i = st.users.find(user);
      if (!st.backend || i == st.users.end() || i->second.record.port == 0)
        return false;
      auto rp = self->make_response_promise<bool>();
      stop_container(self, user, [rp](bool ok) mutable {
        rp.deliver(ok);
      });
      return rp;
    },
    [self](remove_atom, int64_t user) {
      return remove_user(self, user);
    },
    [self](container_atom, int64_t user, const std::string& state) {
      if (auto phase = parse_container_phase(state))
        on_state(self, user, *phase);
    },
    [self](internal_atom, idle_check_atom) {
      stop_idle(self);
    },
    [self](internal_atom, adopt_atom) {
      adopt(self);
    },
    [self](status_atom) {
      return tree_status(self);
    },
  };
}

std::vector<child_spec> container_children(const context_ptr& ctx) {
  std::vector<child_spec> result;
  result.push_back({"health_supervisor", names::health, [ctx](root_self self) {
                      return caf::actor_cast<caf::actor>(
                        self->spawn<caf::linked>(health_supervisor, ctx));
                    }});
  result.push_back(
    {"provisioner", names::provisioner, [ctx](root_self self) {
       // A short local read at (re)start: ports in use and the tokens of
       // existing users come from the database (one container per user:
       // as many users as the port range holds). The static backend
       // manages no container, so it keeps no second copy of the users
       // (100,000 of them cost ~35 MB) and asks the store instead.
       std::vector<user_record> known;
       if (ctx->cfg.backend.kind != "static") {
         std::string err;
         known = load_all_users(database_path(ctx->cfg.store.database,
                                              ctx->cfg.store.data_root),
                                err);
         if (!err.empty())
           logger("provisioner")
             ->error("event=users_unreadable error={}", log_value(err));
       }
       return caf::actor_cast<caf::actor>(
         self->spawn<caf::linked>(provisioner, ctx, std::move(known)));
     }});
  return result;
}

} // namespace zaki
