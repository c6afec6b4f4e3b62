#include "actors/user.hpp"

#include <algorithm>

#include <sys/resource.h>

#include <caf/all.hpp>

#include "access/texts.hpp"
#include "actors/store_client.hpp"
#include "actors/user_commands.hpp"
#include "actors/user_limits.hpp"
#include "actors/user_media.hpp"
#include "actors/user_reply.hpp"
#include "actors/user_stream.hpp"
#include "gateway/codec.hpp"
#include "gateway/retry_policy.hpp"
#include "json/writer.hpp"
#include "locks/lock_sweep.hpp"
#include "messages/errors.hpp"
#include "messages/peer.hpp"
#include "runtime/actor_io.hpp"
#include "runtime/logging.hpp"
#include "storage/writable.hpp"
#include "supervision/backoff.hpp"

namespace zaki {

namespace {

using self_ptr = user_actor::stateful_pointer<user_state>;

void start_next(self_ptr self);

void schedule_tick(self_ptr self);

/// A held lock pins one descriptor. Lingering locks may take a quarter of
/// the descriptor limit; the rest is for the gateway connections (one per
/// active user) and the locks of exchanges in flight.
uint64_t linger_budget() {
  static const uint64_t budget = [] {
    struct rlimit lim;
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
      return uint64_t{1024};
    return static_cast<uint64_t>(lim.rlim_cur) / 4;
  }();
  return budget;
}

/// The exchange is over: keeps the session lock for `lock.linger` (the
/// next message of a conversation then needs no new lock file), or
/// releases it at once when the linger is 0 or too many locks are held.
void linger_lock(self_ptr self) {
  auto& st = self->state;
  if (!st.lock.held() || st.session.lock_release_due)
    return;
  if (st.ctx->cfg.lock.linger <= caf::timespan{0}
      || lock_counters_snapshot().held > linger_budget()) {
    st.lock.release();
    return;
  }
  st.session.lock_release_due = self->clock().now() + st.ctx->cfg.lock.linger;
}

std::chrono::milliseconds ms(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x);
}

/// Reports the current message as handled and moves on to the next one.
void finish(self_ptr self) {
  auto& st = self->state;
  linger_lock(self);
  if (!st.pending_callback.empty()) {
    // A Retry press that ended before the lookup answered (an error
    // message went out instead): every press gets its toast.
    answer_callback(self, st.pending_callback, callback_reply::retrying,
                    st.current ? st.current->request_id : std::string{});
    st.pending_callback.clear();
  }
  st.provision_only = false;
  st.retry_of.clear();
  reset_media(self);
  if (st.current) {
    if (auto sup = peer<user_supervisor_actor>(self))
      self->send(sup, done_atom_v, st.user_id, st.current->update_id);
    st.current.reset();
  }
  st.session.message_finished(self->clock().now());
  st.last_activity = std::chrono::steady_clock::now();
  start_next(self);
  schedule_tick(self);
}

void ensure_gateway(self_ptr self) {
  auto& st = self->state;
  if (st.gateway && st.gateway->where().host == st.record.host
      && st.gateway->where().port == st.record.port)
    return;
  if (st.gateway)
    st.gateway->shutdown();
  origin where;
  where.host = st.record.host;
  where.port = st.record.port;
  http_client_options opts;
  opts.max_connections = 1;
  opts.max_body = st.ctx->cfg.gateway.max_body;
  st.gateway = http_client::make(st.ctx->io->context(), where, opts);
}

/// Arms a tick for `due` unless an armed one fires by then (it re-arms
/// what is still needed when it fires).
void arm_tick(self_ptr self, user_state::tick_time due) {
  if (!self->state.session.needs_timer(due))
    return;
  auto now = self->clock().now();
  auto delay = due > now ? due - now : caf::timespan{0};
  self->delayed_send(self, std::max(delay, caf::timespan{1}), internal_atom_v,
                     typing_atom_v,
                     static_cast<uint64_t>(due.time_since_epoch().count()));
}

/// Arms a tick for the earliest deadline still ahead, if any.
void schedule_tick(self_ptr self) {
  auto& st = self->state;
  if (auto need = st.session.next_deadline(st.current.has_value(),
                                           st.queue.empty(),
                                           st.ctx->cfg.user.idle_timeout))
    arm_tick(self, *need);
}

void send_typing(self_ptr self) {
  auto& st = self->state;
  if (auto tg = peer<telegram_actor>(self))
    self->send(tg, chat_action_atom_v, st.current->chat_id,
               std::string{"typing"});
  st.session.typing_due = self->clock().now()
    + st.ctx->cfg.user.typing_interval;
  schedule_tick(self);
}

void call_gateway(self_ptr self) {
  auto& st = self->state;
  auto& msg = *st.current;
  ++st.seq;
  ++st.attempt;
  st.session.phase = user_phase::calling;
  st.call_started = std::chrono::steady_clock::now();
  logger("user")->info("event=gateway_call msg=\"→ Sending to container on "
                       "port {}\" user={} port={} attempt={} request_id={}",
                       st.record.port, st.user_id, st.record.port, st.attempt,
                       msg.request_id);
  http_request_spec req;
  req.target = "/v1/chat/completions";
  if (streaming_enabled(self))
    prepare_stream_request(self, req, st.seq);
  else
    req.body = encode_chat_request(st.ctx->cfg.gateway.model, st.user_id,
                                   msg.text);
  apply_image(self, req, streaming_enabled(self));
  req.authorization = "Bearer " + st.record.token;
  // A non-streamed answer sends no byte before it is complete: a wait
  // beyond the idle timeout is a hang. A streamed one is watched byte by
  // byte (req.idle_timeout), and only gateway.timeout bounds it whole.
  req.timeout = streaming_enabled(self)
    ? ms(st.ctx->cfg.gateway.timeout)
    : ms(
      std::min(st.ctx->cfg.gateway.timeout, gateway_idle_timeout(st.ctx->cfg)));
  st.gateway->async_request(std::move(req), reply_to<user_actor>(self, st.seq));
  auto notice_after = st.ctx->cfg.gateway.notice_after;
  if (!st.session.working_notice_due && notice_after > caf::timespan{0}) {
    st.session.working_notice_due = self->clock().now() + notice_after;
    schedule_tick(self);
  }
  if (st.session.typing_due) // a retry: "typing" is already scheduled
    return;
  if (st.ctx->cfg.user.typing_delay <= caf::timespan{0})
    return send_typing(self);
  st.session.typing_due = self->clock().now() + st.ctx->cfg.user.typing_delay;
  schedule_tick(self);
}

/// One non-blocking attempt at the session lock; a held lock is retried by
/// a timer (50 ms growing to 1 s) until `lock.timeout`.
void acquire_lock_then_call(self_ptr self) {
  auto& st = self->state;
  auto& msg = *st.current;
  auto log = logger("user");
  // A lock kept from the previous exchange is taken over, not released.
  st.session.lock_release_due.reset();
  if (st.lock.held()) {
    st.lock_attempts = 0;
    return call_gateway(self);
  }
  auto res = st.lock.try_acquire();
  if (res.state == acquire_state::acquired) {
    if (!res.reclaimed.empty())
      log->warn("event=lock_reclaimed user={} reason={} request_id={}",
                st.user_id, res.reclaimed, msg.request_id);
    st.lock_attempts = 0;
    return call_gateway(self);
  }
  if (res.state == acquire_state::error) {
    log->error("event=lock_error user={} error={} request_id={}", st.user_id,
               log_value(res.error), msg.request_id);
    // A read-only or missing data root is the operator's to fix: say so
    // instead of "something went wrong".
    if (auto why = unwritable_reason(st.ctx->cfg.store.data_root);
        !why.empty()) {
      log->error("event=storage_unwritable user={} reason={} request_id={}",
                 st.user_id, log_value(why), msg.request_id);
      ++st.failed;
      return reply_with_failure(self, error_code::storage_unwritable);
    }
    return reply_internal_error(self, "session lock: " + res.error);
  }
  auto now = std::chrono::steady_clock::now();
  if (st.lock_attempts++ == 0) {
    st.lock_wait_started = now;
    log->info("event=lock_wait user={} owner={} request_id={}", st.user_id,
              log_value(describe(res.owner)), msg.request_id);
  }
  if (now - st.lock_wait_started >= st.ctx->cfg.lock.timeout) {
    log->error("event=lock_timeout user={} owner={} waited_ms={} "
               "request_id={}",
               st.user_id, log_value(describe(res.owner)),
               std::chrono::duration_cast<std::chrono::milliseconds>(
                 now - st.lock_wait_started)
                 .count(),
               msg.request_id);
    st.lock_attempts = 0;
    ++st.failed;
    return reply_with_failure(self, error_code::session_lock_timeout);
  }
  st.session.phase = user_phase::locking;
  self->delayed_send(self, retry_delay(st.lock_attempts), internal_atom_v,
                     lock_atom_v, st.seq);
}

/// OpenClaw (<= 2026.7) answers 500 "session file locked" when a crashed
/// process left its `*.jsonl.lock` behind: sweep the user's dir and try once
/// more.
bool sweep_gateway_locks(self_ptr self) {
  auto& st = self->state;
  if (st.swept_gateway_locks)
    return false;
  st.swept_gateway_locks = true;
  sweep_options opts;
  opts.clean = true;
  opts.max_age = std::chrono::duration_cast<std::chrono::milliseconds>(
    st.ctx->cfg.lock.max_age);
  auto report = sweep_user_dir(st.ctx->cfg.store.data_root, st.user_id, opts);
  size_t removed = 0;
  for (auto& entry : report.locks)
    removed += entry.removed ? 1 : 0;
  logger("user")->warn("event=gateway_session_locked user={} action=sweep "
                       "removed={} request_id={}",
                       st.user_id, removed, st.current->request_id);
  return true;
}

void on_gateway_result(self_ptr self, http_result& res) {
  auto& st = self->state;
  auto& msg = *st.current;
  auto log = logger("user");
  auto answer = classify_current(self, res);
  st.last_latency_us = res.latency_us;
  if (answer.outcome == gateway_outcome::answered) {
    log->info("event=gateway_answer msg=\"← Response received\" user={} "
              "status={} latency_ms={:.1f} bytes={} request_id={}",
              st.user_id, res.status, res.latency_us / 1000.0,
              answer.content.size(), msg.request_id);
    st.session.phase = user_phase::replying;
    linger_lock(self); // the exchange is over; Telegram needs no lock
    answer.content = send_answer_files(self, std::move(answer.content));
    record_answer(self->system(), st.ctx->cfg.store.transcripts, st.user_id,
                  msg.request_id, msg.text, answer);
    count_answer_tokens(self, answer);
    // Into the inbox journal before Telegram sees any of it: a replay
    // after a crash then re-sends this answer instead of asking again.
    return journal_answer_then(self, answer.content, [self, answer]() mutable {
      if (stream_shown(self))
        return finish_stream(self, std::move(answer));
      deliver_answer(self, std::move(answer.content));
    });
  }
  retry_input in;
  in.status = res.status;
  in.failure = res.failure;
  in.retry_after = res.retry_after;
  in.outcome = answer.outcome;
  in.error_type = answer.error_type;
  in.attempt = st.attempt;
  in.max_attempts = st.ctx->cfg.gateway.attempts;
  in.backoff_initial = ms(st.ctx->cfg.gateway.backoff_initial);
  in.wait_budget = ms(st.ctx->cfg.gateway.timeout);
  auto verdict = decide_retry(in);
  // Text already shown is not replaced by a silent second attempt.
  bool retry = verdict.retry && !stream_shown(self);
  if (!stream_shown(self) && image_refused(self, res, answer)) {
    st.session.phase = user_phase::backoff;
    self->send(self, internal_atom_v, retry_atom_v, st.seq);
    return;
  }
  if (answer.outcome == gateway_outcome::session_locked
      && sweep_gateway_locks(self)) {
    st.session.phase = user_phase::backoff;
    self->send(self, internal_atom_v, retry_atom_v, st.seq);
    return;
  }
  // The address or token may be what failed: the next attempt or message
  // looks the user up again.
  st.record_fresh_until.reset();
  auto detail = res.status == 0 ? res.error
                                : std::to_string(res.status) + " "
      + answer.error_type + " " + answer.error_message;
  if (retry) {
    auto delay = verdict.jitter ? with_jitter(verdict.delay) : verdict.delay;
    log->warn("event=gateway_retry user={} port={} status={} failure={} "
              "error={} attempt={} retry_in_ms={} reason={} request_id={}",
              st.user_id, st.record.port, res.status, to_string(res.failure),
              log_value(detail), st.attempt, delay.count(),
              to_string(verdict.reason), msg.request_id);
    st.session.phase = user_phase::backoff;
    self->delayed_send(self, delay, internal_atom_v, retry_atom_v, st.seq);
    return;
  }
  linger_lock(self);
  log->error("event=gateway_failed user={} port={} status={} failure={} "
             "outcome={} error={} attempts={} reason={} request_id={}",
             st.user_id, st.record.port, res.status, to_string(res.failure),
             static_cast<int>(answer.outcome), log_value(detail), st.attempt,
             to_string(verdict.reason), msg.request_id);
  ++st.failed;
  auto code = stream_failure_code(self, res, answer);
  if (stream_shown(self))
    return fail_stream(self, code);
  reply_with_failure(self, code);
}

void on_ensure_failed(self_ptr self, caf::error& err) {
  auto& st = self->state;
  auto code = code_of(err);
  logger("user")->warn("event=container_unavailable user={} code={} "
                       "error={} request_id={}",
                       st.user_id, to_string(code),
                       log_value(self->system().render(err)),
                       st.current->request_id);
  if (code == errc::not_provisioned)
    return st.retry_of.empty() ? reply_not_provisioned(self)
                               : reply_retry_for_unknown_user(self);
  ++st.failed;
  reply_container_error(self, code);
}

void route_to_record(self_ptr self);

void on_lookup(self_ptr self, const user_lookup& found) {
  auto& st = self->state;
  auto& msg = *st.current;
  if (!found.found) {
    logger("user")->warn("event=user_unknown user={} request_id={} "
                         "reason=\"not in users.json\"",
                         st.user_id, msg.request_id);
    // A Retry of a user removed meanwhile gets a toast, not an error.
    if (!st.retry_of.empty())
      return reply_retry_for_unknown_user(self);
    ++st.failed;
    return reply_not_provisioned(self);
  }
  st.record = found.record;
  if (st.ctx->cfg.user.record_ttl > caf::timespan{0})
    st.record_fresh_until = self->clock().now() + st.ctx->cfg.user.record_ttl;
  route_to_record(self);
}

/// The user's record is known (looked up or still fresh): provisions only,
/// or goes on to the session lock and the gateway.
void route_to_record(self_ptr self) {
  auto& st = self->state;
  auto& msg = *st.current;
  if (!st.pending_callback.empty()) {
    answer_callback(self, st.pending_callback, callback_reply::retrying,
                    msg.request_id);
    st.pending_callback.clear();
  }
  if (st.provision_only) {
    logger("user")->info("event=provisioned user={} container={} "
                         "request_id={}",
                         st.user_id, st.record.container, msg.request_id);
    return reply_provisioned(self);
  }
  logger("user")->info("event=routing msg=\"→ Routing to container\" user={} "
                       "container={} request_id={}",
                       st.user_id, st.record.container, msg.request_id);
  ensure_gateway(self);
  st.attempt = 0;
  st.swept_gateway_locks = false;
  if (fetch_media(self))
    return;
  acquire_lock_then_call(self);
}

void proceed(self_ptr self);

void lookup(self_ptr self);

/// Asks the access actor once per actor life whether this user may use the
/// bot, before anything reaches a container or gateway. A held message
/// goes back to the front of the queue, which waits for the decision.
void check_access(self_ptr self) {
  auto& st = self->state;
  auto gate = peer<access_actor>(self);
  if (!gate || st.ctx->cfg.access.policy == "open") {
    // No access actor (tests of other parts, the open policy): as before.
    st.admitted = true;
    return proceed(self);
  }
  st.session.phase = user_phase::access;
  auto seq = ++st.seq;
  self
    ->request(gate, std::chrono::seconds(30), admit_atom_v, st.user_id,
              st.current->chat_id)
    .then(
      [self, seq](const std::string& verdict) {
        auto& st = self->state;
        if (st.seq != seq || !st.current)
          return;
        if (verdict == "admit") {
          st.admitted = true;
          return proceed(self);
        }
        if (verdict != "admit" && st.current->is_callback()) {
          // A press of someone not let in (yet) is answered, never held:
          // none of our buttons is theirs to press.
          logger("user")->warn("event=callback_rejected user={} "
                               "reason=not_admitted request_id={}",
                               st.user_id, st.current->request_id);
          answer_callback(self, st.current->callback_id,
                          callback_reply::unknown_button,
                          st.current->request_id);
          st.held = verdict == "hold";
          return finish(self);
        }
        if (verdict == "hold") {
          logger("user")->info("event=held user={} queued={} request_id={}",
                               st.user_id, st.queue.size() + 1,
                               st.current->request_id);
          st.held = true;
          // Held messages live in this actor (which does not stop while it
          // holds any) and stay in the journal, so a router restart replays
          // them into the same hold; the supervisor no longer counts them,
          // so a pending user does not make every shutdown wait its grace.
          if (auto sup = peer<user_supervisor_actor>(self)) {
            self->send(sup, held_atom_v, st.user_id, st.current->update_id);
            for (auto& queued : st.queue)
              self->send(sup, held_atom_v, st.user_id, queued.update_id);
          }
          st.queue.insert(st.queue.begin(), std::move(*st.current));
          st.current.reset();
          st.session.phase = user_phase::held;
          return;
        }
        finish(self); // refused: the access actor told the user why
      },
      [self, seq](caf::error& err) {
        auto& st = self->state;
        if (st.seq != seq || !st.current)
          return;
        reply_internal_error(self,
                             "access check: " + self->system().render(err));
      });
}

/// An access decision about this user arrived (from an admin).
void on_access(self_ptr self, const std::string& status) {
  auto& st = self->state;
  logger("user")->info("event=access_changed user={} status={} held={}",
                       st.user_id, status, st.held ? st.queue.size() : 0);
  if (status == "approved") {
    st.admitted = true;
    st.held = false;
    st.held_overflow_told = false;
    return start_next(self);
  }
  st.admitted = false;
  st.record_fresh_until.reset();
  if ((status == "rejected" || status == "revoked") && st.held) {
    // They were told once; what they sent meanwhile is not answered (and
    // leaves the journal).
    st.held = false;
    if (auto sup = peer<user_supervisor_actor>(self))
      for (auto& queued : st.queue)
        self->send(sup, done_atom_v, st.user_id, queued.update_id);
    st.queue.clear();
    st.session.rate_due.reset();
    st.front_waited = false;
    st.session.idle_since = self->clock().now();
    schedule_tick(self);
  }
}

void start_next(self_ptr self) {
  auto& st = self->state;
  if (st.current || st.queue.empty() || st.held)
    return;
  // Over the rate the message stays queued until the tick (`rate_due`).
  if (!rate_allows(self))
    return schedule_tick(self);
  st.current = std::move(st.queue.front());
  st.queue.erase(st.queue.begin());
  auto& msg = *st.current;
  auto& trigger = st.ctx->cfg.user.crash_trigger;
  if (!trigger.empty() && msg.delivery == 0
      && msg.text.find(trigger) != std::string::npos)
    throw std::runtime_error("crash trigger (fault injection)");
  logger("user")->info("event=message msg=\"📨 Message from {}\" user={} "
                       "chat={} update_id={} chars={} request_id={}",
                       st.user_id, st.user_id, msg.chat_id, msg.update_id,
                       msg.text.size(), msg.request_id);
  // An answer recorded before a crash goes out again as it was: it passed
  // every check before the gateway was asked.
  if (msg.answered)
    return replay_answer(self);
  // Kinds the bot only answers with a notice, and groups it ignores, need
  // no decision about the user.
  if (handle_media_locally(self))
    return;
  if (!st.admitted)
    return check_access(self);
  proceed(self);
}

/// The user may use the bot: commands, then the container and gateway.
void proceed(self_ptr self) {
  if (handle_locally(self))
    return;
  // Over the daily token budget nothing reaches a container.
  if (!budget_allows(self))
    return;
  lookup(self);
}

/// Finds the user's container (provisioner or store), then routes to it.
void lookup(self_ptr self) {
  auto& st = self->state;
  st.session.phase = user_phase::lookup;
  st.session.typing_due.reset();
  ++st.seq;
  auto seq = st.seq;
  // The lookup's deadline is checked by the actor's tick rather than by a
  // request timeout (a CAF timer per message): the answer of a lookup that
  // gave up is ignored by its sequence number.
  auto now = self->clock().now();
  if (st.record_fresh_until && now < *st.record_fresh_until
      && !st.provision_only && st.retry_of.empty()
      && st.pending_callback.empty())
    return route_to_record(self);
  st.record_fresh_until.reset();
  auto on_error = [self, seq](caf::error& err) {
    if (self->state.seq == seq && self->state.current) {
      self->state.session.lookup_pending = false;
      on_ensure_failed(self, err);
    }
  };
  auto prov = peer<provisioner_actor>(self);
  if (prov) {
    // The provisioner answers once the container is up: a new user's
    // container is created first, a restarting one is waited for.
    st.session.lookup_started(now + st.ctx->cfg.user.ensure_timeout,
                              now + std::chrono::seconds(3));
    self->request(prov, caf::infinite, ensure_atom_v, st.user_id)
      .then(
        [self, seq](user_record& rec) {
          if (self->state.seq == seq && self->state.current) {
            self->state.session.lookup_pending = false;
            on_lookup(self, user_lookup{true, std::move(rec)});
          }
        },
        on_error);
    schedule_tick(self);
    return;
  }
  auto store = peer<store_actor>(self);
  if (!store)
    return reply_internal_error(self, "store unavailable");
  st.session.lookup_started(now + std::chrono::seconds(10), std::nullopt);
  self->request(store, caf::infinite, get_atom_v, st.user_id)
    .then(
      [self, seq](const user_lookup& found) {
        if (self->state.seq == seq && self->state.current) {
          self->state.session.lookup_pending = false;
          on_lookup(self, found);
        }
      },
      on_error);
  schedule_tick(self);
}

/// The actor's one timer fired: does what is due and re-arms for the rest.
void on_tick(self_ptr self, uint64_t due_count) {
  auto& st = self->state;
  st.session.timer_fired(user_state::tick_time{user_state::tick_time::duration{
    static_cast<user_state::tick_time::rep>(due_count)}});
  auto work = st.session.take_due(self->clock().now(), st.current.has_value(),
                                  st.queue.empty(),
                                  st.ctx->cfg.user.idle_timeout);
  if (work.release_lock)
    st.lock.release();
  if (work.idle_stop) {
    logger("user")->debug("event=idle_stop user={}", st.user_id);
    self->quit();
    return;
  }
  if (work.start_next)
    start_next(self); // a token for the message at the front of the queue
  if (work.setup_notice)
    send_setup_notice(self);
  if (work.lookup_timeout) {
    // As a request timeout would: the late answer is ignored.
    ++st.seq;
    auto err = caf::make_error(caf::sec::request_timeout);
    return on_ensure_failed(self, err);
  }
  if (work.working_notice) {
    logger("user")->info("event=still_working_notice user={} request_id={}",
                         st.user_id, st.current->request_id);
    send_working_notice(self);
  }
  if (work.typing)
    return send_typing(self); // re-arms
  schedule_tick(self);
}

} // namespace

