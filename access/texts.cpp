#include "access/texts.hpp"

#include <ctime>

#include "chat/callback_data.hpp"
#include "json/writer.hpp"

namespace zaki {

namespace {

std::string mention(int64_t id) {
  auto s = std::to_string(id);
  return "<a href=\"tg://user?id=" + s + "\">" + s + "</a>";
}

} // namespace

std::string waiting_for_approval_text() {
  return "\xE2\x8F\xB3 Thanks! Your request to use this bot was sent to an "
         "admin for approval. I will tell you as soon as it is decided; "
         "your messages are kept until then.";
}

std::string try_later_text() {
  return "\xF0\x9F\x9A\xA6 Too many people are waiting for approval right "
         "now. Please try again later.";
}

std::string not_allowed_text(int64_t user_id) {
  return "\xF0\x9F\x94\x92 This bot is private. Ask its operator to add "
         "your id "
    + std::to_string(user_id) + ".";
}

std::string closed_text() {
  return "\xF0\x9F\x94\x92 This bot is not taking new users.";
}

std::string rejected_text() {
  return "Sorry, your request to use this bot was not approved.";
}

std::string revoked_text() {
  return "\xF0\x9F\x94\x92 Your access to this bot was revoked. Contact its "
         "operator if you think this is a mistake.";
}

std::string approved_text() {
  return "\xE2\x9C\x85 You are approved! Your assistant is being set up; "
         "your messages follow.";
}

std::string held_overflow_text(uint64_t kept) {
  return "\xE2\x9A\xA0\xEF\xB8\x8F " + std::to_string(kept)
    + " messages are kept until an admin decides; further ones are "
      "dropped.";
}

std::string approval_request_html(int64_t user_id) {
  return "\xF0\x9F\x86\x95 <b>Access request</b>\n\nUser " + mention(user_id)
    + " (id <code>" + std::to_string(user_id)
    + "</code>) wants to use the bot.";
}

std::string approval_decided_html(int64_t user_id, const std::string& status,
                                  int64_t by, int64_t at) {
  std::string t = "\xF0\x9F\x86\x95 Access request of " + mention(user_id)
    + ": ";
  t += status == "approved" ? "\xE2\x9C\x85 approved"
                            : "\xE2\x9D\x8C " + status;
  t += " by ";
  t += by != 0 ? mention(by) : std::string{"the operator"};
  t += " at " + format_utc(at);
  return t;
}

std::string approval_keyboard(const std::string& nonce) {
  json_writer w;
  w.begin_object().key("inline_keyboard").begin_array().begin_array();
  w.begin_object()
    .field("text", "\xE2\x9C\x85 Approve")
    .field("callback_data", encode_callback(callback_kind::approve, nonce))
    .end_object();
  w.begin_object()
    .field("text", "\xE2\x9D\x8C Reject")
    .field("callback_data", encode_callback(callback_kind::reject, nonce))
    .end_object();
  w.end_array().end_array().end_object();
  return w.take();
}

std::string bot_commands_json(bool admin) {
  static constexpr std::pair<const char*, const char*> user_commands[] = {
    {"start", "set up your assistant"},
    {"help", "what this bot can do"},
    {"status", "your assistant's state"},
    {"reset", "start a fresh conversation"},
    {"usage", "your requests and tokens"},
    {"restart", "restart your assistant"},
    {"forget", "delete the transcript this bot keeps"},
  };
  static constexpr std::pair<const char*, const char*> operator_commands[] = {
    {"users", "list users: pending, approved, rejected, revoked"},
    {"approve", "approve ID: let a user in"},
    {"reject", "reject ID: turn a request down"},
    {"revoke", "revoke ID [purge]: stop a user's assistant"},
    {"containers", "every container's state and restarts"},
    {"broadcast", "broadcast TEXT: a message to every approved user"},
  };
  json_writer w;
  w.begin_array();
  for (auto& [name, what] : user_commands)
    w.begin_object()
      .field("command", name)
      .field("description", what)
      .end_object();
  if (admin)
    for (auto& [name, what] : operator_commands)
      w.begin_object()
        .field("command", name)
        .field("description", what)
        .end_object();
  w.end_array();
  return w.take();
}

std::string format_utc(int64_t at) {
  std::time_t t = static_cast<std::time_t>(at);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

} // namespace zaki
