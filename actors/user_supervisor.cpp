#include "actors/user_supervisor.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/status_collector.hpp"
#include "actors/supervision.hpp"
#include "actors/user.hpp"
#include "actors/user_media.hpp"
#include "chat/error_render.hpp"
#include "chat/request_id.hpp"
#include "messages/peer.hpp"
#include "messages/status_detail.hpp"
#include "runtime/logging.hpp"

namespace zaki {

namespace {

using self_ptr = user_supervisor_actor::stateful_pointer<user_supervisor_state>;

void spawn_user(self_ptr self, int64_t user_id, user_entry& entry) {
  auto& st = self->state;
  entry.handle = self->spawn<caf::linked>(user, st.ctx, user_id);
  entry.restarting = false;
  st.by_addr[entry.handle.address()] = user_id;
  ++st.spawned;
  // Replays what the previous incarnation did not finish, in order.
  for (auto& msg : entry.unacked)
    self->send(entry.handle, route_atom_v, msg);
}

void journal_done(self_ptr self, int64_t update_id);

/// Returns whether `chat` is told something for the first time (per router
/// run; past the bound a group may be told once more).
bool first_time(std::unordered_set<int64_t>& told, int64_t chat) {
  if (told.size() >= user_supervisor_state::max_told_groups)
    told.clear();
  return told.insert(chat).second;
}

/// Sends `text` to the group of `msg`, as a reply to it.
void tell_group(self_ptr self, const inbound_message& msg, std::string text) {
  if (auto tg = peer<telegram_actor>(self)) {
    outgoing_text out;
    out.chat_id = msg.chat_id;
    out.text = std::move(text);
    out.request_id = msg.request_id;
    out.reply_to = msg.message_id;
    caf::anon_send(tg, send_atom_v, std::move(out));
  }
}

/// Takes care of group chatter no assistant may see, without a user actor:
/// messages of groups the bot does not answer in (the group is told once
/// that the bot works in private chats), group messages not addressed to
/// the bot, and channel posts. A group message that is routed (a mention
/// under chat.groups=mention) gets, at the group's first use, the notice
/// that the group reads the answers. Told by each member's actor, once per
/// actor life, these notices were repeated for every member who wrote and
/// again after each idle stop (and an actor was spawned per member). Edits
/// stay with the user actor (they may replace a queued text). Returns
/// whether `msg` was taken care of (it is then done).
bool screen_group_message(self_ptr self, const inbound_message& msg) {
  if (msg.chat == chat_kind::private_chat || msg.is_callback() || msg.edited)
    return false;
  auto& st = self->state;
  auto verdict = decide(msg, policy_of(*st.ctx));
  if (verdict.in_group) {
    if (first_time(st.told_public, msg.chat_id))
      tell_group(self, msg, group_public_notice());
    return false;
  }
  bool group_notice = verdict.action == media_action::notice
    && verdict.once_key.rfind("group:", 0) == 0;
  if (!group_notice && verdict.action != media_action::ignore)
    return false;
  bool first = group_notice && first_time(st.told_groups, msg.chat_id);
  logger("user_supervisor")
    ->info("event=group_message_settled user={} chat={} kind={} told={} "
           "request_id={}",
           msg.user_id, msg.chat_id, group_notice ? "notice" : "ignored", first,
           msg.request_id);
  if (first)
    tell_group(self, msg, std::move(verdict.text));
  ++st.settled;
  journal_done(self, msg.update_id);
  return true;
}

/// Hands messages to their users' actors, spawning those not running.
void dispatch(self_ptr self, inbound_batch batch) {
  auto& st = self->state;
  for (auto& msg : batch) {
    ++st.routed;
    if (screen_group_message(self, msg))
      continue;
    auto [i, added] = st.users.try_emplace(msg.user_id);
    auto& entry = i->second;
    if (added)
      entry.governor = restart_governor{st.policy};
    entry.unacked.push_back(msg);
    ++st.unacked_total;
    if (entry.handle)
      self->send(entry.handle, route_atom_v, std::move(msg));
    else if (!entry.restarting)
      spawn_user(self, msg.user_id, entry);
  }
}

/// Sequence number of `(internal, journal, seq)` that flushes the done
/// marks (batch numbers count up from 1 and never reach it).
constexpr uint64_t flush_done_seq = ~uint64_t{0};

/// How long finished messages wait for their done marks to be written.
/// Under load the marks ride along with the next batch's append (no task
/// and no wake-up of the journal thread of their own); this bounds the
/// wait when no batch comes. A crash within it replays those messages.
constexpr auto done_flush_delay = std::chrono::milliseconds(20);

void journal_done(self_ptr self, int64_t update_id) {
  if (self->state.inbox.mark_done(update_id))
    self->delayed_send(self, done_flush_delay, internal_atom_v, journal_atom_v,
                       flush_done_seq);
}

/// Opens the inbox journal and replays what a previous run accepted but
/// did not finish (a crash, or a shutdown whose grace ran out).
void open_inbox(self_ptr self) {
  auto& st = self->state;
  if (!st.ctx->cfg.store.inbox_journal)
    return;
  std::string error;
  st.inbox = inbox::open(st.ctx->cfg.store.data_root, error);
  auto log = logger("supervisor");
  if (!st.inbox.durable()) {
    log->error("event=journal_unavailable file={} error={} action=\"running "
               "without the inbox journal: a crash may lose accepted "
               "messages\"",
               log_value(st.ctx->cfg.store.data_root + "/inbox.journal"),
               log_value(error));
    return;
  }
  auto recovered = st.inbox.take_recovered();
  if (recovered.empty())
    return;
  log->warn("event=journal_replay messages={} file={}", recovered.size(),
            log_value(st.inbox.path()));
  for (auto& msg : recovered)
    st.seen.insert(msg.update_id);
  dispatch(self, std::move(recovered));
}

/// Drops duplicates and gives each new message its request id.
inbound_batch accept(user_supervisor_state& st, inbound_batch& batch) {
  inbound_batch fresh;
  fresh.reserve(batch.size());
  for (auto& msg : batch) {
    if (!st.seen.insert(msg.update_id)) {
      ++st.duplicates;
      continue;
    }
    if (msg.request_id.empty())
      msg.request_id = new_request_id();
    fresh.push_back(std::move(msg));
  }
  return fresh;
}

/// Returns whether every routed message is handled and every batch is in
/// the journal (so the poller's offset covers all of them).
bool drained(const user_supervisor_state& st) {
  return st.unacked_total == 0 && st.writing.empty();
}

void maybe_finish_drain(self_ptr self) {
  auto& st = self->state;
  if (st.draining && drained(st)) {
    st.draining = false;
    st.drain_promise.deliver(int64_t{0});
  }
}

int64_t lowest_unfinished(self_ptr self) {
  int64_t lowest = 0;
  for (auto& kvp : self->state.users)
    for (auto& msg : kvp.second.unacked)
      if ((lowest == 0 || msg.update_id < lowest)
          && kvp.second.held.count(msg.update_id) == 0)
        lowest = msg.update_id;
  return lowest;
}

/// Tells the user that their messages could not be handled (the restart
/// intensity was exceeded) instead of dropping them silently.
void give_up(self_ptr self, int64_t user_id, user_entry& entry) {
  auto& st = self->state;
  auto log = logger("supervisor");
  ++st.given_up;
  log->error("event=user_actor_failed user={} reason=\"restart intensity "
             "exceeded\" max_restarts={} pending={}",
             user_id, st.ctx->cfg.supervisor.max_restarts,
             entry.unacked.size());
  auto tg = peer<telegram_actor>(self);
  for (auto& msg : entry.unacked) {
    journal_done(self, msg.update_id);
    if (tg) {
      outgoing_text out;
      out.chat_id = msg.chat_id;
      out.request_id = msg.request_id;
      // No Retry button: the actor that would re-send it keeps crashing.
      render_options opts;
      opts.help_url = st.ctx->cfg.errors.help_url;
      auto card = render_for_telegram(error_code::internal, msg.request_id,
                                      opts);
      out.text = std::move(card.text_html);
      out.parse_mode = "HTML";
      out.plain_fallback = render_plain_text(error_code::internal,
                                             msg.request_id);
      caf::anon_send(tg, send_atom_v, std::move(out));
    }
    if (entry.held.count(msg.update_id) == 0)
      --st.unacked_total;
  }
  entry.unacked.clear();
  entry.held.clear();
}

void on_child_exit(self_ptr self, int64_t user_id, const caf::error& reason) {
  auto& st = self->state;
  auto log = logger("supervisor");
  auto i = st.users.find(user_id);
  if (i == st.users.end())
    return;
  auto& entry = i->second;
  entry.handle = nullptr;
  if (orderly_exit(reason)) {
    if (entry.unacked.empty()) {
      st.users.erase(i);
      return;
    }
    // Stopped while a message was on its way (idle race): start again.
    return spawn_user(self, user_id, entry);
  }
  auto d = entry.governor.on_failure(self->clock().now());
  if (!d.restart) {
    give_up(self, user_id, entry);
    st.users.erase(i);
    maybe_finish_drain(self);
    return;
  }
  ++entry.restarts;
  ++st.restarts;
  entry.restarting = true;
  auto delay = d.delay;
  log->warn("event=user_actor_crashed user={} reason={} restart_in_ms={} "
            "restarts={} pending={}",
            user_id, log_value(self->system().render(reason)), delay.count(),
            entry.restarts, entry.unacked.size());
  self->delayed_send(self, delay, internal_atom_v, restart_atom_v, user_id);
}

status_node synthesized(int64_t user_id, const user_entry& entry) {
  status_node node;
  node.name = "user:" + std::to_string(user_id);
  node.state = entry.restarting ? "restarting" : "stopped";
  node.restarts = entry.restarts;
  status_detail w;
  w.begin_object().field("user_id", user_id);
  w.field("queued", uint64_t{entry.unacked.size()});
  node.detail = w.end_object().take();
  return node;
}

// -- the inbox: accepted batches are journaled before they are confirmed --

/// Routes a batch and answers once it is journaled. The poller confirms
/// the batch to Telegram once we answer, so it must be on disk first; the
/// write runs on the journal's thread. The users get their messages
/// meanwhile: waiting for the fdatasync put it (1 to 5 ms on ext4 under
/// load) on every message's way. A crash before the write leaves the batch
/// unconfirmed, so Telegram sends it again.
caf::typed_response_promise<ok_atom> route(self_ptr self,
                                           inbound_batch& batch) {
  auto& st = self->state;
  auto rp = self->make_response_promise<ok_atom>();
  auto fresh = accept(st, batch);
  auto wait = !fresh.empty() && st.inbox.durable();
  if (wait) {
    auto seq = st.next_batch++;
    st.writing.emplace(seq, rp);
    st.inbox.append(fresh, [addr = self->address(), seq] {
      if (auto hdl = caf::actor_cast<user_supervisor_actor>(addr))
        caf::anon_send(hdl, internal_atom_v, journal_atom_v, seq);
    });
  }
  dispatch(self, std::move(fresh));
  if (!wait)
    rp.deliver(ok_atom_v);
  return rp;
}

/// Batch `seq` is on disk: the poller may confirm it.
void journaled(self_ptr self, uint64_t seq) {
  auto& st = self->state;
  auto i = st.writing.find(seq);
  if (i == st.writing.end())
    return;
  auto promise = std::move(i->second);
  st.writing.erase(i);
  promise.deliver(ok_atom_v);
  // The poller has this acknowledgement before the drain's answer.
  maybe_finish_drain(self);
}

/// A user actor finished a message: it leaves the replay list and the
/// journal.
void finished(self_ptr self, int64_t user_id, int64_t update_id) {
  auto& st = self->state;
  auto i = st.users.find(user_id);
  if (i == st.users.end())
    return;
  auto& q = i->second.unacked;
  auto j = std::find_if(q.begin(), q.end(), [update_id](auto& msg) {
    return msg.update_id == update_id;
  });
  if (j != q.end()) {
    q.erase(j);
    if (i->second.held.erase(update_id) == 0)
      --st.unacked_total;
    journal_done(self, update_id);
  }
  maybe_finish_drain(self);
}

/// A user actor holds a message for an access decision: it stays in the
/// journal and the replay list, but a drain no longer waits for it.
void held(self_ptr self, int64_t user_id, int64_t update_id) {
  auto& st = self->state;
  auto i = st.users.find(user_id);
  if (i == st.users.end())
    return;
  auto& entry = i->second;
  auto known = std::any_of(entry.unacked.begin(), entry.unacked.end(),
                           [update_id](auto& msg) {
                             return msg.update_id == update_id;
                           });
  if (known && entry.held.insert(update_id).second) {
    --st.unacked_total;
    maybe_finish_drain(self);
  }
}

/// Returns the supervisor's copy of a message in flight (replayed after an
/// actor crash), or nullptr.
inbound_message* unacked_of(self_ptr self, int64_t user_id, int64_t update_id) {
  auto i = self->state.users.find(user_id);
  if (i == self->state.users.end())
    return nullptr;
  for (auto& msg : i->second.unacked)
    if (msg.update_id == update_id)
      return &msg;
  return nullptr;
}

/// Records the gateway's answer before the user actor sends it: a replay
/// (after a crash of the process or of the actor) re-sends it instead of
/// asking the assistant again. Answers once the journal has it; the write
/// is not synced (see inbox_journal), so it costs no fdatasync.
caf::typed_response_promise<ok_atom>
record_answer(self_ptr self, int64_t user_id, int64_t update_id,
              std::string& answer) {
  auto& st = self->state;
  auto rp = self->make_response_promise<ok_atom>();
  auto msg = unacked_of(self, user_id, update_id);
  if (msg == nullptr || !st.inbox.durable()) {
    if (msg != nullptr) {
      msg->answered = true;
      msg->answer = std::move(answer);
    }
    rp.deliver(ok_atom_v);
    return rp;
  }
  msg->answered = true;
  msg->answer = answer;
  auto seq = st.next_batch++;
  st.writing.emplace(seq, rp);
  st.inbox.record_answer(
    update_id, std::move(answer), [addr = self->address(), seq] {
      if (auto hdl = caf::actor_cast<user_supervisor_actor>(addr))
        caf::anon_send(hdl, internal_atom_v, journal_atom_v, seq);
    });
  return rp;
}

/// Telegram confirmed part of a message's reply: collected like the done
/// marks (a lost mark re-sends that part once, never loses it).
void record_progress(self_ptr self, int64_t user_id, const journal_mark& mark) {
  auto msg = unacked_of(self, user_id, mark.update_id);
  if (msg == nullptr)
    return;
  if (mark.chunks_sent > msg->chunks_sent)
    msg->chunks_sent = mark.chunks_sent;
  if (mark.preview_message_id != 0)
    msg->preview_message_id = mark.preview_message_id;
  if (self->state.inbox.mark_progress(mark))
    self->delayed_send(self, done_flush_delay, internal_atom_v, journal_atom_v,
                       flush_done_seq);
}

// -- draining at shutdown ----------------------------------------------------

caf::typed_response_promise<int64_t> begin_drain(self_ptr self,
                                                 caf::timespan grace) {
  auto& st = self->state;
  auto rp = self->make_response_promise<int64_t>();
  if (drained(st)) {
    rp.deliver(int64_t{0});
    return rp;
  }
  logger("supervisor")
    ->info(
      "event=draining pending={} grace_ms={}", st.unacked_total,
      std::chrono::duration_cast<std::chrono::milliseconds>(grace).count());
  st.draining = true;
  st.drain_promise = rp;
  self->delayed_send(self, grace, internal_atom_v, drain_atom_v);
  return rp;
}

void drain_timed_out(self_ptr self) {
  auto& st = self->state;
  if (!st.draining)
    return;
  st.draining = false;
  auto lowest = lowest_unfinished(self);
  logger("supervisor")
    ->warn("event=drain_timeout pending={} lowest_update_id={}",
           st.unacked_total, lowest);
  st.drain_promise.deliver(lowest);
}

// -- supervision of the user actors ------------------------------------------

/// The backoff of `user_id`'s restart elapsed: start it with its messages.
void restart_user(self_ptr self, int64_t user_id) {
  auto& st = self->state;
  auto i = st.users.find(user_id);
  if (i == st.users.end() || !i->second.restarting)
    return;
  logger("supervisor")
    ->info("event=user_actor_restarted user={} "
           "replayed={}",
           user_id, i->second.unacked.size());
  for (auto& msg : i->second.unacked)
    ++msg.delivery;
  spawn_user(self, user_id, i->second);
}

/// Returns the running actor of `user_id`, or an invalid handle.
user_actor running(self_ptr self, int64_t user_id) {
  auto i = self->state.users.find(user_id);
  return i != self->state.users.end() ? i->second.handle : user_actor{};
}

/// Stops the actor of `user_id` in order (admin).
bool stop_user(self_ptr self, int64_t user_id) {
  auto hdl = running(self, user_id);
  if (!hdl)
    return false;
  // A child unlinks from the sender of an exit message (CAF 0.17), so no
  // exit_msg comes back: its end is handled here, or its messages would go
  // to a dead handle forever.
  self->unlink_from(hdl);
  self->send_exit(hdl, caf::exit_reason::user_shutdown);
  self->state.by_addr.erase(hdl.address());
  on_child_exit(self, user_id, caf::exit_reason::user_shutdown);
  return true;
}

caf::result<status_node> user_status(self_ptr self, int64_t user_id) {
  auto i = self->state.users.find(user_id);
  if (i == self->state.users.end())
    return caf::make_error(caf::sec::runtime_error, "no such user actor");
  if (!i->second.handle)
    return synthesized(user_id, i->second);
  auto rp = self->make_response_promise<status_node>();
  auto restarts = i->second.restarts;
  self->request(i->second.handle, std::chrono::seconds(5), status_atom_v)
    .then(
      [rp, restarts](status_node node) mutable {
        node.restarts = restarts;
        rp.deliver(std::move(node));
      },
      [rp](caf::error& err) mutable {
        rp.deliver(std::move(err));
      });
  return rp;
}

caf::typed_response_promise<status_node> tree_status(self_ptr self) {
  auto& st = self->state;
  status_node node;
  node.name = "user_supervisor";
  node.id = self->id();
  node.state = st.draining ? "draining" : "running";
  node.mailbox_size = self->mailbox().size();
  status_detail w;
  w.begin_object().field("users", uint64_t{st.users.size()});
  w.field("routed", st.routed).field("duplicates", st.duplicates);
  w.field("pending", uint64_t{st.unacked_total});
  w.field("restarts", st.restarts).field("given_up", st.given_up);
  w.field("spawned", st.spawned);
  w.field("group_messages_settled", st.settled);
  node.detail = w.end_object().take();
  std::vector<status_child> children;
  for (auto& kvp : st.users) {
    if (kvp.second.handle)
      children.push_back(
        {status_client_actor{kvp.second.handle}, kvp.second.restarts, {}});
    else
      children.push_back({status_client_actor{}, kvp.second.restarts,
                          synthesized(kvp.first, kvp.second)});
  }
  return collect_status(self, std::move(node), std::move(children));
}

} // namespace

user_supervisor_actor::behavior_type user_supervisor(self_ptr self,
                                                     context_ptr ctx) {
  self->state.ctx = ctx;
  self->state.policy = user_restart_policy(ctx->cfg);
  open_inbox(self);
  trap_child_exits(self, &user_supervisor_state::by_addr,
                   [self](int64_t user_id, const caf::error& reason) {
                     on_child_exit(self, user_id, reason);
                   });
  return {
    // The inbox.
    [self](route_atom, inbound_batch& batch) {
      return route(self, batch);
    },
    [self](internal_atom, journal_atom, uint64_t seq) {
      if (seq == flush_done_seq)
        return self->state.inbox.flush_done();
      journaled(self, seq);
    },
    [self](done_atom, int64_t user_id, int64_t update_id) {
      finished(self, user_id, update_id);
    },
    [self](held_atom, int64_t user_id, int64_t update_id) {
      held(self, user_id, update_id);
    },
    [self](journal_atom, int64_t user_id, int64_t update_id,
           std::string& answer) {
      return record_answer(self, user_id, update_id, answer);
    },
    [self](journal_atom, int64_t user_id, int64_t update_id,
           uint32_t chunks_sent) {
      record_progress(self, user_id, journal_mark{update_id, chunks_sent, 0});
    },
    [self](journal_atom, stream_atom, int64_t user_id, int64_t update_id,
           int64_t message_id) {
      record_progress(self, user_id, journal_mark{update_id, 0, message_id});
    },
    // Shutdown.
    [self](drain_atom, caf::timespan grace) {
      return begin_drain(self, grace);
    },
    [self](internal_atom, drain_atom) {
      drain_timed_out(self);
    },
    // Supervision.
    [self](internal_atom, restart_atom, int64_t user_id) {
      restart_user(self, user_id);
    },
    [self](container_atom, int64_t user_id, const std::string& state) {
      if (auto hdl = running(self, user_id))
        self->send(hdl, container_atom_v, state);
    },
    [self](access_atom, int64_t user_id, const std::string& status) {
      if (auto hdl = running(self, user_id))
        self->send(hdl, access_atom_v, status);
    },
    [self](crash_atom, int64_t user_id) {
      auto hdl = running(self, user_id);
      if (hdl)
        self->send(hdl, crash_atom_v);
      return hdl != nullptr;
    },
    [self](stop_atom, int64_t user_id) {
      return stop_user(self, user_id);
    },
    [self](status_atom, int64_t user_id) {
      return user_status(self, user_id);
    },
    [self](status_atom) {
      return tree_status(self);
    },
  };
}

} // namespace zaki
