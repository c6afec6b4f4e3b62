#include "actors/user_reply.hpp"

#include <caf/all.hpp>

#include "runtime/json_writer.hpp"
#include "runtime/logging.hpp"

namespace zaki {

namespace {

/// Sends `out` through the telegram actor and finishes the current message
/// once Telegram has it (the telegram actor retries 429 and 5xx itself).
void send_and_finish(user_self self, outgoing_text out) {
  auto tg = self->system().registry().get<telegram_actor>(names::telegram);
  if (!tg) {
    logger("user")->error("event=reply_lost user={} reason=\"no telegram "
                          "actor\" request_id={}",
                          self->state.user_id, out.request_id);
    return user_finish(self);
  }
  auto request_id = out.request_id;
  self->request(tg, caf::infinite, send_atom_v, std::move(out))
    .then([self](int64_t) { user_finish(self); },
          [self, request_id](caf::error& err) {
            logger("user")->error("event=reply_failed user={} error={} "
                                  "request_id={}",
                                  self->state.user_id,
                                  log_value(self->system().render(err)),
                                  request_id);
            user_finish(self);
          });
}

outgoing_text to_current_chat(user_self self, std::string text) {
  auto& msg = *self->state.current;
  outgoing_text out;
  out.chat_id = msg.chat_id;
  out.text = std::move(text);
  out.request_id = msg.request_id;
  return out;
}

std::string with_reference(const std::string& text, const char* code,
                           const std::string& request_id) {
  return text + "\n\nError code: " + code + " · Request: " + request_id;
}

} // namespace

void reply_with_answer(user_self self, std::string text) {
  auto& st = self->state;
  ++st.handled;
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    text = "(Your assistant sent an empty answer.)";
  send_and_finish(self, to_current_chat(self, std::move(text)));
}

void reply_with_failure(user_self self, gateway_outcome outcome,
                        http_failure failure) {
  auto& rid = self->state.current->request_id;
  std::string text;
  const char* code = "ZR-INTERNAL";
  switch (outcome) {
    case gateway_outcome::unauthorized:
      code = "ZR-GATEWAY-UNAUTHORIZED";
      text = "⚠️ Your assistant refused the router's credentials. The "
             "operator has been notified; please try again later.";
      break;
    case gateway_outcome::provider_auth:
      code = "ZR-PROVIDER-AUTH";
      text = "⚠️ Your assistant's AI provider rejected its API key. Please "
             "check the key configured for your assistant.";
      break;
    case gateway_outcome::retryable:
      code = failure == http_failure::timeout ? "ZR-GATEWAY-TIMEOUT"
                                              : "ZR-CONTAINER-DOWN";
      text = failure == http_failure::timeout
               ? "⏳ Your assistant did not answer in time. Please try again."
               : "⚠️ Your assistant is not reachable right now. Please try "
                 "again in a minute.";
      break;
    default:
      code = "ZR-GATEWAY-BAD-RESPONSE";
      text = "⚠️ Your assistant could not handle this message. Please try "
             "again or rephrase it.";
  }
  send_and_finish(self,
                  to_current_chat(self, with_reference(text, code, rid)));
}

void reply_not_provisioned(user_self self) {
  auto& rid = self->state.current->request_id;
  send_and_finish(self,
                  to_current_chat(self, with_reference(
                                          "👋 You do not have an assistant "
                                          "yet. Please ask the operator to "
                                          "set one up for you.",
                                          "ZR-NOT-PROVISIONED", rid)));
}

void reply_container_error(user_self self, errc code) {
  auto& rid = self->state.current->request_id;
  std::string text;
  const char* id = "ZR-CONTAINER-DOWN";
  switch (code) {
    case errc::container_starting:
      id = "ZR-CONTAINER-STARTING";
      text = "⏳ Your assistant is still starting. Please try again in a "
             "minute.";
      break;
    case errc::container_failed:
      id = "ZR-CONTAINER-FAILED";
      text = "⚠️ Your assistant keeps failing and was paused. The operator "
             "can see it; sending a new message tries again.";
      break;
    case errc::session_lock_timeout:
      id = "ZR-SESSION-LOCKED";
      text = "🔒 Your assistant is busy with another request for your "
             "session. Please try again in a moment.";
      break;
    case errc::capacity_exhausted:
      id = "ZR-CAPACITY";
      text = "⏳ All assistant slots are busy right now. Please try again "
             "later.";
      break;
    default:
      text = "⚠️ Your assistant is not running right now. Please try again "
             "in a minute.";
  }
  send_and_finish(self, to_current_chat(self, with_reference(text, id, rid)));
}

void send_setup_notice(user_self self) {
  auto& msg = *self->state.current;
  if (auto tg = self->system().registry().get<telegram_actor>(names::telegram)) {
    outgoing_text out;
    out.chat_id = msg.chat_id;
    out.request_id = msg.request_id;
    out.text = "⚙️ Setting up your assistant, this takes a moment. Your "
               "message will be answered as soon as it is ready.";
    caf::anon_send(tg, send_atom_v, std::move(out));
  }
}

void reply_queue_full(user_self self, const inbound_message& msg) {
  auto& st = self->state;
  if (auto sup = self->system().registry().get<user_supervisor_actor>(
        names::user_supervisor))
    self->send(sup, done_atom_v, st.user_id, msg.update_id);
  if (auto tg = self->system().registry().get<telegram_actor>(names::telegram)) {
    outgoing_text out;
    out.chat_id = msg.chat_id;
    out.request_id = msg.request_id;
    out.text = with_reference("✋ You have sent many messages at once; this "
                              "one was not delivered. Please wait for the "
                              "answers, then send it again.",
                              "ZR-QUEUE-FULL", msg.request_id);
    caf::anon_send(tg, send_atom_v, std::move(out));
  }
}

void reply_internal_error(user_self self, const std::string& why) {
  auto& st = self->state;
  logger("user")->error("event=internal_error user={} error={} request_id={}",
                        st.user_id, log_value(why),
                        st.current->request_id);
  ++st.failed;
  send_and_finish(self,
                  to_current_chat(self, with_reference(
                                          "⚠️ Something went wrong on our "
                                          "side. Please try again.",
                                          "ZR-INTERNAL",
                                          st.current->request_id)));
}

bool handle_locally(user_self self) {
  auto& msg = *self->state.current;
  if (msg.is_callback()) {
    // Buttons are answered so the client stops its progress bar.
    if (auto tg = self->system().registry().get<telegram_actor>(
          names::telegram))
      caf::anon_send(tg, answer_atom_v, msg.callback_id, std::string{});
    user_finish(self);
    return true;
  }
  return false;
}

status_node user_status(user_self self) {
  auto& st = self->state;
  status_node node;
  node.name = "user:" + std::to_string(st.user_id);
  node.id = self->id();
  node.state = st.current ? "busy" : "idle";
  node.mailbox_size = self->mailbox().size();
  auto now = std::chrono::steady_clock::now();
  json_writer w;
  w.begin_object().field("user_id", st.user_id).field("phase", st.phase);
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
  w.field("last_activity_s_ago",
          std::chrono::duration<double>(now - st.last_activity).count());
  w.field("handled", st.handled).field("failed", st.failed);
  w.field("last_latency_ms", st.last_latency_us / 1000.0);
  w.field("holds_lock", st.lock.held());
  node.detail_json = w.end_object().take();
  return node;
}

} // namespace zaki
