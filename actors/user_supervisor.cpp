#include "actors/user_supervisor.hpp"

#include <filesystem>

#include <caf/all.hpp>

#include "runtime/child_exits.hpp"
#include "messages/peer.hpp"
#include "actors/status_collector.hpp"
#include "actors/user.hpp"
#include "supervision/backoff.hpp"
#include "chat/error_render.hpp"
#include "json/writer.hpp"
#include "runtime/logging.hpp"
#include "chat/request_id.hpp"

namespace zaki {

namespace {

using self_ptr = user_supervisor_actor::stateful_pointer<user_supervisor_state>;
using clock_type = std::chrono::steady_clock;

constexpr size_t seen_capacity = 100000;

bool remember(self_ptr self, int64_t update_id) {
  auto& st = self->state;
  if (!st.seen.insert(update_id).second)
    return false;
  st.seen_order.push_back(update_id);
  if (st.seen_order.size() > seen_capacity) {
    st.seen.erase(st.seen_order.front());
    st.seen_order.pop_front();
  }
  return true;
}

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

/// Hands messages to their users' actors, spawning those not running.
void dispatch(self_ptr self, inbound_batch batch) {
  auto& st = self->state;
  for (auto& msg : batch) {
    ++st.routed;
    auto& entry = st.users[msg.user_id];
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

/// Hands the collected done marks to the journal thread in one task.
void post_done_marks(user_supervisor_state& st) {
  if (!st.journal || st.done_marks.empty())
    return;
  auto ids = std::move(st.done_marks);
  st.done_marks.clear();
  st.journal_io->post([journal = st.journal, ids = std::move(ids)] {
    std::string error;
    if (!journal->mark_done(ids, error))
      logger("supervisor")->error("event=journal_write_failed error={}",
                                  log_value(error));
  });
}

void flush_done(self_ptr self) {
  self->state.done_flush_queued = false;
  post_done_marks(self->state);
}

void journal_done(self_ptr self, int64_t update_id) {
  auto& st = self->state;
  if (!st.journal)
    return;
  st.done_marks.push_back(update_id);
  if (!st.done_flush_queued) {
    st.done_flush_queued = true;
    self->delayed_send(self, done_flush_delay, internal_atom_v, journal_atom_v,
                       flush_done_seq);
  }
}

/// Opens the inbox journal and replays what a previous run accepted but
/// did not finish (a crash, or a shutdown whose grace ran out).
void open_journal(self_ptr self) {
  auto& st = self->state;
  if (!st.ctx->cfg.store.inbox_journal)
    return;
  auto log = logger("supervisor");
  auto path = st.ctx->cfg.store.data_root + "/inbox.journal";
  std::error_code ec;
  std::filesystem::create_directories(st.ctx->cfg.store.data_root, ec);
  std::string error;
  auto journal = inbox_journal::open(path, error);
  if (!journal) {
    log->error("event=journal_unavailable file={} error={} action=\"running "
               "without the inbox journal: a crash may lose accepted "
               "messages\"",
               log_value(path), log_value(error));
    return;
  }
  auto recovered = journal->pending();
  st.journal = std::move(journal);
  st.journal_io = std::make_unique<journal_worker>();
  if (recovered.empty())
    return;
  log->warn("event=journal_replay messages={} file={}", recovered.size(),
            log_value(path));
  for (auto& msg : recovered) {
    ++msg.delivery;
    remember(self, msg.update_id);
  }
  dispatch(self, std::move(recovered));
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
      if (lowest == 0 || msg.update_id < lowest)
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
    --st.unacked_total;
  }
  entry.unacked.clear();
  entry.crashes.clear();
}

void on_child_exit(self_ptr self, int64_t user_id, const caf::error& reason) {
  auto& st = self->state;
  auto log = logger("supervisor");
  auto i = st.users.find(user_id);
  if (i == st.users.end())
    return;
  auto& entry = i->second;
  entry.handle = nullptr;
  bool normal = reason == caf::exit_reason::normal
                || reason == caf::exit_reason::user_shutdown;
  if (normal) {
    if (entry.unacked.empty()) {
      st.users.erase(i);
      return;
    }
    // Stopped while a message was on its way (idle race): start again.
    return spawn_user(self, user_id, entry);
  }
  auto now = clock_type::now();
  auto& cfg = st.ctx->cfg.supervisor;
  entry.crashes.push_back(now);
  while (!entry.crashes.empty()
         && now - entry.crashes.front() > cfg.restart_window)
    entry.crashes.erase(entry.crashes.begin());
  if (entry.crashes.size() > cfg.max_restarts) {
    give_up(self, user_id, entry);
    st.users.erase(i);
    maybe_finish_drain(self);
    return;
  }
  ++entry.restarts;
  ++st.restarts;
  entry.restarting = true;
  auto delay = with_jitter(exponential_delay(
    std::chrono::duration_cast<std::chrono::milliseconds>(cfg.backoff_initial),
    std::chrono::duration_cast<std::chrono::milliseconds>(cfg.backoff_max),
    static_cast<uint32_t>(entry.crashes.size() - 1)));
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
  json_writer w;
  w.begin_object().field("user_id", user_id);
  w.field("queued", uint64_t{entry.unacked.size()});
  node.detail_json = w.end_object().take();
  return node;
}

} // namespace

user_supervisor_state::~user_supervisor_state() {
  // Finishes queued journal writes; no journal thread outlives the actor.
  if (journal_io) {
    post_done_marks(*this);
    journal_io->stop();
  }
}

user_supervisor_actor::behavior_type user_supervisor(self_ptr self,
                                                     context_ptr ctx) {
  self->state.ctx = ctx;
  open_journal(self);
  // An exit of anyone but a child (our parent, an operator) stops us, and
  // the children go with us.
  set_child_exit_handler(self, [self](int64_t user_id, caf::error& reason) {
    on_child_exit(self, user_id, reason);
  });
  return {
    [self](route_atom, inbound_batch& batch) {
      auto& st = self->state;
      auto rp = self->make_response_promise<ok_atom>();
      inbound_batch fresh;
      fresh.reserve(batch.size());
      for (auto& msg : batch) {
        if (!remember(self, msg.update_id)) {
          ++st.duplicates;
          continue;
        }
        if (msg.request_id.empty())
          msg.request_id = new_request_id();
        fresh.push_back(std::move(msg));
      }
      if (fresh.empty() || !st.journal) {
        dispatch(self, std::move(fresh));
        rp.deliver(ok_atom_v);
        return rp;
      }
      // The poller confirms the batch to Telegram once we answer, so it
      // must be on disk first; the write runs on the journal's thread. The
      // users get their messages meanwhile: waiting for the fdatasync put
      // it (1 to 5 ms on ext4 under load) on every message's way. A crash
      // before the write leaves the batch unconfirmed, so Telegram sends it
      // again. The done marks of these messages come after the append: one
      // thread runs the journal's tasks in order.
      auto seq = st.next_batch++;
      auto journal = st.journal;
      auto encoded = encode_journal_batch(fresh);
      st.writing.emplace(seq, rp);
      auto addr = self->address();
      // Done marks collected so far go out with this write.
      auto marks = std::move(st.done_marks);
      st.done_marks.clear();
      st.journal_io->post([journal, encoded = std::move(encoded),
                           marks = std::move(marks), addr, seq] {
        std::string error;
        if (!marks.empty() && !journal->mark_done(marks, error))
          logger("supervisor")->error("event=journal_write_failed error={}",
                                      log_value(error));
        if (!journal->append(encoded, error))
          logger("supervisor")->error("event=journal_write_failed error={} "
                                      "action=route_without_journal",
                                      log_value(error));
        if (auto hdl = caf::actor_cast<user_supervisor_actor>(addr))
          caf::anon_send(hdl, internal_atom_v, journal_atom_v, seq);
      });
      dispatch(self, std::move(fresh));
      return rp;
    },
    [self](internal_atom, journal_atom, uint64_t seq) {
      auto& st = self->state;
      if (seq == flush_done_seq)
        return flush_done(self);
      auto i = st.writing.find(seq);
      if (i == st.writing.end())
        return;
      auto promise = std::move(i->second);
      st.writing.erase(i);
      promise.deliver(ok_atom_v);
      // The poller has this acknowledgement before the drain's answer.
      maybe_finish_drain(self);
    },
    [self](done_atom, int64_t user_id, int64_t update_id) {
      auto& st = self->state;
      auto i = st.users.find(user_id);
      if (i == st.users.end())
        return;
      auto& q = i->second.unacked;
      for (auto j = q.begin(); j != q.end(); ++j)
        if (j->update_id == update_id) {
          q.erase(j);
          --st.unacked_total;
          journal_done(self, update_id);
          break;
        }
      maybe_finish_drain(self);
    },
    [self](drain_atom, caf::timespan grace) {
      auto& st = self->state;
      auto rp = self->make_response_promise<int64_t>();
      if (drained(st)) {
        rp.deliver(int64_t{0});
        return rp;
      }
      logger("supervisor")
        ->info("event=draining pending={} grace_ms={}", st.unacked_total,
               std::chrono::duration_cast<std::chrono::milliseconds>(grace)
                 .count());
      st.draining = true;
      st.drain_promise = rp;
      self->delayed_send(self, grace, internal_atom_v, drain_atom_v);
      return rp;
    },
    [self](internal_atom, drain_atom) {
      auto& st = self->state;
      if (!st.draining)
        return;
      st.draining = false;
      auto lowest = lowest_unfinished(self);
      logger("supervisor")
        ->warn("event=drain_timeout pending={} lowest_update_id={}",
               st.unacked_total, lowest);
      st.drain_promise.deliver(lowest);
    },
    [self](internal_atom, restart_atom, int64_t user_id) {
      auto& st = self->state;
      auto i = st.users.find(user_id);
      if (i == st.users.end() || !i->second.restarting)
        return;
      logger("supervisor")->info("event=user_actor_restarted user={} "
                                 "replayed={}",
                                 user_id, i->second.unacked.size());
      for (auto& msg : i->second.unacked)
        ++msg.delivery;
      spawn_user(self, user_id, i->second);
    },
    [self](container_atom, int64_t user_id, const std::string& state) {
      auto i = self->state.users.find(user_id);
      if (i != self->state.users.end() && i->second.handle)
        self->send(i->second.handle, container_atom_v, state);
    },
    [self](crash_atom, int64_t user_id) {
      auto i = self->state.users.find(user_id);
      if (i == self->state.users.end() || !i->second.handle)
        return false;
      self->send(i->second.handle, crash_atom_v);
      return true;
    },
    [self](stop_atom, int64_t user_id) {
      auto i = self->state.users.find(user_id);
      if (i == self->state.users.end() || !i->second.handle)
        return false;
      // A child unlinks from the sender of an exit message (CAF 0.17), so
      // no exit_msg comes back: its end is handled here, or its messages
      // would go to a dead handle forever.
      auto hdl = i->second.handle;
      self->unlink_from(hdl);
      self->send_exit(hdl, caf::exit_reason::user_shutdown);
      self->state.by_addr.erase(hdl.address());
      on_child_exit(self, user_id, caf::exit_reason::user_shutdown);
      return true;
    },
    [self](status_atom, int64_t user_id) -> caf::result<status_node> {
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
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](status_atom) {
      auto& st = self->state;
      status_node node;
      node.name = "user_supervisor";
      node.id = self->id();
      node.state = st.draining ? "draining" : "running";
      node.mailbox_size = self->mailbox().size();
      json_writer w;
      w.begin_object().field("users", uint64_t{st.users.size()});
      w.field("routed", st.routed).field("duplicates", st.duplicates);
      w.field("pending", uint64_t{st.unacked_total});
      w.field("restarts", st.restarts).field("given_up", st.given_up);
      w.field("spawned", st.spawned);
      node.detail_json = w.end_object().take();
      std::vector<status_child> children;
      for (auto& kvp : st.users) {
        if (kvp.second.handle)
          children.push_back(
            {status_client_actor{kvp.second.handle}, kvp.second.restarts, {}});
        else
          children.push_back(
            {status_client_actor{}, kvp.second.restarts,
             synthesized(kvp.first, kvp.second)});
      }
      return collect_status(self, std::move(node), std::move(children));
    },
  };
}

} // namespace zaki
