#include "actors/telegram.hpp"
#include "messages/status_detail.hpp"

#include <tuple>

#include <caf/all.hpp>

#include "runtime/actor_io.hpp"
#include "runtime/logging.hpp"
#include "runtime/metrics.hpp"
#include "supervision/backoff.hpp"
#include "telegram/codec.hpp"
#include "telegram/markdown.hpp"
#include "telegram/split.hpp"

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

/// Sends one call now. The pacer released paced calls (their chat is busy
/// until the call finished); unpaced ones are marked as such.
void dispatch(self_ptr self, telegram_op op, bool paced) {
  auto& st = self->state;
  auto seq = st.next_seq++;
  auto req = bot_request(st, op.method, op.body);
  if (paced)
    ++st.paced_in_flight;
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
  auto delay = std::max(due - now,
                        clock_type::duration{std::chrono::milliseconds(1)});
  self->delayed_send(self, delay, internal_atom_v, tick_atom_v);
}

/// Sends what the rate limits allow and arms a tick for the rest.
void pump(self_ptr self) {
  auto& st = self->state;
  if (st.paced_in_flight >= st.max_paced_in_flight)
    return; // the next finished call pumps again
  auto earliest = st.pacer->release(
    clock_type::now(),
    [self](int64_t, telegram_op op) {
      dispatch(self, std::move(op), true);
    },
    st.max_paced_in_flight - st.paced_in_flight);
  if (earliest != clock_type::time_point::max())
    arm_tick(self, earliest);
}

void fail_group(self_ptr self, telegram_op& op, const std::string& why) {
  auto& st = self->state;
  ++st.failed;
  if (op.group && !op.group->failed) {
    op.group->failed = true;
    op.group->promise.deliver(make_send_error(why));
    // Later chunks of the same reply are pointless without this one.
    st.pacer->remove_if(op.chat_id, [&](const telegram_op& x) {
      return x.group == op.group;
    });
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
  logger("telegram")
    ->warn("event=reply_held_long method={} chat={} held_s={} max_wait_s={} "
           "action=kept_queued request_id={}",
           op.method, op.chat_id,
           duration_cast<seconds>(until - op.queued_at).count(),
           duration_cast<seconds>(max_wait).count(), op.request_id);
}

/// Handles a finished call; returns true when the op goes back to the head
/// of its chat queue (retry).
void on_stream_done(self_ptr self, telegram_op& op, http_result& res);

bool on_done(self_ptr self, telegram_op& op, http_result& res) {
  auto& st = self->state;
  auto log = logger("telegram");
  auto& cfg = st.ctx->cfg.telegram;
  if (!op.stream_key.empty()) {
    // Previews are never retried: the next edit carries newer text.
    on_stream_done(self, op, res);
    return false;
  }
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
      auto now = clock_type::now();
      st.pacer->block(op.chat_id, now + wait, true, now);
      report_long_wait(self, op, now + wait);
    }
    return true;
  }
  if (res.status == 400 && !op.plain_fallback.empty()
      && api.description.find("can't parse entities") != std::string::npos) {
    log->warn("event=html_rejected chat={} request_id={} action=resend_plain "
              "detail={}",
              op.chat_id, op.request_id, log_value(api.description));
    op.body = op.edit_message_id != 0
      ? encode_edit_message_text(op.chat_id, op.edit_message_id,
                                 op.plain_fallback, "", op.reply_markup)
      : encode_send_message(op.chat_id, op.plain_fallback, "", op.reply_markup);
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
    auto delay = with_jitter(exponential_delay(
      std::chrono::milliseconds(500), std::chrono::seconds(30), op.attempts++));
    log->warn("event=send_retry method={} chat={} status={} error={} "
              "attempt={} delay_ms={} request_id={}",
              op.method, op.chat_id, res.status, log_value(res.error),
              op.attempts, delay.count(), op.request_id);
    if (op.chat_id != 0) {
      auto now = clock_type::now();
      st.pacer->block(op.chat_id, now + delay, false, now);
    }
    return true;
  }
  auto why = res.status == 0
    ? res.error
    : std::to_string(res.status) + " " + api.description;
  if (res.status == 401)
    log->error("event=send_failed method={} reason=\"the bot token was "
               "rejected (401 Unauthorized)\" request_id={}",
               op.method, op.request_id);
  else
    log->error("event=send_failed method={} chat={} status={} error={} "
               "request_id={}",
               op.method, op.chat_id, res.status, log_value(why),
               op.request_id);
  fail_group(self, op, why);
  return false;
}

