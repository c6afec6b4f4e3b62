#include "actors/user_reply.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/user_limits.hpp"
#include "actors/user_stream.hpp"

#include "chat/error_render.hpp"
#include "chat/request_id.hpp"
#include "gateway/retry_policy.hpp"
#include "media/policy.hpp"
#include "media/retry_text.hpp"
#include "messages/peer.hpp"
#include "messages/status_detail.hpp"
#include "runtime/logging.hpp"
#include "storage/retry_store.hpp"
#include "telegram/markdown.hpp"

namespace zaki {

namespace {

telegram_actor telegram_of(user_self self) {
  return peer<telegram_actor>(self);
}

/// Sends every text in `outs` (in order: the telegram actor keeps the order
/// of one chat) and finishes the current message once all are answered.
/// With `chunks` set, `outs` are the chunks `first` to `chunks - 1` of the
/// current message's answer, and each one Telegram confirms is journaled
/// (but the last, which the done mark covers), so a replay sends only the
/// rest.
void send_all_and_finish(user_self self, std::vector<outgoing_text> outs,
                         uint32_t first = 0, uint32_t chunks = 0) {
  auto tg = telegram_of(self);
  if (!tg || outs.empty()) {
    if (!tg)
      logger("user")->error("event=reply_lost user={} reason=\"no telegram "
                            "actor\" request_id={}",
                            self->state.user_id,
                            self->state.current->request_id);
    return user_finish(self);
  }
  auto remaining = std::make_shared<size_t>(outs.size());
  auto sup = chunks > 1 ? peer<user_supervisor_actor>(self)
                        : user_supervisor_actor{};
  auto update_id = self->state.current->update_id;
  auto index = first;
  for (auto& out : outs) {
    auto request_id = out.request_id;
    auto sent = ++index;
    self->request(tg, caf::infinite, send_atom_v, std::move(out))
      .then(
        [self, remaining, sup, update_id, sent, chunks](int64_t) {
          if (sup && sent < chunks)
            self->send(sup, journal_atom_v, self->state.user_id, update_id,
                       sent);
          if (--*remaining == 0)
            user_finish(self);
        },
        [self, remaining, request_id](caf::error& err) {
          logger("user")->error("event=reply_failed user={} error={} "
                                "request_id={}",
                                self->state.user_id,
                                log_value(self->system().render(err)),
                                request_id);
          if (--*remaining == 0)
            user_finish(self);
        });
  }
}

/// Keeps the original text for the Retry button; returns whether it did.
bool keep_for_retry(user_self self, const inbound_message& msg) {
  auto& st = self->state;
  // A photo, or a file not saved yet, is fetched again by Retry.
  bool refetch = carries_file(msg.kind)
    && (msg.kind == inbound_kind::photo || !st.media_ready);
  if ((msg.text.empty() && !refetch) || msg.is_callback()
      || !is_valid_request_id(msg.request_id))
    return false;
  retry_record rec;
  rec.user_id = st.user_id;
  rec.chat_id = msg.chat_id;
  rec.request_id = msg.request_id;
  rec.text = refetch ? encode_media_retry(msg) : msg.text;
  rec.created_at = retry_store::now_seconds();
  retry_store store{st.ctx->cfg.store.data_root,
                    std::chrono::duration_cast<std::chrono::seconds>(
                      st.ctx->cfg.errors.retry_window)};
  if (auto err = store.save(rec); !err.empty()) {
    // The button still goes out; pressing it gets a polite toast.
    logger("user")->warn("event=retry_save_failed user={} error={} "
                         "request_id={}",
                         st.user_id, log_value(err), msg.request_id);
    return false;
  }
  return true;
}

} // namespace

error_code gateway_failure_code(const http_result& res,
                                const gateway_answer& answer) {
  retry_input in;
  in.status = res.status;
  in.failure = res.failure;
  in.outcome = answer.outcome;
  in.error_type = answer.error_type;
  return gateway_error_code(in);
}

void send_error(user_self self, const inbound_message& msg, error_code code,
                bool finish, std::string detail) {
  auto& st = self->state;
  const auto& entry = describe(code);
  if (entry.operator_only) {
    // Never shown in a chat: the user gets the generic entry instead.
    logger("user")->error("event=operator_error user={} code={} "
                          "request_id={}",
                          st.user_id, entry.id, msg.request_id);
    code = error_code::internal;
  }
  bool kept = describe(code).retry_button && keep_for_retry(self, msg);
  render_options opts;
  opts.help_url = st.ctx->cfg.errors.help_url;
  opts.detail = detail;
  auto rendered = render_for_telegram(code, msg.request_id, opts);
  logger("user")->warn(
    "event=error_sent user={} chat={} code={} "
    "retry_kept={} request_id={} error={}",
    st.user_id, msg.chat_id, to_string(code), kept, msg.request_id,
    log_value(render_json(code, msg.request_id, detail), 4096));
  outgoing_text out;
  out.chat_id = msg.chat_id;
  out.text = std::move(rendered.text_html);
  out.parse_mode = "HTML";
  out.plain_fallback = render_plain_text(code, msg.request_id, detail);
  out.reply_markup = std::move(rendered.reply_markup_json);
  out.request_id = msg.request_id;
  if (finish)
    return send_and_finish(self, std::move(out));
  if (auto tg = telegram_of(self))
    caf::anon_send(tg, send_atom_v, std::move(out));
}

void send_and_finish(user_self self, outgoing_text out) {
  std::vector<outgoing_text> outs;
  outs.push_back(std::move(out));
  send_all_and_finish(self, std::move(outs));
}

void send_text(user_self self, int64_t chat_id, std::string text,
               const std::string& request_id, bool html,
               std::string reply_markup) {
  auto tg = telegram_of(self);
  if (!tg)
    return;
  outgoing_text out;
  out.chat_id = chat_id;
  out.text = std::move(text);
  if (html)
    out.parse_mode = "HTML";
  out.reply_markup = std::move(reply_markup);
  out.request_id = request_id;
  caf::anon_send(tg, send_atom_v, std::move(out));
}

void answer_callback(user_self self, const std::string& callback_id,
                     callback_reply reply, const std::string& request_id) {
  auto toast = std::string{toast_text(reply)};
  logger("user")->info("event=callback_answered user={} toast={} "
                       "request_id={}",
                       self->state.user_id, log_value(toast), request_id);
  if (auto tg = telegram_of(self))
    caf::anon_send(tg, answer_atom_v, callback_id, std::move(toast));
}

void reply_with_answer(user_self self, std::string text) {
  auto& st = self->state;
  auto& msg = *st.current;
  ++st.handled;
  auto chunks = markdown_to_telegram_chunks(text);
  std::vector<outgoing_text> outs;
  for (auto& chunk : chunks) {
    outgoing_text out;
    out.chat_id = msg.chat_id;
    out.request_id = msg.request_id;
    out.text = std::move(chunk.text);
    if (chunk.html) {
      out.parse_mode = "HTML";
      out.plain_fallback = std::move(chunk.plain);
    }
    outs.push_back(std::move(out));
  }
  if (outs.empty()) {
    outgoing_text out;
    out.chat_id = msg.chat_id;
    out.request_id = msg.request_id;
    out.text = "(Your assistant sent an empty answer.)";
    outs.push_back(std::move(out));
  }
  // In a group the answer replies to the message it answers.
  if (msg.chat != chat_kind::private_chat)
    outs.front().reply_to = msg.message_id;
  if (outs.size() > 1)
    logger("user")->info("event=answer_split user={} chunks={} request_id={}",
                         st.user_id, outs.size(), msg.request_id);
  // A replay sends only the chunks Telegram did not confirm before.
  auto total = static_cast<uint32_t>(outs.size());
  auto skip = std::min(msg.chunks_sent, total);
  if (skip == total) // every chunk went out; only the done mark was lost
    return user_finish(self);
  outs.erase(outs.begin(), outs.begin() + skip);
  send_all_and_finish(self, std::move(outs), skip, total);
}

void journal_answer_then(user_self self, const std::string& text,
                         std::function<void()> then) {
  auto& st = self->state;
  auto sup = peer<user_supervisor_actor>(self);
  if (!sup || !st.current)
    return then();
  auto seq = st.seq;
  auto go = [self, seq, then](auto&&...) {
    if (self->state.seq == seq && self->state.current)
      then();
  };
  self
    ->request(sup, caf::infinite, journal_atom_v, st.user_id,
              st.current->update_id, text)
    .then(
      [go](ok_atom) {
        go();
      },
      [self, go](caf::error& err) {
        // Not recorded: a replay asks the gateway again, as before.
        logger("user")->warn("event=answer_not_journaled user={} "
                             "error={}",
                             self->state.user_id,
                             log_value(self->system().render(err)));
        go();
      });
}

void deliver_answer(user_self self, std::string text) {
  if (self->state.current->preview_message_id > 0
      && self->state.ctx->cfg.stream.mode != "off")
    return finish_into_preview(self, std::move(text));
  reply_with_answer(self, std::move(text));
}

void replay_answer(user_self self) {
  auto& st = self->state;
  auto& msg = *st.current;
  logger("user")->info("event=answer_replayed user={} chars={} "
                       "chunks_sent={} preview={} request_id={}",
                       st.user_id, msg.answer.size(), msg.chunks_sent,
                       msg.preview_message_id != 0, msg.request_id);
  st.session.phase = user_phase::replying;
  deliver_answer(self, msg.answer);
}

void reply_with_failure(user_self self, error_code code) {
  send_error(self, *self->state.current, code, true);
}

void reply_not_provisioned(user_self self) {
  send_error(self, *self->state.current, error_code::not_provisioned, true);
}

void reply_container_error(user_self self, errc code) {
  send_error(self, *self->state.current, error_code_of(code), true);
}

void send_setup_notice(user_self self) {
  auto& msg = *self->state.current;
  send_text(self, msg.chat_id,
            "\xE2\x9A\x99\xEF\xB8\x8F Setting up your assistant, this takes "
            "a moment. Your message will be answered as soon as it is ready.",
            msg.request_id);
}

void send_working_notice(user_self self) {
  auto& msg = *self->state.current;
  send_text(self, msg.chat_id,
            "\xE2\x8F\xB3 Your assistant is still working on your message. "
            "Its answer will follow here as soon as it is ready.",
            msg.request_id);
}

void reply_queue_full(user_self self, const inbound_message& msg) {
  auto& st = self->state;
  if (auto sup = peer<user_supervisor_actor>(self))
    self->send(sup, done_atom_v, st.user_id, msg.update_id);
  if (msg.is_callback()) {
    // A press is answered even when it cannot be queued.
    answer_callback(self, msg.callback_id, callback_reply::unknown_button,
                    msg.request_id);
    return;
  }
  send_error(self, msg, error_code::queue_full, false,
             "Messages waiting: " + std::to_string(st.queue.size()) + ".");
}

void reply_internal_error(user_self self, const std::string& why) {
  auto& st = self->state;
  logger("user")->error("event=internal_error user={} error={} request_id={}",
                        st.user_id, log_value(why), st.current->request_id);
  ++st.failed;
  send_error(self, *st.current, error_code::internal, true);
}

status_node user_status(user_self self) {
  auto& st = self->state;
  status_node node;
  node.name = "user:" + std::to_string(st.user_id);
  node.id = self->id();
  node.state = st.current ? "busy" : "idle";
  node.mailbox_size = self->mailbox().size();
  auto now = std::chrono::steady_clock::now();
  status_detail w;
  w.begin_object()
    .field("user_id", st.user_id)
    .field("phase", to_string(st.session.phase));
  w.field("queued", uint64_t{st.queue.size()});
  if (st.current) {
    w.key("in_flight").begin_object();
    w.field("request_id", st.current->request_id);
    w.field("update_id", st.current->update_id);
    w.field("attempt", uint64_t{st.attempt});
    w.end_object();
  } else {
    w.key("in_flight").null();
  }
  w.field("container", st.record.container);
  w.field("container_state", st.container_state);
  w.field("port", uint64_t{st.record.port});
  w.field("uptime_s",
          std::chrono::duration<double>(now - st.started_at).count());
  w.field("last_activity_s_ago",
          std::chrono::duration<double>(now - st.last_activity).count());
  w.field("handled", st.handled).field("failed", st.failed);
  w.field("last_latency_ms", st.last_latency_us / 1000.0);
  w.field("holds_lock", st.lock.held());
  // Read live: text arriving between polls is counted on the I/O side.
  w.field("stream_chars",
          st.stream ? uint64_t{st.stream->received()} : st.stream_chars);
  write_limits_status(self, w);
  node.detail = w.end_object().take();
  return node;
}

} // namespace zaki
