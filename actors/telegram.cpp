#include "actors/telegram.hpp"

#include <caf/all.hpp>

#include "runtime/actor_io.hpp"
#include "supervision/backoff.hpp"
#include "json/writer.hpp"
#include "runtime/logging.hpp"
#include "telegram/split.hpp"
#include "telegram/codec.hpp"

namespace zaki {

namespace {

using self_ptr = telegram_actor::stateful_pointer<telegram_state>;
using clock_type = token_bucket::clock;

caf::error make_send_error(const std::string& what) {
  return caf::make_error(caf::sec::runtime_error, what);
}

void pump(self_ptr self);

/// The HTTP request of one Bot API call (the token only in the target, never
/// in the logged one).
http_request_spec bot_request(const telegram_state& st,
                              const std::string& method, std::string body) {
  http_request_spec req;
  req.target = "/bot" + st.ctx->bot_token + "/" + method;
  req.body = std::move(body);
  req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
    st.ctx->cfg.telegram.request_timeout);
  return req;
}

/// Sends one call now. Paced calls (chat != 0) mark their chat busy.
void dispatch(self_ptr self, telegram_op op, bool paced) {
  auto& st = self->state;
  auto seq = st.next_seq++;
  auto req = bot_request(st, op.method, op.body);
  if (paced)
    st.chats.at(op.chat_id).in_flight = true;
  else
    op.attempts |= 0x80000000u; // marks an unpaced call
  st.in_flight.emplace(seq, std::move(op));
  st.client->async_request(std::move(req), reply_to<telegram_actor>(self, seq));
}

void arm_tick(self_ptr self, clock_type::time_point due) {
  auto& st = self->state;
  auto now = clock_type::now();
  if (st.tick_due > now && st.tick_due <= due)
    return; // an earlier tick is armed already
  st.tick_due = due;
  auto delay = std::max(due - now, clock_type::duration{std::chrono::milliseconds(1)});
  self->delayed_send(self, delay, internal_atom_v, tick_atom_v);
}

/// Sends what the rate limits allow and arms a tick for the rest.
void pump(self_ptr self) {
  auto& st = self->state;
  auto now = clock_type::now();
  auto earliest = clock_type::time_point::max();
  auto n = st.ready.size();
  for (size_t i = 0; i < n; ++i) {
    auto chat_id = st.ready.front();
    st.ready.pop_front();
    auto& chat = st.chats.at(chat_id);
    if (chat.queue.empty() || chat.in_flight) {
      chat.ready = false;
      continue;
    }
    if (chat.blocked_until > now) {
      earliest = std::min(earliest, chat.blocked_until);
      st.ready.push_back(chat_id);
      continue;
    }
    if (auto wait = st.global->wait_time(now); wait.count() > 0) {
      earliest = std::min(earliest, now + wait);
      st.ready.push_back(chat_id);
      continue;
    }
    if (!chat.bucket.try_take(now)) {
      earliest = std::min(earliest, now + chat.bucket.wait_time(now));
      st.ready.push_back(chat_id);
      continue;
    }
    st.global->try_take(now);
    chat.ready = false;
    auto op = std::move(chat.queue.front());
    chat.queue.pop_front();
    dispatch(self, std::move(op), true);
  }
  if (earliest != clock_type::time_point::max())
    arm_tick(self, earliest);
}

void mark_ready(self_ptr self, int64_t chat_id) {
  auto& chat = self->state.chats.at(chat_id);
  if (!chat.ready && !chat.in_flight && !chat.queue.empty()) {
    chat.ready = true;
    self->state.ready.push_back(chat_id);
  }
}

telegram_chat& chat_of(self_ptr self, int64_t chat_id) {
  auto& st = self->state;
  auto i = st.chats.find(chat_id);
  if (i == st.chats.end()) {
    auto& cfg = st.ctx->cfg.telegram;
    i = st.chats
          .emplace(chat_id,
                   telegram_chat{{},
                                 token_bucket{cfg.chat_rate,
                                              static_cast<double>(
                                                cfg.chat_burst),
                                              clock_type::now()},
                                 {},
                                 false,
                                 false})
          .first;
  }
  return i->second;
}

/// Returns whether a chat can be forgotten: idle, and its bucket is full
/// again, so a new entry would behave exactly the same.
bool forgettable(telegram_chat& chat, clock_type::time_point now) {
  return chat.queue.empty() && !chat.in_flight && !chat.ready
         && chat.blocked_until <= now && chat.bucket.full(now);
}

/// Idle chats stay until `chat_sweep_at` are known, then all forgettable
/// ones go at once, so memory does not grow with every chat the bot ever
/// answered. (Dropping each chat as soon as its reply was sent cost a map
/// node and a deque, three allocations, per message of a conversation.) The
/// next sweep waits until the map has doubled, so many busy chats cost an
/// amortised O(1) per message, not a full walk each.
void forget_idle_chats(self_ptr self) {
  auto& st = self->state;
  if (st.chats.size() < st.chat_sweep_at)
    return;
  auto now = clock_type::now();
  for (auto i = st.chats.begin(); i != st.chats.end();)
    i = forgettable(i->second, now) ? st.chats.erase(i) : std::next(i);
  st.chat_sweep_at = std::max(telegram_state::min_chat_sweep,
                              2 * st.chats.size());
}

void fail_group(self_ptr self, telegram_op& op, const std::string& why) {
  auto& st = self->state;
  ++st.failed;
  if (op.group && !op.group->failed) {
    op.group->failed = true;
    op.group->promise.deliver(make_send_error(why));
    // Later chunks of the same reply are pointless without this one.
    if (auto i = st.chats.find(op.chat_id); i != st.chats.end()) {
      i->second.queue.remove_if(
        [&](const telegram_op& x) { return x.group == op.group; });
    }
  }
  if (op.has_bool_promise)
    op.bool_promise.deliver(false);
}

void succeed(self_ptr self, telegram_op& op, http_result& res) {
  auto& st = self->state;
  if (op.group) {
    ++st.sent;
    if (auto id = decode_sent_message_id(res.body); id != 0)
      op.group->last_message_id = id;
    if (--op.group->remaining == 0 && !op.group->failed)
      op.group->promise.deliver(op.group->last_message_id);
  }
  if (op.has_bool_promise)
    op.bool_promise.deliver(true);
}

/// Logs and counts, once per call, a reply that retry_after holds beyond
/// telegram.max-wait: the user waits that long for an answer. It stays
/// queued (only its own chat is blocked), since Telegram would reject it
/// sooner anyway.
void report_long_wait(self_ptr self, telegram_op& op,
                      clock_type::time_point until) {
  auto& st = self->state;
  auto max_wait = st.ctx->cfg.telegram.max_wait;
  if (op.held_long || until - op.queued_at <= max_wait)
    return;
  op.held_long = true;
  ++st.held_long;
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  logger("telegram")->warn(
    "event=reply_held_long method={} chat={} held_s={} max_wait_s={} "
    "action=kept_queued request_id={}",
    op.method, op.chat_id, duration_cast<seconds>(until - op.queued_at).count(),
    duration_cast<seconds>(max_wait).count(), op.request_id);
}

/// Handles a finished call; returns true when the op goes back to the head
/// of its chat queue (retry).
bool on_done(self_ptr self, telegram_op& op, http_result& res) {
  auto& st = self->state;
  auto log = logger("telegram");
  auto& cfg = st.ctx->cfg.telegram;
  if (res.ok()) {
    succeed(self, op, res);
    return false;
  }
  bot_api_error api;
  if (res.status != 0)
    decode_api_error(res.body, api);
  auto retry_after = api.retry_after > 0 ? api.retry_after : res.retry_after;
  if (res.status == 429) {
    ++st.rate_limited;
    auto wait = std::chrono::seconds(std::max(1, retry_after));
    log->warn("event=rate_limited method={} chat={} retry_after_s={} "
              "request_id={}",
              op.method, op.chat_id, wait.count(), op.request_id);
    if (op.chat_id != 0) {
      auto& chat = chat_of(self, op.chat_id);
      chat.blocked_until = clock_type::now() + wait;
      chat.bucket.block_until(chat.blocked_until);
      report_long_wait(self, op, chat.blocked_until);
    }
    return true;
  }
  if (res.status == 400 && !op.plain_fallback.empty()
      && api.description.find("can't parse entities") != std::string::npos) {
    log->warn("event=html_rejected chat={} request_id={} action=resend_plain "
              "detail={}",
              op.chat_id, op.request_id, log_value(api.description));
    op.body = encode_send_message(op.chat_id, op.plain_fallback, "",
                                  op.reply_markup);
    op.plain_fallback.clear();
    return true;
  }
  if (res.status == 400
      && api.description.find("message is not modified") != std::string::npos) {
    succeed(self, op, res);
    return false;
  }
  bool transient = res.status == 0 || res.status >= 500;
  if (transient && op.attempts + 1 < cfg.max_send_attempts) {
    ++st.retries;
    auto delay = with_jitter(exponential_delay(std::chrono::milliseconds(500),
                                               std::chrono::seconds(30),
                                               op.attempts++));
    log->warn("event=send_retry method={} chat={} status={} error={} "
              "attempt={} delay_ms={} request_id={}",
              op.method, op.chat_id, res.status, log_value(res.error),
              op.attempts, delay.count(), op.request_id);
    if (op.chat_id != 0)
      chat_of(self, op.chat_id).blocked_until = clock_type::now() + delay;
    return true;
  }
  auto why = res.status == 0 ? res.error
                             : std::to_string(res.status) + " "
                                 + api.description;
  if (res.status == 401)
    log->error("event=send_failed method={} reason=\"the bot token was "
               "rejected (401 Unauthorized)\" request_id={}",
               op.method, op.request_id);
  else
    log->error("event=send_failed method={} chat={} status={} error={} "
               "request_id={}",
               op.method, op.chat_id, res.status, log_value(why), op.request_id);
  fail_group(self, op, why);
  return false;
}

void enqueue_paced(self_ptr self, telegram_op op) {
  op.queued_at = clock_type::now();
  auto chat_id = op.chat_id;
  chat_of(self, chat_id).queue.push_back(std::move(op));
  mark_ready(self, chat_id);
}

} // namespace