void enqueue_paced(self_ptr self, telegram_op op) {
  auto now = clock_type::now();
  op.queued_at = now;
  auto chat_id = op.chat_id;
  self->state.pacer->push(chat_id, std::move(op), now);
}

// -- streamed answers ---------------------------------------------------------

histogram& first_preview_seconds() {
  static auto& h = metrics()
                     .histograms("zaki_stream_first_preview_seconds",
                                 "time from a streamed answer's first text to "
                                 "its first preview in Telegram",
                                 {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10})
                     .get();
  return h;
}

counter& stream_counter(const char* name, const char* help) {
  return metrics().get_counter(name, help);
}

/// Answers the user actor waiting for the first preview (it stops
/// "typing" then), once.
void tell_first_shown(telegram_stream& s, int64_t message_id) {
  if (!s.first_pending)
    return;
  s.first_pending = false;
  s.first_shown.deliver(message_id);
}

/// Forgets streams without an update for 30 minutes that never ended: their
/// user actor died mid-answer (a crash; a restarted one answers anew). The
/// walk runs once per 256 new streams, so it costs O(1) per stream.
void forget_orphan_streams(self_ptr self) {
  auto& st = self->state;
  if (st.stream_answers % 256 != 0)
    return;
  auto now = clock_type::now();
  for (auto i = st.streams.begin(); i != st.streams.end();) {
    if (now - i->second.last_update > std::chrono::minutes(30)
        && !i->second.edit.in_flight()) {
      logger("telegram")
        ->warn("event=stream_orphaned chat={} request_id={}", i->second.chat_id,
               i->second.request_id);
      tell_first_shown(i->second, 0);
      i = st.streams.erase(i);
    } else {
      ++i;
    }
  }
}

telegram_stream& stream_of(self_ptr self, const stream_update& up) {
  auto& st = self->state;
  auto i = st.streams.find(up.request_id);
  if (i == st.streams.end()) {
    forget_orphan_streams(self);
    auto& cfg = st.ctx->cfg.stream;
    stream_edit::options opts;
    opts.edit_interval = std::max<caf::timespan>(
      cfg.edit_interval, std::chrono::milliseconds(250));
    opts.first_preview = cfg.first_preview;
    i = st.streams
          .emplace(std::piecewise_construct,
                   std::forward_as_tuple(up.request_id),
                   std::forward_as_tuple(opts, clock_type::now()))
          .first;
    i->second.chat_id = up.chat_id;
    i->second.request_id = up.request_id;
    // Drafts exist in private chats only (positive ids); a chat where they
    // failed once streams by edits.
    i->second.draft = cfg.mode == "draft" && up.chat_id > 0
      && st.no_draft_chats.count(up.chat_id) == 0;
    // Non-zero and within 31 bits (any JSON reader takes it).
    auto h = std::hash<std::string>{}(up.request_id);
    i->second.draft_id = (h & 0x7fffffff) | 1;
    ++st.stream_answers;
    static auto& answers = stream_counter("zaki_stream_answers_total",
                                          "answers shown as a stream");
    answers.inc();
  }
  auto& s = i->second;
  s.last_update = clock_type::now();
  if (up.preview_message_id > 0 && s.known_preview == 0)
    s.known_preview = up.preview_message_id;
  if (up.report_preview && !s.reporter)
    s.reporter = caf::actor_cast<caf::actor_addr>(self->current_sender());
  if (!up.delta.empty()) {
    s.text += up.delta;
    auto skipped = s.edit.skipped;
    s.edit.append(up.delta);
    if (s.edit.skipped != skipped) {
      ++st.stream_skipped;
      static auto& c = stream_counter("zaki_stream_edits_skipped_total",
                                      "preview edits skipped (same text)");
      c.inc();
    }
  }
  if (!up.reply_markup.empty())
    s.reply_markup = up.reply_markup;
  return s;
}

