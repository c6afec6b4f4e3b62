#include "actors/user_stream.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/user_reply.hpp"
#include "chat/callback_data.hpp"
#include "chat/error_catalogue.hpp"
#include "json/writer.hpp"
#include "messages/peer.hpp"
#include "runtime/logging.hpp"

namespace zaki {

namespace {

telegram_actor telegram_of(const user_self& self) {
  return peer<telegram_actor>(self);
}

bool shows_stream(const user_self& self) {
  return self->state.ctx->cfg.stream.mode != "off";
}

/// How often the user actor takes the text that arrived meanwhile while a
/// stream is shown: a quarter of the edit interval, so an edit waits at
/// most that long for fresh text, and 4 messages a second per stream
/// instead of one per SSE event (20 a second from OpenClaw's pace).
caf::timespan poll_interval(const user_self& self) {
  auto& cfg = self->state.ctx->cfg.stream;
  auto interval = std::max<caf::timespan>(cfg.edit_interval,
                                          std::chrono::milliseconds(250));
  return std::clamp<caf::timespan>(interval / 4, std::chrono::milliseconds(20),
                                   std::chrono::milliseconds(250));
}

/// How long the I/O side lets a shown stream's events gather in the socket
/// between reads: half the poll interval, so a poll finds the text of about
/// two reads.
std::chrono::milliseconds read_pause(const user_self& self) {
  if (!shows_stream(self))
    return std::chrono::milliseconds{0};
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    poll_interval(self) / 2);
}

/// Takes the text the I/O side holds for the stream of the current call.
std::string take_pending(const user_self& self) {
  std::string out;
  if (self->state.stream)
    self->state.stream->take(out);
  return out;
}

stream_update update_of(const user_self& self, std::string delta,
                        stream_update::end_t end) {
  auto& msg = *self->state.current;
  stream_update up;
  up.chat_id = msg.chat_id;
  up.request_id = msg.request_id;
  up.delta = std::move(delta);
  up.end = end;
  return up;
}

/// Sends the end of the stream and finishes once Telegram has the final
/// text; `then` runs before finishing (the error after a failed stream).
template <class F>
void end_stream(user_self self, stream_update::end_t end, F then) {
  auto tg = telegram_of(self);
  if (!tg) {
    then();
    return;
  }
  auto request_id = self->state.current->request_id;
  auto seq = self->state.seq;
  // The text that arrived since the last poll goes with the end, so the
  // final text is whole.
  self
    ->request(tg, caf::infinite, stream_atom_v, done_atom_v,
              update_of(self, take_pending(self), end))
    .then(
      [self, seq, then](int64_t) mutable {
        if (self->state.seq == seq && self->state.current)
          then();
      },
      [self, seq, then, request_id](caf::error& err) mutable {
        logger("user")->error("event=reply_failed user={} error={} "
                              "request_id={}",
                              self->state.user_id,
                              log_value(self->system().render(err)),
                              request_id);
        if (self->state.seq == seq && self->state.current)
          then();
      });
}

/// The preview's keyboard: one Stop button naming the request.
std::string stop_keyboard(const std::string& request_id) {
  auto data = encode_callback(callback_kind::stop, request_id);
  if (data.empty())
    return {};
  json_writer w;
  w.begin_object().key("inline_keyboard").begin_array().begin_array();
  w.begin_object()
    .field("text", "\xE2\x8F\xB9 Stop")
    .field("callback_data", data)
    .end_object();
  return w.end_array().end_array().end_object().take();
}

bool is_stop_command(const inbound_message& msg) {
  if (msg.is_callback())
    return false;
  std::string_view text = msg.text;
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n'))
    text.remove_suffix(1);
  return text == "/stop" || text.rfind("/stop@", 0) == 0;
}

/// Closes the gateway request of the current message (OpenClaw cancels the
/// run when the client goes away), keeps the text shown and finishes, so
/// the next message proceeds at once.
void stop_current(user_self self) {
  auto& st = self->state;
  auto& msg = *st.current;
  ++st.seq; // the closed call's completion is stale now
  if (st.gateway) {
    st.gateway->shutdown();
    st.gateway.reset();
  }
  logger("user")->info("event=stream_stopped user={} chars={} shown={} "
                       "request_id={}",
                       st.user_id, st.stream_chars, st.stream_forwarded,
                       msg.request_id);
  ++st.handled;
  if (st.stream_forwarded)
    return end_stream(self, stream_update::stopped, [self] {
      user_finish(self);
    });
  send_text(self, msg.chat_id, "\xE2\x8F\xB9 Stopped.", msg.request_id);
  user_finish(self);
}

} // namespace

