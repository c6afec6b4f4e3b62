#include "actors/poller.hpp"

#include <caf/all.hpp>

#include "messages/peer.hpp"
#include "messages/status_detail.hpp"
#include "runtime/actor_io.hpp"
#include "runtime/logging.hpp"
#include "telegram/codec.hpp"

namespace zaki {

namespace {

using self_ptr = poller_actor::stateful_pointer<poller_state>;

enum : uint64_t { confirm_seq_flag = uint64_t{1} << 63 };

std::chrono::milliseconds ms(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x);
}

void call(self_ptr self, const std::string& method, std::string body,
          std::chrono::milliseconds timeout, uint64_t seq) {
  auto& st = self->state;
  http_request_spec req;
  req.target = "/bot" + st.ctx->bot_token + "/" + method;
  req.body = std::move(body);
  req.timeout = timeout;
  st.client->async_request(std::move(req), reply_to<poller_actor>(self, seq));
}

void poll(self_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  auto& cfg = st.ctx->cfg.telegram;
  ++st.seq;
  if (!st.webhook_deleted) {
    st.phase = poller_phase::delete_webhook;
    // drop_pending_updates stays false: the queue is kept.
    call(self, "deleteWebhook", "{\"drop_pending_updates\":false}",
         ms(cfg.request_timeout), st.seq);
    return;
  }
  st.phase = poller_phase::polling;
  auto timeout_s
    = std::chrono::duration_cast<std::chrono::seconds>(cfg.poll_timeout)
        .count();
  // The HTTP deadline must exceed the long-poll time.
  auto deadline = ms(cfg.poll_timeout) + std::chrono::seconds(10);
  call(self, "getUpdates",
       encode_get_updates(st.offset, cfg.poll_limit, timeout_s), deadline,
       st.seq);
}

void retry_later(self_ptr self, std::chrono::milliseconds delay) {
  self->state.phase = poller_phase::backoff;
  self->delayed_send(self, delay, internal_atom_v, poll_atom_v);
}

void on_error(self_ptr self, http_result& res) {
  auto& st = self->state;
  auto log = logger("poller");
  ++st.failures;
  st.healthy = false;
  bot_api_error api;
  if (res.status != 0)
    decode_api_error(res.body, api);
  auto method = st.webhook_deleted ? "getUpdates" : "deleteWebhook";
  if (res.status == 404 && st.worked) {
    auto delay = st.delay->next();
    st.last_error = "404 Not Found from the Bot API after polling worked: "
      + api.description;
    log->error("event=poll_not_found method={} status=404 "
               "code=ZR-BOT-API-NOT-FOUND message=\"the Bot API answered 404 "
               "although this token worked before; check telegram.api-root "
               "and any proxy in between, retrying\" detail={} "
               "retry_in_ms={}",
               method, log_value(api.description), delay.count());
    return retry_later(self, delay);
  }
  if (res.status == 401 || res.status == 404) {
    // Telegram answers 404 for a token of the wrong shape, 401 for a wrong
    // or revoked one: either way, nothing will work until it is fixed.
    st.phase = poller_phase::fatal;
    st.last_error = "the bot token is invalid";
    log->critical("event=bot_token_invalid status={} code=ZR-BOT-TOKEN-INVALID "
                  "message=\"Telegram rejected the bot token: check "
                  "TELEGRAM_BOT_TOKEN or telegram.token-file\"",
                  res.status);
    st.ctx->exit_code = 2;
    if (auto root = peer<root_actor>(self))
      self->send(root, shutdown_atom_v);
    return;
  }
  if (res.status == 409) {
    st.last_error = "409 Conflict: " + api.description;
    log->error("event=poll_conflict message=\"another poller or a webhook "
               "holds this bot token; make sure only one zaki-router runs "
               "per bot\" detail={}",
               log_value(api.description));
    // A webhook may have been set meanwhile: delete it again, then poll.
    st.webhook_deleted = false;
    return retry_later(self, st.delay->next());
  }
  if (res.status == 429) {
    auto wait
      = std::max(1, api.retry_after > 0 ? api.retry_after : res.retry_after);
    st.last_error = "429 Too Many Requests";
    log->warn("event=poll_rate_limited retry_after_s={}", wait);
    return retry_later(self, std::chrono::seconds(wait));
  }
  auto delay = st.delay->next();
  st.last_error = res.status == 0
    ? res.error
    : std::to_string(res.status) + " " + api.description;
  log->warn("event=poll_failed method={} status={} error={} retry_in_ms={}",
            method, res.status, log_value(st.last_error), delay.count());
  retry_later(self, delay);
}

void on_updates(self_ptr self, http_result& res) {
  auto& st = self->state;
  auto log = logger("poller");
  decode_options opts;
  opts.max_image_bytes
    = static_cast<int64_t>(st.ctx->cfg.media.max_image_bytes);
  auto decoded = decode_updates(res.body, opts);
  if (!decoded.ok) {
    ++st.failures;
    ++st.malformed;
    auto delay = st.delay->next();
    st.last_error = "malformed getUpdates answer: " + decoded.error;
    log->error("event=poll_malformed error={} retry_in_ms={}",
               log_value(decoded.error), delay.count());
    return retry_later(self, delay);
  }
  st.healthy = true;
  st.last_error.clear();
  ++st.polls;
  st.skipped += decoded.skipped;
  if (decoded.skipped > 0)
    log->debug("event=updates_skipped count={} reason=\"not a text message "
               "or button press\"",
               decoded.skipped);
  auto confirmed_malformed = decoded.malformed - decoded.unusable;
  st.malformed += confirmed_malformed;
  if (confirmed_malformed > 0)
    log->warn("event=updates_malformed count={} action=confirmed_and_skipped",
              confirmed_malformed);
  if (decoded.unusable > 0 && st.unusable_logged_at != st.offset) {
    // Telegram sends them again with every poll until a later update lets
    // the offset move past them: say it once per offset, not per poll.
    st.unusable_logged_at = st.offset;
    st.unusable += decoded.unusable;
    log->error("event=updates_unusable count={} offset={} reason=\"update_id "
               "missing, not an integer, below 1 or too large to confirm\" "
               "action=skipped_until_a_later_update",
               decoded.unusable, st.offset);
  }
  if (decoded.max_update_id == 0) {
    if (decoded.unusable == 0) { // the long poll ended without updates
      st.delay->reset();
      return poll(self);
    }
    // Only updates that cannot be confirmed: polling again at once would
    // get them again at once.
    return retry_later(self, st.delay->next());
  }
  st.delay->reset();
  auto next_offset = std::max(st.offset, decoded.max_update_id + 1);
  if (decoded.messages.empty()) {
    st.offset = next_offset;
    return poll(self);
  }
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  for (auto& msg : decoded.messages)
    msg.received_ns
      = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  st.updates += decoded.messages.size();
  auto sup = peer<user_supervisor_actor>(self);
  if (!sup) {
    log->error("event=handover_failed reason=\"no user supervisor\"");
    return retry_later(self, st.delay->next());
  }
  st.phase = poller_phase::handover;
  auto batch_seq = st.seq;
  // The offset advances only once the supervisor has recorded the batch:
  // until then, the next getUpdates would confirm what nobody holds.
  self
    ->request(sup, std::chrono::seconds(10), route_atom_v,
              std::move(decoded.messages))
    .then(
      [self, next_offset, batch_seq](ok_atom) {
        // Recorded by the supervisor: confirmable even if we stop now.
        auto& st = self->state;
        st.offset = std::max(st.offset, next_offset);
        if (st.seq == batch_seq && !st.stopping)
          poll(self);
      },
      [self, log](caf::error& err) {
        log->error("event=handover_failed error={} action=refetch",
                   log_value(self->system().render(err)));
        retry_later(self, self->state.delay->next());
      });
}

} // namespace