telegram_state::~telegram_state() {
  if (client)
    client->shutdown();
}

telegram_actor::behavior_type telegram(self_ptr self, context_ptr ctx) {
  auto& st = self->state;
  st.ctx = ctx;
  auto where = parse_origin(ctx->cfg.telegram.api_root);
  http_client_options opts;
  opts.max_connections = ctx->cfg.telegram.connections;
  opts.max_body = ctx->cfg.telegram.max_body;
  opts.tls = ctx->tls;
  st.client = http_client::make(ctx->io->context(), where.value_or(origin{}),
                                opts);
  st.global = std::make_unique<token_bucket>(
    ctx->cfg.telegram.global_rate,
    static_cast<double>(ctx->cfg.telegram.global_burst), clock_type::now());
  return {
    [self](send_atom, outgoing_text& msg) {
      auto rp = self->make_response_promise<int64_t>();
      if (msg.text.empty()) {
        rp.deliver(make_send_error("empty text"));
        return rp;
      }
      // Plain text is split here; HTML must arrive in chunks that fit (the
      // caller splits the Markdown source, then converts each chunk), since
      // a cut could land inside a tag.
      std::vector<std::string> chunks;
      if (msg.parse_mode.empty())
        chunks = split_message(msg.text);
      else
        chunks.push_back(std::move(msg.text));
      if (chunks.empty()) {
        rp.deliver(make_send_error("empty text"));
        return rp;
      }
      // The plain-text fallback belongs to single-chunk texts.
      auto group = std::make_shared<telegram_send_group>();
      group->promise = rp;
      group->remaining = chunks.size();
      for (size_t i = 0; i < chunks.size(); ++i) {
        telegram_op op;
        op.method = "sendMessage";
        op.chat_id = msg.chat_id;
        bool last = i + 1 == chunks.size();
        op.request_id = last ? std::move(msg.request_id) : msg.request_id;
        if (last)
          op.reply_markup = std::move(msg.reply_markup);
        if (chunks.size() == 1)
          op.plain_fallback = std::move(msg.plain_fallback);
        op.body = encode_send_message(msg.chat_id, chunks[i],
                                      msg.parse_mode, op.reply_markup);
        op.group = group;
        enqueue_paced(self, std::move(op));
      }
      pump(self);
      return rp;
    },
    [self](chat_action_atom, int64_t chat_id, const std::string& action) {
      // Best effort and nobody waits for it: the answer is dropped on the
      // I/O thread instead of coming back as a message (one hop less for
      // every message a user sends).
      auto& st = self->state;
      st.client->async_request(bot_request(st, "sendChatAction",
                                           encode_chat_action(chat_id, action)),
                               [](http_result) {});
    },
    [self](answer_atom, const std::string& callback_id,
           const std::string& text) {
      auto rp = self->make_response_promise<bool>();
      telegram_op op;
      op.method = "answerCallbackQuery";
      op.body = encode_answer_callback(callback_id, text);
      op.bool_promise = rp;
      op.has_bool_promise = true;
      dispatch(self, std::move(op), false);
      return rp;
    },
    [self](delete_atom, int64_t chat_id, int64_t message_id) {
      auto rp = self->make_response_promise<bool>();
      telegram_op op;
      op.method = "deleteMessage";
      op.body = encode_delete_message(chat_id, message_id);
      op.bool_promise = rp;
      op.has_bool_promise = true;
      dispatch(self, std::move(op), false);
      return rp;
    },
    [self](internal_atom, http_done_atom, uint64_t seq, http_result& res) {
      auto& st = self->state;
      auto i = st.in_flight.find(seq);
      if (i == st.in_flight.end())
        return;
      auto op = std::move(i->second);
      st.in_flight.erase(i);
      bool unpaced = (op.attempts & 0x80000000u) != 0;
      op.attempts &= 0x7FFFFFFFu;
      if (unpaced) {
        // Chat actions are best effort; answers and deletes are reported.
        if (res.ok()) {
          if (op.has_bool_promise)
            op.bool_promise.deliver(true);
        } else if (op.has_bool_promise) {
          op.bool_promise.deliver(false);
        }
        return;
      }
      auto chat_id = op.chat_id;
      auto& chat = chat_of(self, chat_id);
      chat.in_flight = false;
      if (on_done(self, op, res))
        chat.queue.push_front(std::move(op));
      mark_ready(self, chat_id);
      forget_idle_chats(self);
      pump(self);
    },
    [self](internal_atom, tick_atom) {
      self->state.tick_due = {};
      pump(self);
    },
    [self](status_atom) {
      auto& st = self->state;
      status_node node;
      node.name = "telegram";
      node.id = self->id();
      node.state = "running";
      node.mailbox_size = self->mailbox().size();
      size_t queued = 0;
      for (auto& kvp : st.chats)
        queued += kvp.second.queue.size();
      json_writer w;
      w.begin_object().field("sent", st.sent).field("failed", st.failed);
      w.field("rate_limited", st.rate_limited).field("retries", st.retries);
      w.field("held_long", st.held_long);
      w.field("queued", uint64_t{queued});
      w.field("in_flight", uint64_t{st.in_flight.size()});
      w.field("chats", uint64_t{st.chats.size()});
      node.detail_json = w.end_object().take();
      return node;
    },
  };
}

} // namespace zaki