bool intercept_stop(user_self self, const inbound_message& msg) {
  std::optional<callback_action> action;
  if (msg.is_callback()) {
    action = decode_callback(msg.text);
    if (!action || action->kind != callback_kind::stop)
      return false;
  } else if (!is_stop_command(msg)) {
    return false;
  }
  auto& st = self->state;
  bool live = st.current && st.session.gateway_working()
    && (!action || action->id == st.current->request_id);
  // The Stop itself is handled now: confirm its update.
  if (auto sup = peer<user_supervisor_actor>(self))
    self->send(sup, done_atom_v, st.user_id, msg.update_id);
  if (action)
    answer_callback(self, msg.callback_id,
                    live ? callback_reply::stopped
                         : callback_reply::stop_too_late,
                    msg.request_id);
  else if (!live)
    send_text(self, msg.chat_id, "Nothing to stop.", msg.request_id);
  if (live)
    stop_current(self);
  return true;
}

bool streaming_enabled(const user_self& self) {
  // Answers in a group go out as one reply to the message (issue 25).
  auto& cur = self->state.current;
  return self->state.ctx->cfg.stream.gateway
    && (!cur || cur->chat == chat_kind::private_chat);
}

void prepare_stream_request(user_self self, http_request_spec& req,
                            uint64_t seq) {
  auto& st = self->state;
  reset_stream(self);
  auto stream = std::make_shared<gateway_stream>();
  if (shows_stream(self))
    stream->urgent_at(30); // the edit loop's first preview (min_chars)
  st.stream = stream;
  req.body = encode_stream_request(st.ctx->cfg.gateway.model, st.user_id,
                                   st.current->text);
  req.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
    gateway_idle_timeout(st.ctx->cfg));
  auto addr = self->address();
  // Runs on the I/O thread: parses, and sends text only when the actor
  // waits for it or the first preview's size arrived (gateway_stream);
  // otherwise the actor's poll takes it. Holds only the actor's address.
  req.on_body = [stream, addr, seq](std::string_view bytes) {
    std::string delta;
    auto ok = stream->feed(bytes, delta);
    if (!delta.empty())
      if (auto hdl = caf::actor_cast<user_actor>(addr))
        caf::anon_send(hdl, internal_atom_v, stream_atom_v, seq,
                       std::move(delta));
    return ok;
  };
  // Past the first preview, the actor takes the text once per poll: events
  // read in between would only wait in `pending_`, so they wait in the
  // socket instead, several to one read (at OpenClaw's pace of 20 events a
  // second, 45 % fewer recvfrom calls, each of which also sent an ACK
  // through the loopback on the router's time). The end of the answer is
  // seen at most one pause later.
  if (auto pause = read_pause(self); pause.count() > 0)
    req.read_pause = [stream, pause] {
      return stream->can_wait() ? pause : std::chrono::milliseconds{0};
    };
}

void on_stream_delta(user_self self, uint64_t seq, std::string& delta) {
  auto& st = self->state;
  if (!st.current || seq != st.seq || st.session.phase != user_phase::calling
      || !st.stream)
    return;
  st.stream_chars = st.stream->received();
  // A preview of a previous run is on screen (a replay after a crash): the
  // final answer goes into it rather than into a second preview. Without a
  // preview to show, only the first text comes: nobody polls, the end of
  // the stream has it all.
  if (!shows_stream(self) || st.current->preview_message_id > 0)
    return;
  if (delta.empty()) {
    // The poll: nothing new means the I/O side sends the next text at once.
    st.stream_poll_armed = false;
    if (!st.stream->take(delta))
      return;
  }
  auto tg = telegram_of(self);
  if (!tg)
    return;
  if (!st.stream_forwarded && st.stream->ended()) {
    // The whole answer is here already (a fast gateway): it goes out as
    // one message with the end of the stream, not as a preview edited a
    // moment later (two Bot API calls and a flicker).
    st.stream->give_back(delta);
    return;
  }
  if (!st.stream_poll_armed) {
    st.stream_poll_armed = true;
    self->delayed_send(self, poll_interval(self), internal_atom_v,
                       stream_atom_v, seq, std::string{});
  }
  auto up = update_of(self, std::move(delta), stream_update::more);
  if (st.stream_forwarded) {
    self->send(tg, stream_atom_v, std::move(up));
    return;
  }
  st.stream_forwarded = true;
  up.reply_markup = stop_keyboard(st.current->request_id);
  // The preview's message id comes back to be journaled (a replay edits it).
  up.report_preview = true;
  // "typing" goes on until the first preview is shown (the telegram actor
  // answers then, or when the stream ended without one).
  self
    ->request(tg, caf::infinite, stream_atom_v, chat_action_atom_v,
              std::move(up))
    .then(
      [self, seq](int64_t) {
        if (self->state.seq == seq)
          self->state.session.typing_due.reset();
      },
      [](caf::error&) {
        // nop: typing stops with the message anyway
      });
}

