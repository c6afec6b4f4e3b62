#include "chat/callback_data.hpp"

#include "chat/request_id.hpp"

namespace zaki {

namespace {

// The version prefix lets a later format ("z2:") coexist with buttons that
// are still on users' screens; old versions decode to nullopt and get the
// polite "unknown button" toast.
constexpr std::string_view prefix = "z1:";

std::string_view tag_of(callback_kind kind) {
  switch (kind) {
    case callback_kind::retry: return "r";
    case callback_kind::dismiss: return "d";
    case callback_kind::restart_confirm: return "rs";
    case callback_kind::restart_cancel: return "rc";
    case callback_kind::stop: return "s";
    case callback_kind::approve: return "a";
    case callback_kind::reject: return "x";
    case callback_kind::page: return "p";
  }
  return {};
}

std::optional<callback_kind> kind_of(std::string_view tag) {
  if (tag == "r")
    return callback_kind::retry;
  if (tag == "d")
    return callback_kind::dismiss;
  if (tag == "rs")
    return callback_kind::restart_confirm;
  if (tag == "s")
    return callback_kind::stop;
  if (tag == "rc")
    return callback_kind::restart_cancel;
  if (tag == "a")
    return callback_kind::approve;
  if (tag == "x")
    return callback_kind::reject;
  if (tag == "p")
    return callback_kind::page;
  return std::nullopt;
}

} // namespace

bool operator==(const callback_action& x, const callback_action& y) {
  return x.kind == y.kind && x.id == y.id;
}

std::string encode_callback(callback_kind kind, std::string_view id) {
  auto tag = tag_of(kind);
  if (tag.empty() || !is_valid_request_id(id))
    return {};
  std::string out;
  out.reserve(prefix.size() + tag.size() + 1 + id.size());
  out += prefix;
  out += tag;
  out += ':';
  out += id;
  return out;
}

std::string encode_callback(const callback_action& action) {
  return encode_callback(action.kind, action.id);
}

std::optional<callback_action> decode_callback(std::string_view data) {
  if (data.size() > max_callback_data_size
      || data.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  data.remove_prefix(prefix.size());
  auto sep = data.find(':');
  if (sep == std::string_view::npos)
    return std::nullopt;
  auto kind = kind_of(data.substr(0, sep));
  auto id = data.substr(sep + 1);
  if (!kind || !is_valid_request_id(id))
    return std::nullopt;
  return callback_action{*kind, std::string{id}};
}

std::string_view toast_text(callback_reply reply) {
  switch (reply) {
    case callback_reply::retrying:
      return "Sending your message again\xE2\x80\xA6";
    case callback_reply::retry_already_sent:
      return "Already sent again \xE2\x80\x94 please wait for the answer.";
    case callback_reply::retry_expired:
      return "Sorry, I no longer have that message. Please send it again.";
    case callback_reply::dismissed: return "Dismissed.";
    case callback_reply::restart_started:
      return "Restarting your assistant\xE2\x80\xA6 This can take a minute.";
    case callback_reply::restart_cancelled: return "Restart cancelled.";
    case callback_reply::restart_expired:
      return "This button has expired. Send /restart again if needed.";
    case callback_reply::unknown_button:
      return "Sorry, this button no longer works.";
    case callback_reply::stopped: return "Stopped.";
    case callback_reply::stop_too_late:
      return "The answer is complete already.";
  }
  return "Sorry, this button no longer works.";
}

} // namespace zaki
