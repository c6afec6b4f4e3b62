#include "actors/root.hpp"

#include <caf/all.hpp>

#include "actors/access.hpp"
#include "actors/poller.hpp"
#include "actors/status_collector.hpp"
#include "actors/store.hpp"
#include "actors/supervision.hpp"
#include "actors/telegram.hpp"
#include "actors/user_supervisor.hpp"
#include "messages/peer.hpp"
#include "runtime/logging.hpp"
#include "storage/user_registry.hpp"

namespace zaki {

namespace {

void start_child(root_self self, size_t index) {
  auto& st = self->state;
  auto& spec = st.specs[index];
  auto hdl = spec.start(self);
  st.running[index] = hdl;
  st.by_addr[hdl.address()] = index;
  // CAF 0.17's put() keeps an existing name (it emplaces): without the
  // erase, peers would keep finding the dead incarnation after a restart.
  auto& reg = self->system().registry();
  reg.erase(spec.key);
  reg.put(spec.key, hdl);
}

void stop_everything(root_self self) {
  logger("main")->info("event=stopping_children");
  self->quit(caf::exit_reason::user_shutdown);
}

void confirm_and_stop(root_self self, int64_t offset) {
  auto poller = peer<poller_actor>(self);
  if (!poller || offset <= 0)
    return stop_everything(self);
  self->request(poller, std::chrono::seconds(15), confirm_atom_v, offset)
    .then(
      [self](bool) {
        stop_everything(self);
      },
      [self](caf::error&) {
        stop_everything(self);
      });
}

/// Confirms the poller's offset as it is now: after a drain, it covers
/// every batch the supervisor recorded (their acknowledgements reached the
/// poller before the drain's answer reached us). `fallback` is the offset
/// the poller had when it stopped.
void confirm_current_offset(root_self self, int64_t fallback) {
  auto poller = peer<poller_actor>(self);
  if (!poller)
    return confirm_and_stop(self, fallback);
  self->request(poller, std::chrono::seconds(5), stop_atom_v)
    .then(
      [self](int64_t offset) {
        confirm_and_stop(self, offset);
      },
      [self, fallback](caf::error&) {
        confirm_and_stop(self, fallback);
      });
}

void drain_and_confirm(root_self self, int64_t offset) {
  auto sup = peer<user_supervisor_actor>(self);
  auto grace = self->state.ctx->cfg.shutdown.grace;
  if (!sup)
    return confirm_and_stop(self, offset);
  self
    ->request(sup, grace + std::chrono::seconds(5), drain_atom_v,
              caf::timespan{grace})
    .then(
      [self, offset](int64_t lowest_unfinished) {
        if (lowest_unfinished == 0)
          return confirm_current_offset(self, offset);
        // Updates from the lowest unfinished one on stay unconfirmed, so
        // Telegram delivers them again after the restart.
        logger("main")->warn("event=shutdown_unfinished first_update_id={}",
                             lowest_unfinished);
        confirm_and_stop(self, lowest_unfinished);
      },
      [self, offset](caf::error&) {
        confirm_and_stop(self, offset);
      });
}

/// A child failed (or stopped: the root's children are permanent):
/// restart it after the delay, or fail the root when the restart
/// intensity is exceeded.
void on_child_exit(root_self self, size_t index, const caf::error& reason) {
  auto& st = self->state;
  st.running[index] = nullptr;
  if (st.shutting_down)
    return;
  auto& name = st.specs[index].name;
  auto log = logger("main");
  // The actor clock: virtual time in deterministic tests.
  auto d = st.governor.on_failure(self->clock().now());
  if (!d.restart) {
    auto& policy = st.governor.policy();
    log->critical(
      "event=root_failed child={} reason={} message=\"too many "
      "restarts (more than {} in {} s)\"",
      name, log_value(self->system().render(reason)), policy.max_restarts,
      std::chrono::duration_cast<std::chrono::seconds>(policy.window).count());
    st.ctx->exit_code = 3;
    self->quit(reason);
    return;
  }
  ++st.restarts[index];
  log->error("event=child_failed child={} reason={} restart_in_ms={}", name,
             log_value(self->system().render(reason)), d.delay.count());
  self->delayed_send(self, d.delay, internal_atom_v, restart_atom_v, name);
}

} // namespace

root_actor::behavior_type root(root_self self, context_ptr ctx,
                               std::vector<child_spec> specs) {
  auto& st = self->state;
  st.ctx = ctx;
  st.specs = std::move(specs);
  st.running.resize(st.specs.size());
  st.restarts.resize(st.specs.size());
  self->system().registry().put(names::root, self);
  for (size_t i = 0; i < st.specs.size(); ++i)
    start_child(self, i);
  st.governor = restart_governor{root_restart_policy(ctx->cfg)};
  trap_child_exits(self, &root_state::by_addr,
                   [self](size_t index, const caf::error& reason) {
                     on_child_exit(self, index, reason);
                   });
  return {
    [self](shutdown_atom) {
      auto& st = self->state;
      if (st.shutting_down)
        return;
      st.shutting_down = true;
      logger("main")->info(
        "event=shutdown_started grace_ms={}",
        std::chrono::duration_cast<std::chrono::milliseconds>(
          st.ctx->cfg.shutdown.grace)
          .count());
      auto poller = peer<poller_actor>(self);
      if (!poller)
        return drain_and_confirm(self, 0);
      self->request(poller, std::chrono::seconds(5), stop_atom_v)
        .then(
          [self](int64_t offset) {
            drain_and_confirm(self, offset);
          },
          [self](caf::error&) {
            drain_and_confirm(self, 0);
          });
    },
    [self](internal_atom, restart_atom, const std::string& name) {
      auto& st = self->state;
      if (st.shutting_down)
        return;
      for (size_t i = 0; i < st.specs.size(); ++i)
        if (st.specs[i].name == name && !st.running[i]) {
          start_child(self, i);
          logger("main")->info("event=child_restarted child={}", name);
        }
    },
    [self](status_atom) {
      auto& st = self->state;
      status_node node;
      node.name = "root";
      node.id = self->id();
      node.state = st.shutting_down ? "stopping" : "running";
      node.mailbox_size = self->mailbox().size();
      std::vector<status_child> kids;
      for (size_t i = 0; i < st.specs.size(); ++i) {
        status_child kid;
        kid.restarts = st.restarts[i];
        kid.fallback.name = st.specs[i].name;
        kid.fallback.state = "restarting";
        if (st.running[i])
          kid.handle = caf::actor_cast<status_client_actor>(st.running[i]);
        kids.push_back(std::move(kid));
      }
      return collect_status(self, std::move(node), std::move(kids));
    },
  };
}

std::vector<child_spec> core_children(const context_ptr& ctx,
                                      user_registry initial) {
  auto users = std::make_shared<user_registry>(std::move(initial));
  std::vector<child_spec> result;
  result.push_back(
    {"store", names::store, [ctx, users](root_self self) {
       // The first start seeds the database with the registry it was given
       // (tests, demo); a restart reopens the database as it is.
       user_registry initial;
       std::swap(initial, *users);
       return caf::actor_cast<caf::actor>(
         self->spawn<caf::linked>(store, ctx, std::move(initial)));
     }});
  result.push_back({"telegram", names::telegram, [ctx](root_self self) {
                      return caf::actor_cast<caf::actor>(
                        self->spawn<caf::linked>(telegram, ctx));
                    }});
  result.push_back({"access", names::access, [ctx](root_self self) {
                      return caf::actor_cast<caf::actor>(
                        self->spawn<caf::linked>(access, ctx));
                    }});
  result.push_back(
    {"user_supervisor", names::user_supervisor, [ctx](root_self self) {
       return caf::actor_cast<caf::actor>(
         self->spawn<caf::linked>(user_supervisor, ctx));
     }});
  result.push_back({"poller", names::poller, [ctx](root_self self) {
                      return caf::actor_cast<caf::actor>(
                        self->spawn<caf::linked>(poller, ctx));
                    }});
  return result;
}

} // namespace zaki