user_state::~user_state() {
  if (gateway)
    gateway->shutdown();
}

void user_finish(user_self self) {
  finish(self);
}

void user_media_continue(user_self self) {
  acquire_lock_then_call(self);
}

void user_budget_continue(user_self self) {
  lookup(self);
}

user_actor::behavior_type user(self_ptr self, context_ptr ctx,
                               int64_t user_id) {
  self->state.ctx = ctx;
  self->state.user_id = user_id;
  session_lock_options lock_opts;
  lock_opts.max_age = std::chrono::duration_cast<std::chrono::milliseconds>(
    ctx->cfg.lock.max_age);
  lock_opts.instance = ctx->instance_id;
  self->state.lock = session_lock{ctx->cfg.store.data_root, user_id,
                                  std::move(lock_opts)};
  // The idle stop is a deadline of the actor's tick, not a receive timeout
  // (CAF re-arms that timer after every activation).
  self->state.session.idle_since = self->clock().now();
  init_limits(self);
  schedule_tick(self);
  self->set_exception_handler([self](std::exception_ptr& eptr) -> caf::error {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      // keep "unknown exception"
    }
    logger("user")->error("event=user_actor_exception user={} error={}",
                          self->state.user_id, log_value(what));
    return caf::make_error(caf::sec::runtime_error, std::move(what));
  });
  return {
    [self](route_atom, inbound_message& msg) {
      auto& st = self->state;
      st.last_activity = std::chrono::steady_clock::now();
      if (take_edit(self, msg) || intercept_stop(self, msg))
        return;
      if (st.held && msg.is_callback()) {
        logger("user")->warn("event=callback_rejected user={} "
                             "reason=not_admitted request_id={}",
                             st.user_id, msg.request_id);
        answer_callback(self, msg.callback_id, callback_reply::unknown_button,
                        msg.request_id);
        if (auto sup = peer<user_supervisor_actor>(self))
          self->send(sup, done_atom_v, st.user_id, msg.update_id);
        return;
      }
      if (st.held
          && st.queue.size() >= st.ctx->cfg.access.max_pending_messages) {
        logger("user")->warn("event=held_dropped user={} held={} "
                             "request_id={}",
                             st.user_id, st.queue.size(), msg.request_id);
        if (!st.held_overflow_told) {
          st.held_overflow_told = true;
          send_text(self, msg.chat_id, held_overflow_text(st.queue.size()),
                    msg.request_id);
        }
        if (auto sup = peer<user_supervisor_actor>(self))
          self->send(sup, done_atom_v, st.user_id, msg.update_id);
        return;
      }
      if (st.held) {
        // Kept for after the decision (see check_access).
        if (auto sup = peer<user_supervisor_actor>(self))
          self->send(sup, held_atom_v, st.user_id, msg.update_id);
        st.queue.push_back(std::move(msg));
        return;
      }
      if (st.queue.size() >= st.ctx->cfg.user.max_queue) {
        logger("user")->warn("event=queue_full user={} queued={} "
                             "request_id={}",
                             st.user_id, st.queue.size(), msg.request_id);
        return reply_queue_full(self, msg);
      }
      st.queue.push_back(std::move(msg));
      start_next(self);
    },
    [self](crash_atom) {
      throw std::runtime_error("crash requested (fault injection)");
    },
    [self](access_atom, const std::string& status) {
      on_access(self, status);
    },
    [self](internal_atom, http_done_atom, uint64_t seq, http_result& res) {
      auto& st = self->state;
      if (!st.current || seq != st.seq
          || st.session.phase != user_phase::calling)
        return;
      on_gateway_result(self, res);
    },
    [self](internal_atom, retry_atom, uint64_t seq) {
      auto& st = self->state;
      if (st.current && seq == st.seq
          && st.session.phase == user_phase::backoff)
        call_gateway(self);
    },
    [self](internal_atom, typing_atom, uint64_t due) {
      on_tick(self, due);
    },
    [self](container_atom, const std::string& state) {
      logger("user")->info("event=container_state user={} state={}",
                           self->state.user_id, state);
      self->state.container_state = state;
      self->state.record_fresh_until.reset();
    },
    [self](internal_atom, lock_atom, uint64_t seq) {
      auto& st = self->state;
      if (st.current && seq == st.seq
          && st.session.phase == user_phase::locking)
        acquire_lock_then_call(self);
    },
    [self](internal_atom, stream_atom, uint64_t seq, std::string& delta) {
      on_stream_delta(self, seq, delta);
    },
    [self](internal_atom, fetched_atom, uint64_t seq, http_result& res) {
      on_fetched(self, seq, res);
    },
    [self](stream_atom, const std::string& request_id, int64_t message_id) {
      on_preview_sent(self, request_id, message_id);
    },
    [self](status_atom) {
      return user_status(self);
    },
  };
}

} // namespace zaki