poller_state::~poller_state() {
  if (client)
    client->shutdown();
}

poller_actor::behavior_type poller(self_ptr self, context_ptr ctx) {
  auto& st = self->state;
  st.ctx = ctx;
  auto& cfg = ctx->cfg.telegram;
  st.delay = std::make_unique<backoff>(ms(cfg.backoff_initial),
                                       ms(cfg.backoff_max));
  http_client_options opts;
  // One connection for the long poll, one for confirmation at shutdown.
  opts.max_connections = 2;
  opts.max_body = cfg.max_body;
  opts.tls = ctx->tls;
  st.client = http_client::make(
    ctx->io->context(), parse_origin(cfg.api_root).value_or(origin{}), opts);
  self->send(self, internal_atom_v, poll_atom_v);
  return {
    [self](internal_atom, poll_atom) {
      poll(self);
    },
    [self](internal_atom, http_done_atom, uint64_t seq, http_result& res) {
      auto& st = self->state;
      if ((seq & confirm_seq_flag) != 0) {
        if (st.confirm_promise.pending())
          st.confirm_promise.deliver(res.ok());
        return;
      }
      if (seq != st.seq || st.stopping)
        return; // a stale answer (stop or restart of the loop)
      if (!res.ok())
        return on_error(self, res);
      st.worked = true;
      if (!st.webhook_deleted) {
        st.webhook_deleted = true;
        logger("poller")->info("event=webhook_deleted next=long_poll");
        return poll(self);
      }
      on_updates(self, res);
    },
    [self](stop_atom) -> int64_t {
      auto& st = self->state;
      st.stopping = true;
      st.phase = poller_phase::stopped;
      ++st.seq; // ignore the answer of the poll in flight
      return st.offset;
    },
    [self](confirm_atom, int64_t offset) {
      auto& st = self->state;
      auto rp = self->make_response_promise<bool>();
      if (offset <= 0 || st.phase == poller_phase::fatal) {
        rp.deliver(true);
        return rp;
      }
      st.confirm_promise = rp;
      // getUpdates with a higher offset confirms everything below it.
      call(self, "getUpdates", encode_get_updates(offset, 1, 0),
           ms(st.ctx->cfg.telegram.request_timeout),
           confirm_seq_flag | ++st.seq);
      logger("poller")->info("event=offset_confirmed offset={}", offset);
      return rp;
    },
    [self](status_atom) {
      auto& st = self->state;
      status_node node;
      node.name = "poller";
      node.id = self->id();
      node.state = to_string(st.phase);
      node.mailbox_size = self->mailbox().size();
      status_detail w;
      w.begin_object().field("offset", st.offset).field("polls", st.polls);
      w.field("updates", st.updates).field("skipped", st.skipped);
      w.field("malformed", st.malformed).field("failures", st.failures);
      w.field("unusable", st.unusable);
      w.field("healthy", st.healthy);
      if (!st.last_error.empty())
        w.field("last_error", st.last_error);
      node.detail = w.end_object().take();
      return node;
    },
  };
}

} // namespace zaki