/// Sends the final text of a stream: the preview becomes its first chunk
/// (edited in place, as HTML with the plain fallback, without the Stop
/// button); the rest follows as new messages. Without a preview the answer
/// goes out as new messages, as an unstreamed one.
void deliver_final(self_ptr self, telegram_stream& s) {
  tell_first_shown(s, 0);
  auto text = s.text;
  if (s.end == stream_update::stopped)
    text += "\n\n_\xE2\x8F\xB9 Stopped_";
  auto chunks = markdown_to_telegram_chunks(text);
  // A draft has no message to edit: the final answer is a new message.
  auto mid = s.draft ? int64_t{0} : s.edit.message_id();
  if (mid <= 0 && s.known_preview > 0)
    mid = s.known_preview;
  if (chunks.empty()) {
    if (mid != 0) {
      // Nothing visible to keep: the preview stays as it is (a Stop button
      // on it answers with a toast).
      s.promise.deliver(mid);
      return;
    }
    telegram_chunk empty;
    empty.text = "(Your assistant sent an empty answer.)";
    chunks.push_back(std::move(empty));
  }
  auto group = std::make_shared<telegram_send_group>();
  group->promise = s.promise;
  group->remaining = chunks.size();
  group->last_message_id = mid;
  for (size_t i = 0; i < chunks.size(); ++i) {
    auto& chunk = chunks[i];
    telegram_op op;
    op.chat_id = s.chat_id;
    op.request_id = s.request_id;
    std::string_view mode = chunk.html ? "HTML" : "";
    if (chunk.html)
      op.plain_fallback = std::move(chunk.plain);
    if (i == 0 && mid != 0) {
      op.method = "editMessageText";
      op.edit_message_id = mid;
      op.body = encode_edit_message_text(s.chat_id, mid, chunk.text, mode, "");
      ++self->state.stream_edits;
    } else {
      op.method = "sendMessage";
      op.body = encode_send_message(s.chat_id, chunk.text, mode, "");
    }
    op.group = group;
    enqueue_paced(self, std::move(op));
  }
}

/// Makes the call the stream's edit loop asks for now, or arms the tick for
/// when it will.
void drive(self_ptr self, const std::string& key) {
  auto& st = self->state;
  auto i = st.streams.find(key);
  if (i == st.streams.end())
    return;
  auto& s = i->second;
  auto now = clock_type::now();
  auto c = s.edit.next(now);
  using kind = stream_edit::call_kind;
  switch (c.kind) {
    case kind::none: {
      auto due = s.edit.due();
      if (due != clock_type::time_point::max()) {
        st.stream_dues.emplace(due, key);
        arm_tick(self, due);
      }
      return;
    }
    case kind::final:
      deliver_final(self, s);
      st.streams.erase(i);
      pump(self);
      return;
    case kind::send_preview:
    case kind::edit_preview: break;
  }
  telegram_op op;
  op.chat_id = s.chat_id;
  op.request_id = s.request_id;
  op.stream_key = key;
  if (s.draft) {
    op.method = "sendMessageDraft";
    op.body = encode_message_draft(s.chat_id, s.draft_id, c.text);
  } else if (c.kind == kind::send_preview) {
    op.method = "sendMessage";
    op.body = encode_send_message(s.chat_id, c.text, "", s.reply_markup);
  } else {
    op.method = "editMessageText";
    op.edit_message_id = s.edit.message_id();
    op.body = encode_edit_message_text(s.chat_id, op.edit_message_id, c.text,
                                       "", s.reply_markup);
  }
  ++st.stream_edits;
  static auto& edits = stream_counter("zaki_stream_edits_total",
                                      "preview sends and edits of streams");
  edits.inc();
  enqueue_paced(self, std::move(op));
  pump(self);
}

