#include "media/policy.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace zaki {

namespace {

constexpr std::string_view readable
  = "I can read text, photos, documents, audio, video and voice notes";

std::string unreadable_notice(inbound_kind kind) {
  std::string what;
  switch (kind) {
    case inbound_kind::sticker:
      what = "Nice sticker! I can't see stickers, though.";
      break;
    case inbound_kind::location: what = "I can't read shared locations."; break;
    case inbound_kind::contact: what = "I can't read shared contacts."; break;
    case inbound_kind::poll: what = "I can't take part in polls."; break;
    case inbound_kind::dice: what = "I can't play dice."; break;
    default: what = "I can't read this kind of message.";
  }
  return what + " " + std::string{readable}
  + ": write it in words, or send it as a file.";
}

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// Returns the position of `@name` as a whole word in `text`, or npos.
size_t find_mention(std::string_view text, std::string_view name) {
  if (name.empty())
    return std::string_view::npos;
  for (size_t i = 0; i + name.size() < text.size(); ++i) {
    if (text[i] != '@')
      continue;
    bool same = true;
    for (size_t j = 0; j < name.size() && same; ++j)
      same = lower(text[i + 1 + j]) == lower(name[j]);
    auto end = i + 1 + name.size();
    if (same && (end == text.size() || !name_char(text[end])))
      return i;
  }
  return std::string_view::npos;
}

} // namespace

std::string human_size(uint64_t bytes) {
  if (bytes >= (1u << 20))
    return std::to_string(bytes >> 20) + " MB";
  if (bytes >= 1024)
    return std::to_string(bytes >> 10) + " KB";
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

int64_t bot_id_of_token(std::string_view token) {
  auto colon = token.find(':');
  if (colon == std::string_view::npos)
    return 0;
  int64_t id = 0;
  auto res = std::from_chars(token.data(), token.data() + colon, id);
  return res.ec == std::errc{} && res.ptr == token.data() + colon ? id : 0;
}

bool addresses_bot(const inbound_message& msg, const media_policy& policy) {
  if (policy.bot_id != 0 && msg.reply_to_user_id == policy.bot_id)
    return true;
  return msg.mentions
    && find_mention(msg.text, policy.bot_username) != std::string_view::npos;
}

std::string strip_bot_mention(std::string_view text,
                              std::string_view bot_username) {
  std::string out{text};
  for (;;) {
    auto at = find_mention(out, bot_username);
    if (at == std::string::npos)
      break;
    out.erase(at, bot_username.size() + 1);
  }
  auto first = out.find_first_not_of(" \t\n,:");
  if (first == std::string::npos)
    return {};
  auto last = out.find_last_not_of(" \t\n");
  return out.substr(first, last - first + 1);
}

std::string group_public_notice() {
  return "Note: I answer here as a reply, so everyone in this group can read "
         "my answers. For anything private, write to me directly.";
}

media_verdict decide(const inbound_message& msg, const media_policy& policy) {
  media_verdict v;
  if (msg.is_callback())
    return v;
  if (msg.edited) {
    v.action = media_action::ignore;
    return v;
  }
  if (msg.chat == chat_kind::channel) {
    v.action = media_action::ignore;
    return v;
  }
  if (msg.chat != chat_kind::private_chat) {
    if (!policy.groups_mention) {
      v.action = media_action::notice;
      v.text = "I work in private chats: write to me directly";
      if (!policy.bot_username.empty())
        v.text += " at https://t.me/" + policy.bot_username;
      v.text += ".";
      v.once_key = "group:" + std::to_string(msg.chat_id);
      return v;
    }
    if (!addresses_bot(msg, policy)) {
      v.action = media_action::ignore;
      return v;
    }
    v.in_group = true;
  }
  if (msg.kind > inbound_kind::voice) {
    v.action = media_action::notice;
    v.text = unreadable_notice(msg.kind);
    v.once_key = std::string{"kind:"} + to_string(msg.kind);
    return v;
  }
  if (msg.kind == inbound_kind::photo && msg.file_id.empty()) {
    v.action = media_action::notice;
    v.text = "This photo is too large for me: I can read pictures up to "
      + human_size(policy.max_image_bytes)
      + ". Send a smaller one, or send it as a file.";
    return v;
  }
  if (carries_file(msg.kind) && msg.kind != inbound_kind::photo
      && msg.file_size > 0
      && static_cast<uint64_t>(msg.file_size) > policy.max_file_bytes) {
    v.action = media_action::notice;
    v.text = "This file is too large: I can pass on files up to "
      + human_size(policy.max_file_bytes)
      + ". Nothing was saved. Send a smaller file, or split it.";
    return v;
  }
  return v;
}

} // namespace zaki
