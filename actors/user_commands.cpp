#include "actors/user_commands.hpp"

#include <algorithm>
#include <functional>
#include <vector>

#include <caf/all.hpp>

#include "access/policy.hpp"
#include "access/texts.hpp"
#include "actors/operator_commands.hpp"
#include "actors/user_limits.hpp"
#include "chat/request_id.hpp"
#include "json/writer.hpp"
#include "media/retry_text.hpp"
#include "messages/peer.hpp"
#include "runtime/logging.hpp"
#include "storage/database.hpp"
#include "storage/retry_store.hpp"
#include "telegram/html.hpp"

namespace zaki {

namespace {

using clock_type = std::chrono::steady_clock;

constexpr std::string_view welcome_html
  = "\xF0\x9F\x91\x8B <b>Welcome!</b>\n\n"
    "This bot connects you to your own AI assistant. Just write to it, as "
    "in any chat.\n\n"
    "/status shows how your assistant is doing, /restart restarts it, "
    "/help lists everything.";

constexpr std::string_view help_html
  = "\xE2\x9D\x93 <b>Help</b>\n\n"
    "Write anything and your assistant answers.\n\n"
    "/start \xE2\x80\x94 set up your assistant\n"
    "/status \xE2\x80\x94 your assistant's state, uptime and waiting "
    "messages\n"
    "/restart \xE2\x80\x94 restart your assistant (asks first)\n"
    "/forget \xE2\x80\x94 delete the transcript this bot keeps\n"
    "/reset \xE2\x80\x94 start a fresh conversation\n"
    "/usage \xE2\x80\x94 your requests and tokens today and this month\n"
    "/help \xE2\x80\x94 this text\n\n"
    "If something fails, the message names an error code (like "
    "<code>ZR-GATEWAY-TIMEOUT</code>) and a request id: give both to "
    "support.";

/// Lower-cases ASCII letters only.
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// The current message is answered by the router itself.
void done_locally(user_self self) {
  user_finish(self);
}

std::string restart_keyboard(const std::string& nonce) {
  json_writer w;
  w.begin_object().key("inline_keyboard").begin_array().begin_array();
  w.begin_object()
    .field("text", "\xF0\x9F\x94\x84 Yes, restart")
    .field("callback_data",
           encode_callback(callback_kind::restart_confirm, nonce))
    .end_object();
  w.begin_object()
    .field("text", "Cancel")
    .field("callback_data",
           encode_callback(callback_kind::restart_cancel, nonce))
    .end_object();
  w.end_array().end_array().end_object();
  return w.take();
}

void on_status(user_self self) {
  auto& st = self->state;
  auto& msg = *st.current;
  auto now = clock_type::now();
  std::string t = "\xF0\x9F\x93\x8A <b>Your assistant</b>\n\n";
  t += "State: ";
  append_html_escaped(t, st.container_state);
  if (st.record.port != 0) {
    t += " \xC2\xB7 port <code>";
    t += std::to_string(st.record.port);
    t += "</code>";
  }
  if (!st.record.container.empty()) {
    t += "\nContainer: <code>";
    append_html_escaped(t, st.record.container);
    t += "</code>";
  }
  t += "\nUp for: ";
  t += format_uptime(
    std::chrono::duration_cast<std::chrono::seconds>(now - st.started_at));
  t += " (this session)";
  t += "\nWaiting messages: ";
  t += std::to_string(st.queue.size());
  t += "\nAnswered: " + std::to_string(st.handled)
    + " \xC2\xB7 failed: " + std::to_string(st.failed);
  outgoing_text out;
  out.chat_id = msg.chat_id;
  out.text = std::move(t);
  out.parse_mode = "HTML";
  out.request_id = msg.request_id;
  send_and_finish(self, std::move(out));
}

/// /status reports the record too; an actor that has not looked its user
/// up yet asks the store first (never the provisioner: /status must not
/// start a container).
void handle_status(user_self self) {
  auto& st = self->state;
  auto store = peer<store_actor>(self);
  if (st.record.port != 0 || !store)
    return on_status(self);
  auto seq = ++st.seq;
  self->request(store, std::chrono::seconds(5), get_atom_v, st.user_id)
    .then(
      [self, seq](const user_lookup& found) {
        if (self->state.seq != seq || !self->state.current)
          return;
        if (found.found)
          self->state.record = found.record;
        on_status(self);
      },
      [self, seq](caf::error&) {
        if (self->state.seq == seq && self->state.current)
          on_status(self);
      });
}

void handle_restart_command(user_self self) {
  auto& st = self->state;
  auto& msg = *st.current;
  if (!peer<provisioner_actor>(self)) {
    outgoing_text out;
    out.chat_id = msg.chat_id;
    out.request_id = msg.request_id;
    out.text = "\xE2\x84\xB9\xEF\xB8\x8F Your assistant is run outside this "
               "bot, so there is nothing I can restart here. If it "
               "misbehaves, contact support and mention request "
      + msg.request_id + ".";
    return send_and_finish(self, std::move(out));
  }
  // A fresh nonce per /restart: only the newest confirmation works.
  st.restart_nonce = new_request_id();
  st.restart_nonce_expires = clock_type::now() + restart_confirm_window;
  outgoing_text out;
  out.chat_id = msg.chat_id;
  out.request_id = msg.request_id;
  out.parse_mode = "HTML";
  out.text = "\xF0\x9F\x94\x84 <b>Restart your assistant?</b>\n\n"
             "It stops what it is doing and starts again; your chats and "
             "memory are kept. This can take a minute.";
  out.reply_markup = restart_keyboard(st.restart_nonce);
  send_and_finish(self, std::move(out));
}

} // namespace

std::function<void(std::string)> replier(user_self self) {
  auto seq = self->state.seq;
  return [self, seq](std::string text) {
    auto& st = self->state;
    if (st.seq != seq || !st.current)
      return;
    outgoing_text out;
    out.chat_id = st.current->chat_id;
    out.request_id = st.current->request_id;
    out.text = std::move(text);
    send_and_finish(self, std::move(out));
  };
}

void press_unknown(user_self self, const char* why) {
  auto& msg = *self->state.current;
  logger("user")->warn("event=callback_rejected user={} reason={} "
                       "data_bytes={} request_id={}",
                       self->state.user_id, why, msg.text.size(),
                       msg.request_id);
  answer_callback(self, msg.callback_id, callback_reply::unknown_button,
                  msg.request_id);
  done_locally(self);
}

namespace {

/// Deletes the user's transcript in the store (what the dashboard shows);
/// the assistant's own memory in its container is not touched.
void handle_forget_command(user_self self) {
  auto reply = replier(self);
  auto store = peer<store_actor>(self);
  if (!store)
    return reply("I could not delete your transcript right now; please try "
                 "again later.");
  self
    ->request(store, std::chrono::seconds(10), forget_atom_v,
              self->state.user_id)
    .then(
      [reply](uint64_t n) {
        reply("\xF0\x9F\xA7\xB9 Done: I deleted the " + std::to_string(n)
              + " messages of your transcript kept by this bot.");
      },
      [reply](caf::error&) {
        reply("I could not delete your transcript right now; please try "
              "again later.");
      });
}

std::string usage_line(const char* when, const usage_record& u) {
  return std::string{when} + ": " + std::to_string(u.requests) + " requests, "
    + std::to_string(u.prompt_tokens + u.completion_tokens) + " tokens ("
    + std::to_string(u.prompt_tokens) + " in, "
    + std::to_string(u.completion_tokens) + " out)";
}

/// /usage: today's and this month's counters from the store (the
/// gateway's `usage` of each answer).
void handle_usage_command(user_self self) {
  auto reply = replier(self);
  auto store = peer<store_actor>(self);
  if (!store)
    return reply("Your usage is not available right now.");
  // The budget's clock, so /usage and the budget agree on the day.
  auto today = utc_day_text(wall_now(self));
  auto month = today.substr(0, 8) + "01";
  auto user_id = self->state.user_id;
  self
    ->request(store, std::chrono::seconds(10), usage_atom_v, user_id, today,
              today)
    .then(
      [self, store, reply, today, month, user_id](const usage_record& day) {
        self
          ->request(store, std::chrono::seconds(10), usage_atom_v, user_id,
                    month, today)
          .then(
            [self, reply, day](const usage_record& all) {
              auto tokens = std::max<int64_t>(day.prompt_tokens, 0)
                + std::max<int64_t>(day.completion_tokens, 0);
              reply("\xF0\x9F\x93\x88 Your usage\n\n" + usage_line("Today", day)
                    + "\n" + usage_line("This month", all) + "\n\n"
                    + limits_usage_text(self, static_cast<uint64_t>(tokens)));
            },
            [reply](caf::error&) {
              reply("Your usage is not available right now.");
            });
      },
      [reply](caf::error&) {
        reply("Your usage is not available right now.");
      });
}

/// An Approve/Reject press: only the access actor knows the nonce, and it
/// checks the presser against the admin list.
void press_access(user_self self, const callback_action& action) {
  auto& msg = *self->state.current;
  auto gate = peer<access_actor>(self);
  auto tg = peer<telegram_actor>(self);
  auto callback_id = msg.callback_id;
  if (!gate || !tg)
    return press_unknown(self, "access_unavailable");
  self
    ->request(gate, std::chrono::seconds(30), press_atom_v, self->state.user_id,
              action.kind == callback_kind::approve, action.id)
    .then(
      [self, tg, callback_id](const std::string& toast) {
        self
          ->request(tg, std::chrono::seconds(30), answer_atom_v, callback_id,
                    toast)
          .then([](bool) {}, [](caf::error&) {});
      },
      [](caf::error&) {});
  done_locally(self);
}

bool handle_command(user_self self, user_command cmd) {
  auto& st = self->state;
  auto& msg = *st.current;
  logger("user")->info("event=command user={} command={} request_id={}",
                       st.user_id, static_cast<int>(cmd), msg.request_id);
  switch (cmd) {
    case user_command::start:
      send_text(self, msg.chat_id, std::string{welcome_html}, msg.request_id,
                true);
      // Then the usual path up to the container, without the gateway.
      st.provision_only = true;
      return false;
    case user_command::help: {
      outgoing_text out;
      out.chat_id = msg.chat_id;
      out.request_id = msg.request_id;
      out.parse_mode = "HTML";
      out.text = std::string{help_html};
      if (sender_is_admin(self))
        out.text += std::string{operator_help_html()};
      send_and_finish(self, std::move(out));
      return true;
    }
    case user_command::status: handle_status(self); return true;
    case user_command::restart:
      // "/restart ID" is the operator's restart of someone's container
      // (any argument: a bad id gets the usage).
      if (msg.text.find_first_not_of(" \t\n", msg.text.find_first_of(" \t\n"))
            != std::string::npos
          && sender_is_admin(self)) {
        handle_operator_restart(self);
        return true;
      }
      handle_restart_command(self);
      return true;
    case user_command::forget: handle_forget_command(self); return true;
    case user_command::reset:
      // OpenClaw starts a new session on "/new" and says so; its answer is
      // the confirmation.
      logger("user")->info("event=reset user={} request_id={}", st.user_id,
                           msg.request_id);
      send_text(self, msg.chat_id,
                "\xF0\x9F\x86\x95 Starting a fresh conversation\xE2\x80\xA6",
                msg.request_id);
      msg.text = "/new";
      return false;
    case user_command::usage: handle_usage_command(self); return true;
    case user_command::approve:
    case user_command::reject:
    case user_command::revoke:
    case user_command::users:
    case user_command::broadcast:
    case user_command::containers:
      handle_operator_command(self, cmd);
      return true;
    case user_command::none: break;
  }
  return false;
}

// -- buttons -------------------------------------------------------------------

bool press_retry(user_self self, const callback_action& action) {
  auto& st = self->state;
  auto& msg = *st.current;
  retry_store store{st.ctx->cfg.store.data_root,
                    std::chrono::duration_cast<std::chrono::seconds>(
                      st.ctx->cfg.errors.retry_window)};
  auto res = store.take(st.user_id, action.id, msg.callback_id);
  auto log = logger("user");
  log->info("event=retry_pressed user={} outcome={} original_request_id={} "
            "request_id={}",
            st.user_id, to_string(res.status), action.id, msg.request_id);
  switch (res.status) {
    case retry_take_status::ok: break;
    case retry_take_status::already_used:
      answer_callback(self, msg.callback_id, callback_reply::retry_already_sent,
                      msg.request_id);
      done_locally(self);
      return true;
    case retry_take_status::error:
      log->error("event=retry_store_error user={} error={} request_id={}",
                 st.user_id, log_value(res.error), msg.request_id);
      [[fallthrough]];
    case retry_take_status::expired:
    case retry_take_status::no_user:
      answer_callback(self, msg.callback_id, callback_reply::retry_expired,
                      msg.request_id);
      done_locally(self);
      return true;
  }
  if (res.record.chat_id != msg.chat_id) {
    press_unknown(self, "retry_other_chat");
    return true;
  }
  // The press becomes the original message again, under the press's own
  // request id; the log line above links both ids. Its callback is answered
  // once the user is known to still exist.
  st.pending_callback = msg.callback_id;
  st.retry_of = action.id;
  msg.callback_id.clear();
  msg.text = std::move(res.record.text);
  // A photo or file is fetched again (media/retry_text.hpp).
  if (decode_media_retry(msg))
    st.media_ready = false;
  return false;
}

void press_dismiss(user_self self) {
  auto& msg = *self->state.current;
  auto tg = peer<telegram_actor>(self);
  if (!tg || msg.message_id == 0)
    return press_unknown(self, "dismiss_without_message");
  auto callback_id = msg.callback_id;
  auto request_id = msg.request_id;
  self
    ->request(tg, std::chrono::seconds(30), delete_atom_v, msg.chat_id,
              msg.message_id)
    .then(
      [self, callback_id, request_id](bool deleted) {
        answer_callback(self, callback_id,
                        deleted ? callback_reply::dismissed
                                : callback_reply::unknown_button,
                        request_id);
      },
      [self, callback_id, request_id](caf::error&) {
        answer_callback(self, callback_id, callback_reply::unknown_button,
                        request_id);
      });
  done_locally(self);
}

void press_restart(user_self self, const callback_action& action) {
  auto& st = self->state;
  auto& msg = *st.current;
  bool valid = !st.restart_nonce.empty() && action.id == st.restart_nonce
    && clock_type::now() < st.restart_nonce_expires;
  if (!valid) {
    answer_callback(self, msg.callback_id, callback_reply::restart_expired,
                    msg.request_id);
    return done_locally(self);
  }
  st.restart_nonce.clear();
  auto tg = peer<telegram_actor>(self);
  if (tg && msg.message_id != 0) // the question is answered: remove it
    self
      ->request(tg, std::chrono::seconds(30), delete_atom_v, msg.chat_id,
                msg.message_id)
      .then([](bool) {}, [](caf::error&) {});
  if (action.kind == callback_kind::restart_cancel) {
    answer_callback(self, msg.callback_id, callback_reply::restart_cancelled,
                    msg.request_id);
    return done_locally(self);
  }
  auto prov = peer<provisioner_actor>(self);
  if (!prov) {
    answer_callback(self, msg.callback_id, callback_reply::restart_expired,
                    msg.request_id);
    return done_locally(self);
  }
  answer_callback(self, msg.callback_id, callback_reply::restart_started,
                  msg.request_id);
  logger("user")->info("event=restart_requested user={} request_id={}",
                       st.user_id, msg.request_id);
  auto copy = msg;
  self
    ->request(prov, st.ctx->cfg.user.ensure_timeout, restart_atom_v, st.user_id)
    .then(
      [self, copy](bool ok) {
        logger("user")->info("event=restart_done user={} ok={} request_id={}",
                             self->state.user_id, ok, copy.request_id);
        if (ok)
          send_text(self, copy.chat_id,
                    "\xE2\x9C\x85 Your assistant was restarted and is ready.",
                    copy.request_id);
        else
          send_error(self, copy, error_code::container_failed, false);
      },
      [self, copy](caf::error& err) {
        logger("user")->warn("event=restart_failed user={} error={} "
                             "request_id={}",
                             self->state.user_id,
                             log_value(self->system().render(err)),
                             copy.request_id);
        send_error(self, copy, error_code_of(code_of(err)), false);
      });
  done_locally(self);
}

bool handle_button(user_self self) {
  auto& msg = *self->state.current;
  auto action = decode_callback(msg.text);
  if (!action) {
    press_unknown(self, "undecodable");
    return true;
  }
  switch (action->kind) {
    case callback_kind::retry: return press_retry(self, *action);
    case callback_kind::dismiss: press_dismiss(self); return true;
    case callback_kind::restart_confirm:
    case callback_kind::restart_cancel:
      press_restart(self, *action);
      return true;
    case callback_kind::approve:
    case callback_kind::reject: press_access(self, *action); return true;
    case callback_kind::page: press_page(self, *action); return true;
    case callback_kind::stop:
      // A Stop of the answer in flight is taken before the queue
      // (user_stream.cpp); one that waited here came after its answer.
      answer_callback(self, msg.callback_id, callback_reply::stop_too_late,
                      msg.request_id);
      done_locally(self);
      return true;
  }
  press_unknown(self, "unknown_kind");
  return true;
}

} // namespace

user_command parse_user_command(std::string_view text) {
  if (text.empty() || text.front() != '/')
    return user_command::none;
  auto end = text.find_first_of(" \t\n@");
  auto word = text.substr(1, end == std::string_view::npos ? end : end - 1);
  if (word.size() > 16)
    return user_command::none;
  std::string name;
  for (char c : word)
    name += lower(c);
  if (name == "start")
    return user_command::start;
  if (name == "help")
    return user_command::help;
  if (name == "status")
    return user_command::status;
  if (name == "restart")
    return user_command::restart;
  if (name == "forget")
    return user_command::forget;
  if (name == "reset")
    return user_command::reset;
  if (name == "usage")
    return user_command::usage;
  if (name == "approve")
    return user_command::approve;
  if (name == "reject")
    return user_command::reject;
  if (name == "revoke")
    return user_command::revoke;
  if (name == "users")
    return user_command::users;
  if (name == "broadcast")
    return user_command::broadcast;
  if (name == "containers")
    return user_command::containers;
  return user_command::none;
}

std::string format_uptime(std::chrono::seconds d) {
  auto s = std::max<int64_t>(0, d.count());
  if (s < 60)
    return std::to_string(s) + " s";
  if (s < 3600)
    return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  if (s < 86400)
    return std::to_string(s / 3600) + " h " + std::to_string(s / 60 % 60)
      + " min";
  return std::to_string(s / 86400) + " d " + std::to_string(s / 3600 % 24)
    + " h";
}

void reply_provisioned(user_self self) {
  auto& msg = *self->state.current;
  outgoing_text out;
  out.chat_id = msg.chat_id;
  out.request_id = msg.request_id;
  out.text = "\xE2\x9C\x85 Your assistant is ready. Write your first "
             "message!";
  send_and_finish(self, std::move(out));
}

void reply_retry_for_unknown_user(user_self self) {
  auto& st = self->state;
  logger("user")->info("event=retry_unknown_user user={} "
                       "original_request_id={} request_id={}",
                       st.user_id, st.retry_of, st.current->request_id);
  if (!st.pending_callback.empty()) {
    answer_callback(self, st.pending_callback, callback_reply::retry_expired,
                    st.current->request_id);
    st.pending_callback.clear();
  }
  done_locally(self);
}

bool handle_locally(user_self self) {
  auto& st = self->state;
  st.provision_only = false;
  st.pending_callback.clear();
  st.retry_of.clear();
  if (st.current->is_callback())
    return handle_button(self);
  auto cmd = parse_user_command(st.current->text);
  if (cmd == user_command::none)
    return false;
  return handle_command(self, cmd);
}

} // namespace zaki