/// Drives every stream whose edit loop is due (the actor's one tick).
void drive_due(self_ptr self) {
  auto& st = self->state;
  if (st.streams.empty()) {
    st.stream_dues = {}; // stale entries only
    return;
  }
  // Ticks come for the chats' pacing too (hundreds a second with many
  // chats): asking every stream on each of them cost a quarter of the
  // router's CPU in the stream scenario, so only the due ones are asked.
  auto now = clock_type::now();
  std::vector<std::string> due;
  while (!st.stream_dues.empty() && st.stream_dues.top().first <= now) {
    due.push_back(st.stream_dues.top().second);
    st.stream_dues.pop();
  }
  for (auto& key : due)
    drive(self, key);
  // An earlier tick may have fired for another stream or chat: the ones
  // not due yet need theirs.
  if (!st.stream_dues.empty())
    arm_tick(self, st.stream_dues.top().first);
}

void on_stream_done(self_ptr self, telegram_op& op, http_result& res) {
  auto& st = self->state;
  auto i = st.streams.find(op.stream_key);
  if (i == st.streams.end())
    return;
  auto& s = i->second;
  auto now = clock_type::now();
  bot_api_error api;
  if (!res.ok() && res.status != 0)
    decode_api_error(res.body, api);
  bool draft = op.method == "sendMessageDraft";
  if (draft && !res.ok() && res.status != 429) {
    // Not available here (a group, an older Bot API): this chat streams by
    // edits from now on, starting over with a preview message.
    logger("telegram")
      ->warn("event=draft_refused chat={} status={} "
             "detail={} action=edit request_id={}",
             op.chat_id, res.status, log_value(api.description), op.request_id);
    st.no_draft_chats.insert(op.chat_id);
    s.draft = false;
    auto opts = s.edit.options_used();
    s.edit = stream_edit{opts, s.started};
    s.edit.update(s.text);
    if (s.end != 0)
      s.edit.finish();
    return drive(self, op.stream_key);
  }
  if (res.ok()) {
    bool first = s.edit.message_id() == 0 && op.edit_message_id == 0;
    // A draft has no message id; any non-zero value keeps the loop going.
    auto id = draft ? int64_t{-1} : decode_sent_message_id(res.body);
    s.edit.on_success(now, first ? id : 0);
    logger("telegram")
      ->debug("event=preview_report first={} id={} "
              "reporter={} request_id={}",
              first, id, static_cast<bool>(s.reporter), s.request_id);
    if (first && id > 0 && s.reporter)
      if (auto hdl = caf::actor_cast<user_actor>(s.reporter))
        caf::anon_send(hdl, stream_atom_v, s.request_id, id);
    if (first) {
      tell_first_shown(s, s.edit.message_id());
      first_preview_seconds().observe(
        std::chrono::duration<double>(now - s.started).count());
      logger("telegram")
        ->debug("event=stream_preview chat={} chars={} "
                "request_id={}",
                s.chat_id, s.text.size(), s.request_id);
    }
    // One line per call (at most one a second per stream), not per event.
    logger("telegram")
      ->debug(
        "event=stream_shown method={} chat={} shown_bytes={} received_bytes={} "
        "since_start_ms={} request_id={}",
        op.method, s.chat_id, s.edit.last_sent().size(), s.text.size(),
        std::chrono::duration_cast<std::chrono::milliseconds>(now - s.started)
          .count(),
        s.request_id);
  } else if (res.status == 400
             && api.description.find("message is not modified")
               != std::string::npos) {
    s.edit.on_success(now);
  } else if (res.status == 429) {
    ++st.rate_limited;
    ++st.stream_rate_limited;
    static auto& c = stream_counter("zaki_stream_rate_limited_total",
                                    "429 answers to preview edits");
    c.inc();
    auto retry_after = api.retry_after > 0 ? api.retry_after : res.retry_after;
    auto wait = std::chrono::seconds(std::max(1, retry_after));
    logger("telegram")
      ->warn("event=rate_limited method={} chat={} "
             "retry_after_s={} request_id={}",
             op.method, op.chat_id, wait.count(), op.request_id);
    st.pacer->block(op.chat_id, now + wait, true, now);
    s.edit.on_rate_limited(now, wait);
  } else {
    logger("telegram")
      ->warn("event=stream_preview_failed method={} chat={} "
             "status={} error={} request_id={}",
             op.method, op.chat_id, res.status,
             log_value(res.status == 0 ? res.error : api.description),
             op.request_id);
    s.edit.on_failure(now);
  }
  drive(self, op.stream_key);
}

