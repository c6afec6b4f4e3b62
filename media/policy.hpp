#pragma once

#include <cstdint>
#include <string>

#include "messages/types.hpp"

namespace zaki {

/// What the router does with one decoded message before any assistant
/// sees it.
enum class media_action {
  /// Hand it to the user's assistant (after fetching its file, if any).
  route,
  /// Answer with `text` (once per `once_key` when that is set), route
  /// nothing.
  notice,
  /// Say nothing: a group message not meant for the bot, or an edit.
  ignore,
};

/// Settings the decision depends on.
struct media_policy {
  /// chat.groups is "mention": messages that mention the bot or reply to it
  /// are routed from groups.
  bool groups_mention = false;
  /// The bot's username without the @ (may be empty: no mention matches).
  std::string bot_username;
  /// The bot's user id (the part of the token before ':').
  int64_t bot_id = 0;
  uint64_t max_image_bytes = 10 << 20;
  uint64_t max_file_bytes = 20 << 20;
};

/// The decision about one message.
struct media_verdict {
  media_action action = media_action::route;
  /// The notice's text (plain).
  std::string text;
  /// Non-empty: the notice goes out once per conversation and key.
  std::string once_key;
  /// Routed from a group: answers reply to the message, and the first one
  /// carries `group_notice`.
  bool in_group = false;
};

/// Returns what to do with `msg`. Pure: "once" is the caller's to track.
media_verdict decide(const inbound_message& msg, const media_policy& policy);

/// Returns whether `msg` addresses the bot: a mention of `@bot_username`
/// (case-insensitive) or a reply to one of the bot's messages.
bool addresses_bot(const inbound_message& msg, const media_policy& policy);

/// Returns `text` without the mentions of the bot, trimmed.
std::string strip_bot_mention(std::string_view text,
                              std::string_view bot_username);

/// Returns the bot id of a token (`<id>:<secret>`), or 0.
int64_t bot_id_of_token(std::string_view token);

/// Returns the notice told once in a group where answers are public.
std::string group_public_notice();

/// Returns `bytes` as "20 MB" (or KB below one MB), for limits.
std::string human_size(uint64_t bytes);

/// Returns whether messages of this kind carry a file the router fetches.
constexpr bool carries_file(inbound_kind k) {
  return k >= inbound_kind::photo && k <= inbound_kind::voice;
}

} // namespace zaki
