#include "actors/access.hpp"

#include <algorithm>
#include <ctime>
#include <functional>

#include <caf/all.hpp>

#include "access/texts.hpp"
#include "chat/request_id.hpp"
#include "messages/peer.hpp"
#include "messages/status_detail.hpp"
#include "runtime/logging.hpp"

namespace zaki {

namespace {

using self_ptr = access_actor::stateful_pointer<access_state>;

/// Bound of the remembered used nonces and told rejections.
constexpr size_t memory_bound = 10000;

int64_t unix_now() {
  return static_cast<int64_t>(std::time(nullptr));
}

void tell(self_ptr self, int64_t chat_id, std::string text,
          std::string html = {}, std::string markup = {}) {
  auto tg = peer<telegram_actor>(self);
  if (!tg)
    return;
  outgoing_text out;
  out.chat_id = chat_id;
  if (!html.empty()) {
    out.text = std::move(html);
    out.parse_mode = "HTML";
  } else {
    out.text = std::move(text);
  }
  out.reply_markup = std::move(markup);
  self->request(tg, std::chrono::seconds(60), send_atom_v, std::move(out))
    .then([](int64_t) {}, [](caf::error&) {});
}

/// Registers a stranger as pending, tells them once and asks every admin.
void ask_admins(self_ptr self, int64_t user_id, int64_t chat_id, bool notify) {
  auto& st = self->state;
  access_request req;
  req.nonce = new_request_id();
  req.chat_id = chat_id;
  req.requested_at = unix_now();
  st.nonces[req.nonce] = user_id;
  auto nonce = req.nonce;
  st.pending.emplace(user_id, std::move(req));
  if (!notify)
    return;
  if (auto store = peer<store_actor>(self)) {
    access_record rec;
    rec.user_id = user_id;
    rec.status = "pending";
    rec.requested_at = unix_now();
    self->request(store, std::chrono::seconds(10), access_atom_v, rec)
      .then([](bool) {}, [](caf::error&) {});
  }
  tell(self, chat_id, waiting_for_approval_text());
  auto tg = peer<telegram_actor>(self);
  if (!tg)
    return;
  for (auto admin : st.admins) {
    outgoing_text out;
    out.chat_id = admin;
    out.text = approval_request_html(user_id);
    out.parse_mode = "HTML";
    out.reply_markup = approval_keyboard(nonce);
    self->request(tg, std::chrono::seconds(60), send_atom_v, std::move(out))
      .then(
        [self, user_id, admin, nonce](int64_t message_id) {
          auto i = self->state.pending.find(user_id);
          if (i != self->state.pending.end() && i->second.nonce == nonce)
            i->second.notices.emplace_back(admin, message_id);
          else if (auto tg = peer<telegram_actor>(self))
            // Decided while this notice was on its way: no buttons left.
            self
              ->request(tg, std::chrono::seconds(60), edit_atom_v, admin,
                        message_id,
                        std::string{"\xF0\x9F\x86\x95 Access request: "
                                    "decided already."})
              .then([](bool) {}, [](caf::error&) {});
        },
        [user_id, admin](caf::error& err) {
          logger("access")->warn("event=admin_notice_failed user={} admin={} "
                                 "error={}",
                                 user_id, admin, log_value(to_string(err)));
        });
  }
  if (st.admins.empty())
    logger("access")->warn("event=no_admins user={} action=\"pending until "
                           "approved with zaki-router users approve\"",
                           user_id);
}

std::string on_facts(self_ptr self, int64_t user_id, int64_t chat_id,
                     const access_record& rec) {
  auto& st = self->state;
  access_facts facts;
  facts.has_container = rec.has_container;
  facts.status = parse_access_status(rec.status);
  facts.pending = st.pending.size();
  facts.max_pending = st.ctx->cfg.access.max_pending;
  auto verdict = decide(st.policy, facts);
  logger("access")->info("event=access_check user={} policy={} status={} "
                         "container={} verdict={}",
                         user_id, to_string(st.policy),
                         rec.status.empty() ? "none" : rec.status,
                         rec.has_container, to_string(verdict));
  switch (verdict) {
    case admission::admit: ++st.admitted; return "admit";
    case admission::ask_admins:
      ++st.held;
      ask_admins(self, user_id, chat_id, true);
      return "hold";
    case admission::hold:
      // Pending from before a restart: the admins have their buttons (or
      // the CLI), the user was told.
      ++st.held;
      if (st.pending.count(user_id) == 0)
        ask_admins(self, user_id, chat_id, false);
      return "hold";
    case admission::try_later: tell(self, chat_id, try_later_text()); break;
    case admission::not_allowed:
      tell(self, chat_id, not_allowed_text(user_id));
      break;
    case admission::closed: tell(self, chat_id, closed_text()); break;
    case admission::rejected:
      if (st.told_rejected.size() >= memory_bound)
        st.told_rejected.clear();
      if (st.told_rejected.insert(user_id).second)
        tell(self, chat_id, rejected_text());
      break;
    case admission::revoked: tell(self, chat_id, revoked_text()); break;
  }
  ++st.refused;
  return "refused";
}

/// Records a decision, then carries it out: edits the admins' requests,
/// tells the user, releases (or drops) their held messages, stops a revoked
/// user's container.
void apply(self_ptr self, int64_t user_id, const std::string& action,
           int64_t by, std::function<void(std::string)> done) {
  auto& st = self->state;
  std::string status = action == "approve" ? "approved"
    : action == "reject"                   ? "rejected"
                                           : "revoked";
  access_request req;
  bool was_pending = false;
  if (auto i = st.pending.find(user_id); i != st.pending.end()) {
    req = std::move(i->second);
    st.pending.erase(i);
    st.nonces.erase(req.nonce);
    was_pending = true;
  }
  auto now = unix_now();
  auto decided = approval_decided_html(user_id, status, by, now);
  if (was_pending) {
    if (st.used.size() >= memory_bound)
      st.used.clear();
    st.used[req.nonce] = decided;
  }
  auto store = peer<store_actor>(self);
  if (!store) {
    done("the store is unavailable; nothing was changed");
    return;
  }
  access_record rec;
  rec.user_id = user_id;
  rec.status = status;
  rec.decided_by = by;
  rec.decided_at = now;
  rec.requested_at = req.requested_at;
  auto chat_id = was_pending ? req.chat_id : user_id;
  self->request(store, std::chrono::seconds(10), access_atom_v, rec)
    .then(
      [self, user_id, status, action, by, chat_id, decided, req,
       done](bool ok) {
        auto log = logger("access");
        if (!ok) {
          log->error("event=access_decision_failed user={} status={} by={}",
                     user_id, status, by);
          done("could not record the decision (see the router's log)");
          return;
        }
        ++self->state.decisions;
        log->info("event=access_decided user={} status={} by={} notices={}",
                  user_id, status, by, req.notices.size());
        if (auto tg = peer<telegram_actor>(self))
          for (auto& [chat, message_id] : req.notices)
            self
              ->request(tg, std::chrono::seconds(60), edit_atom_v, chat,
                        message_id, decided)
              .then([](bool) {}, [](caf::error&) {});
        if (status == "approved")
          tell(self, chat_id, approved_text());
        else if (status == "rejected"
                 && self->state.told_rejected.insert(user_id).second)
          tell(self, chat_id, rejected_text());
        if (auto sup = peer<user_supervisor_actor>(self))
          self->send(sup, access_atom_v, user_id, status);
        if (status == "revoked") {
          if (auto prov = peer<provisioner_actor>(self)) {
            auto stop = [](bool) {};
            auto ignore = [](caf::error&) {};
            if (action == "purge")
              self
                ->request(prov, std::chrono::minutes(2), remove_atom_v, user_id)
                .then(stop, ignore);
            else
              self->request(prov, std::chrono::minutes(2), stop_atom_v, user_id)
                .then(stop, ignore);
          }
        }
        done(status);
      },
      [done](caf::error& err) {
        done("could not record the decision: " + to_string(err));
      });
}

caf::result<std::string> on_decide(self_ptr self, int64_t user_id,
                                   const std::string& action, int64_t by) {
  if (action != "approve" && action != "reject" && action != "revoke"
      && action != "purge")
    return caf::make_error(caf::sec::runtime_error,
                           "action must be approve, reject, revoke or purge");
  if (user_id <= 0)
    return caf::make_error(caf::sec::runtime_error, "not a user id");
  auto rp = self->make_response_promise<std::string>();
  if (self->state.pending.count(user_id) != 0) {
    apply(self, user_id, action, by, [rp](std::string what) mutable {
      rp.deliver(std::move(what));
    });
    return rp;
  }
  // Not pending: the store says whether the decision changes anything.
  auto store = peer<store_actor>(self);
  if (!store)
    return caf::make_error(caf::sec::runtime_error, "store unavailable");
  self->request(store, std::chrono::seconds(10), access_atom_v, user_id)
    .then(
      [self, user_id, action, by, rp](access_record& rec) mutable {
        auto status = parse_access_status(rec.status);
        bool approved = status == access_status::approved
          || (rec.has_container && status != access_status::rejected
              && status != access_status::revoked);
        if (action == "approve" && approved) {
          rp.deliver(std::string{"already approved"});
          return;
        }
        if (action == "reject" && status == access_status::rejected) {
          rp.deliver(std::string{"already rejected"});
          return;
        }
        if ((action == "revoke" || action == "purge") && !approved
            && status != access_status::pending) {
          rp.deliver(std::string{"unknown user (nothing to revoke)"});
          return;
        }
        apply(self, user_id, action, by, [rp](std::string what) mutable {
          rp.deliver(std::move(what));
        });
      },
      [rp](caf::error& err) mutable {
        rp.deliver(std::move(err));
      });
  return rp;
}

caf::result<std::string> on_press(self_ptr self, int64_t admin, bool approve,
                                  const std::string& nonce) {
  auto& st = self->state;
  auto log = logger("access");
  if (!is_admin(st, admin)) {
    ++st.forged;
    log->warn("event=access_press_rejected by={} reason=not_admin", admin);
    return std::string{"Sorry, this button no longer works."};
  }
  auto i = st.nonces.find(nonce);
  if (i == st.nonces.end()) {
    auto used = st.used.find(nonce);
    log->warn("event=access_press_rejected by={} reason={}", admin,
              used != st.used.end() ? "decided_already" : "unknown_nonce");
    if (used == st.used.end())
      ++st.forged;
    return std::string{used != st.used.end() ? "Decided already."
                                             : "Sorry, this button no "
                                               "longer works."};
  }
  // The nonce is gone from here on: a second admin's press (or a replay)
  // finds it used.
  apply(self, i->second, approve ? "approve" : "reject", admin,
        [](std::string) {});
  return std::string{approve ? "Approved." : "Rejected."};
}

/// Registers the command menus: one for everyone, one per admin's chat.
void set_commands(self_ptr self) {
  auto tg = peer<telegram_actor>(self);
  if (!tg)
    return;
  auto log_result = [](const char* scope) {
    return [scope](bool ok) {
      logger("access")->info("event=set_my_commands scope={} ok={}", scope, ok);
    };
  };
  auto ignore = [](caf::error&) {};
  self
    ->request(tg, std::chrono::seconds(60), commands_atom_v,
              std::string{R"({"type":"default"})"}, bot_commands_json(false))
    .then(log_result("default"), ignore);
  for (auto admin : self->state.admins)
    self
      ->request(tg, std::chrono::seconds(60), commands_atom_v,
                R"({"type":"chat","chat_id":)" + std::to_string(admin) + "}",
                bot_commands_json(true))
      .then(log_result("admin"), ignore);
}

void load_pending(self_ptr self) {
  auto store = peer<store_actor>(self);
  if (!store || self->state.policy != access_policy::approval)
    return;
  self
    ->request(store, std::chrono::seconds(30), access_atom_v, list_atom_v,
              std::string{"pending"},
              static_cast<uint32_t>(self->state.ctx->cfg.access.max_pending))
    .then(
      [self](access_list& list) {
        for (auto& rec : list)
          if (self->state.pending.count(rec.user_id) == 0 && !rec.has_container)
            ask_admins(self, rec.user_id, rec.user_id, false);
        logger("access")->info("event=access_started policy={} admins={} "
                               "pending={}",
                               to_string(self->state.policy),
                               self->state.admins.size(),
                               self->state.pending.size());
      },
      [](caf::error& err) {
        logger("access")->warn("event=access_pending_unavailable error={}",
                               log_value(to_string(err)));
      });
}

status_node status_of(self_ptr self) {
  auto& st = self->state;
  status_node node;
  node.name = "access";
  node.id = self->id();
  node.state = "running";
  node.mailbox_size = self->mailbox().size();
  status_detail w;
  w.begin_object().field("policy", to_string(st.policy));
  w.field("admins", uint64_t{st.admins.size()});
  w.field("pending", uint64_t{st.pending.size()});
  w.field("admitted", st.admitted).field("held", st.held);
  w.field("refused", st.refused).field("decisions", st.decisions);
  w.field("forged_presses", st.forged);
  node.detail = w.end_object().take();
  return node;
}

} // namespace

bool is_admin(const access_state& st, int64_t user_id) {
  return std::find(st.admins.begin(), st.admins.end(), user_id)
    != st.admins.end();
}

access_actor::behavior_type access(self_ptr self, context_ptr ctx) {
  auto& st = self->state;
  st.ctx = ctx;
  // The options were validated at start (runtime/config.cpp).
  st.policy = parse_access_policy(ctx->cfg.access.policy)
                .value_or(access_policy::approval);
  std::string bad;
  st.admins = parse_admin_ids(ctx->cfg.access.admins, bad)
                .value_or(std::vector<int64_t>{});
  load_pending(self);
  set_commands(self);
  return {
    [self](admit_atom, int64_t user_id,
           int64_t chat_id) -> caf::result<std::string> {
      auto& st = self->state;
      if (st.policy == access_policy::open || is_admin(st, user_id)) {
        ++st.admitted;
        return std::string{"admit"};
      }
      if (st.pending.count(user_id) != 0) {
        ++st.held;
        return std::string{"hold"};
      }
      auto store = peer<store_actor>(self);
      if (!store)
        return caf::make_error(caf::sec::runtime_error, "store unavailable");
      auto rp = self->make_response_promise<std::string>();
      self->request(store, std::chrono::seconds(10), access_atom_v, user_id)
        .then(
          [self, user_id, chat_id, rp](access_record& rec) mutable {
            // Another message may have registered the user meanwhile.
            if (self->state.pending.count(user_id) != 0) {
              rp.deliver(std::string{"hold"});
              return;
            }
            rp.deliver(on_facts(self, user_id, chat_id, rec));
          },
          [rp](caf::error& err) mutable {
            rp.deliver(std::move(err));
          });
      return rp;
    },
    [self](decide_atom, int64_t user_id, const std::string& action,
           int64_t by) {
      return on_decide(self, user_id, action, by);
    },
    [self](press_atom, int64_t admin, bool approve, const std::string& nonce) {
      return on_press(self, admin, approve, nonce);
    },
    [self](list_atom, const std::string& status) -> caf::result<access_list> {
      auto store = peer<store_actor>(self);
      if (!store)
        return caf::make_error(caf::sec::runtime_error, "store unavailable");
      auto rp = self->make_response_promise<access_list>();
      self
        ->request(store, std::chrono::seconds(10), access_atom_v, list_atom_v,
                  status, uint32_t{1000})
        .then(
          [rp](access_list& list) mutable {
            rp.deliver(std::move(list));
          },
          [rp](caf::error& err) mutable {
            rp.deliver(std::move(err));
          });
      return rp;
    },
    [self](status_atom) {
      return status_of(self);
    },
  };
}

} // namespace zaki