/// Creates the Bot API client and the pacer from the settings.
void start_client(self_ptr self, context_ptr ctx) {
  auto& st = self->state;
  st.ctx = ctx;
  auto& tg = ctx->cfg.telegram;
  auto where = parse_origin(tg.api_root);
  http_client_options opts;
  opts.max_connections = tg.connections;
  opts.max_body = tg.max_body;
  opts.tls = ctx->tls;
  st.client = http_client::make(ctx->io->context(), where.value_or(origin{}),
                                opts);
  st.max_paced_in_flight = std::max<size_t>(8, 4 * tg.connections);
  st.pacer.emplace(
    pacer_limits{tg.chat_rate, static_cast<double>(tg.chat_burst),
                 tg.global_rate, static_cast<double>(tg.global_burst)},
    clock_type::now());
}

/// Queues a reply (one sendMessage per chunk, paced per chat); the promise
/// gets the last chunk's message id once all went out.
caf::result<int64_t> send_reply(self_ptr self, outgoing_text& msg) {
  auto rp = self->make_response_promise<int64_t>();
  if (msg.text.empty()) {
    rp.deliver(make_send_error("empty text"));
    return rp;
  }
  // Plain text is split here; HTML must arrive in chunks that fit (the
  // caller splits the Markdown source, then converts each chunk), since a
  // cut could land inside a tag.
  std::vector<std::string> chunks;
  if (msg.parse_mode.empty())
    chunks = split_message(msg.text);
  else
    chunks.push_back(std::move(msg.text));
  if (chunks.empty()) {
    rp.deliver(make_send_error("empty text"));
    return rp;
  }
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
    // The plain-text fallback belongs to single-chunk texts.
    if (chunks.size() == 1)
      op.plain_fallback = std::move(msg.plain_fallback);
    op.body = encode_send_message(msg.chat_id, chunks[i], msg.parse_mode,
                                  op.reply_markup, i == 0 ? msg.reply_to : 0);
    op.group = group;
    enqueue_paced(self, std::move(op));
  }
  pump(self);
  return rp;
}

/// Sends a call that adds no message to a chat (answers, deletes, edits,
/// commands) at once, outside the pacing; the promise says whether it
/// succeeded.
caf::result<bool> unpaced_call(self_ptr self, std::string method,
                               std::string body) {
  auto rp = self->make_response_promise<bool>();
  telegram_op op;
  op.method = std::move(method);
  op.body = std::move(body);
  op.bool_promise = rp;
  op.has_bool_promise = true;
  dispatch(self, std::move(op), false);
  return rp;
}

/// A call finished: unpaced ones report, paced ones go through `on_done`
/// (retries, 429s, the reply's promise) and free their chat's turn.
void on_http_done(self_ptr self, uint64_t seq, http_result& res) {
  auto& st = self->state;
  auto i = st.in_flight.find(seq);
  if (i == st.in_flight.end())
    return;
  auto op = std::move(i->second);
  st.in_flight.erase(i);
  bool unpaced = (op.attempts & 0x80000000u) != 0;
  op.attempts &= 0x7FFFFFFFu;
  if (unpaced) {
    if (op.has_bool_promise)
      op.bool_promise.deliver(res.ok());
    return;
  }
  --st.paced_in_flight;
  auto chat_id = op.chat_id;
  std::optional<telegram_op> retry;
  if (on_done(self, op, res))
    retry = std::move(op);
  st.pacer->finished(chat_id, std::move(retry), clock_type::now());
  pump(self);
}