gateway_answer classify_current(user_self self, http_result& res) {
  auto& st = self->state;
  auto answer = st.stream ? st.stream->finish(res)
                          : classify_gateway_result(res);
  st.last_prompt_tokens = answer.prompt_tokens;
  st.last_completion_tokens = answer.completion_tokens;
  return answer;
}

bool stream_shown(const user_self& self) {
  return self->state.stream_forwarded;
}

void finish_stream(user_self self, gateway_answer) {
  ++self->state.handled;
  end_stream(self, stream_update::complete, [self] {
    user_finish(self);
  });
}

void finish_into_preview(user_self self, std::string text) {
  auto& st = self->state;
  ++st.handled;
  auto tg = telegram_of(self);
  if (!tg)
    return user_finish(self);
  auto up = update_of(self, std::move(text), stream_update::complete);
  up.preview_message_id = st.current->preview_message_id;
  // A stream of its own: after a crash of this actor alone the telegram
  // actor may still hold the old one under the request id.
  up.request_id += "~replay";
  auto request_id = st.current->request_id;
  auto seq = st.seq;
  self->request(tg, caf::infinite, stream_atom_v, done_atom_v, std::move(up))
    .then(
      [self, seq](int64_t) {
        if (self->state.seq == seq && self->state.current)
          user_finish(self);
      },
      [self, seq, request_id](caf::error& err) {
        logger("user")->error("event=reply_failed user={} error={} "
                              "request_id={}",
                              self->state.user_id,
                              log_value(self->system().render(err)),
                              request_id);
        if (self->state.seq == seq && self->state.current)
          user_finish(self);
      });
}

void on_preview_sent(user_self self, const std::string& request_id,
                     int64_t message_id) {
  auto& st = self->state;
  logger("user")->debug("event=preview_sent user={} message_id={} "
                        "current={} request_id={}",
                        st.user_id, message_id, st.current.has_value(),
                        request_id);
  if (!st.current || st.current->request_id != request_id)
    return;
  // Only the journal (and the supervisor's copy) keep it: this run goes on
  // editing the preview through its stream.
  if (auto sup = peer<user_supervisor_actor>(self))
    self->send(sup, journal_atom_v, stream_atom_v, st.user_id,
               st.current->update_id, message_id);
}

void fail_stream(user_self self, error_code code) {
  end_stream(self, stream_update::failed, [self, code] {
    reply_with_failure(self, code);
  });
}

error_code stream_failure_code(user_self self, const http_result& res,
                               const gateway_answer& answer) {
  auto& st = self->state;
  // An error event ends the exchange from our side (the body callback
  // aborts it), so the result is "cancelled": the event's type decides.
  if (st.stream && st.stream->failed())
    return classify_gateway_error(200, answer.error_type);
  // A 2xx without [DONE], or an event over the size limit (also aborted by
  // the body callback; a Stop never gets here, it ends the call first).
  if (st.stream && (res.ok() || res.failure == http_failure::cancelled))
    return error_code::gateway_bad_response;
  // A stream cut off after its headers: the gateway went away mid-answer.
  if (st.stream && res.status == 0
      && (res.failure == http_failure::other
          || res.failure == http_failure::closed))
    return error_code::container_down;
  return gateway_failure_code(res, answer);
}

void reset_stream(user_self self) {
  auto& st = self->state;
  st.stream.reset();
  st.stream_chars = 0;
  st.stream_forwarded = false;
  st.stream_poll_armed = false;
}

} // namespace zaki