status_node telegram_status(self_ptr self) {
  auto& st = self->state;
  status_node node;
  node.name = "telegram";
  node.id = self->id();
  node.state = "running";
  node.mailbox_size = self->mailbox().size();
  status_detail w;
  w.begin_object().field("sent", st.sent).field("failed", st.failed);
  w.field("rate_limited", st.rate_limited).field("retries", st.retries);
  w.field("held_long", st.held_long);
  w.field("queued", uint64_t{st.pacer->queued()});
  w.field("in_flight", uint64_t{st.in_flight.size()});
  w.field("chats", uint64_t{st.pacer->chats()});
  w.field("streams", uint64_t{st.streams.size()});
  w.field("stream_answers", st.stream_answers);
  w.field("stream_edits", st.stream_edits);
  w.field("stream_edits_skipped", st.stream_skipped);
  w.field("stream_rate_limited", st.stream_rate_limited);
  node.detail = w.end_object().take();
  return node;
}

} // namespace

telegram_state::~telegram_state() {
  if (client)
    client->shutdown();
}

telegram_actor::behavior_type telegram(self_ptr self, context_ptr ctx) {
  start_client(self, std::move(ctx));
  return {
    [self](send_atom, outgoing_text& msg) {
      return send_reply(self, msg);
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
      return unpaced_call(self, "answerCallbackQuery",
                          encode_answer_callback(callback_id, text));
    },
    [self](delete_atom, int64_t chat_id, int64_t message_id) {
      return unpaced_call(self, "deleteMessage",
                          encode_delete_message(chat_id, message_id));
    },
    [self](commands_atom, const std::string& scope,
           const std::string& commands) {
      return unpaced_call(self, "setMyCommands",
                          R"({"scope":)" + scope + R"(,"commands":)" + commands
                            + "}");
    },
    [self](edit_atom, int64_t chat_id, int64_t message_id,
           const std::string& html) {
      return unpaced_call(self, "editMessageText",
                          encode_edit_message_text(chat_id, message_id, html,
                                                   "HTML", ""));
    },
    [self](edit_atom, int64_t chat_id, int64_t message_id,
           const std::string& html, const std::string& reply_markup) {
      return unpaced_call(self, "editMessageText",
                          encode_edit_message_text(chat_id, message_id, html,
                                                   "HTML", reply_markup));
    },
    [self](internal_atom, http_done_atom, uint64_t seq, http_result& res) {
      on_http_done(self, seq, res);
    },
    [self](internal_atom, tick_atom) {
      self->state.tick_due = {};
      pump(self);
      drive_due(self);
    },
    [self](stream_atom, stream_update& up) {
      stream_of(self, up);
      drive(self, up.request_id);
    },
    [self](stream_atom, chat_action_atom, stream_update& up) {
      // First: CAF 0.17's response promise takes the request's sender, and
      // stream_of keeps it as the reporter of the preview's message id.
      auto& s = stream_of(self, up);
      auto rp = self->make_response_promise<int64_t>();
      s.first_shown = rp;
      s.first_pending = true;
      drive(self, up.request_id);
      return rp;
    },
    [self](stream_atom, done_atom, stream_update& up) {
      auto rp = self->make_response_promise<int64_t>();
      auto& s = stream_of(self, up);
      s.end = up.end;
      s.promise = rp;
      s.edit.finish();
      drive(self, up.request_id);
      return rp;
    },
    [self](status_atom) {
      return telegram_status(self);
    },
  };
}

} // namespace zaki
