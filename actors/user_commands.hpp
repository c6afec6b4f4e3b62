#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "actors/user_reply.hpp"

namespace zaki {

// What the router answers itself instead of the assistant: the commands
// /start, /help, /status and /restart, and the presses of its own buttons
// (Retry, Dismiss, the /restart confirmation). Button data is untrusted:
// every press is decoded defensively, checked against the pressing user's
// own records and answered with a toast, whatever it contains.

/// The commands the router handles; any other text (including other
/// commands, which OpenClaw may know) goes to the assistant.
enum class user_command : uint8_t {
  none,
  start,
  help,
  status,
  restart,
  forget,
  /// A fresh conversation: OpenClaw's /new goes to the gateway.
  reset,
  /// Today's and this month's requests and tokens.
  usage,
  // Operator commands (admins only; others get "unknown command").
  approve,
  reject,
  revoke,
  users,
  broadcast,
  /// Every container's state and restarts (admins only).
  containers,
};

/// Parses a command at the start of `text`: "/status", "/status@SomeBot"
/// and "/status anything" all give `status`; letters are compared
/// case-insensitively. Anything else gives `none`.
user_command parse_user_command(std::string_view text);

/// Returns a duration in words for /status, e.g. "2 h 5 min" or "42 s".
std::string format_uptime(std::chrono::seconds d);

/// How long a /restart confirmation button stays valid.
constexpr std::chrono::minutes restart_confirm_window{5};

/// Returns a function that replies a plain text to the current message and
/// finishes it, unless a newer message took its place meanwhile.
std::function<void(std::string)> replier(user_self self);

/// Tells the user that /start found or set up their assistant, then
/// finishes the current message.
void reply_provisioned(user_self self);

/// Answers a press of a button this user cannot use (forged, spent, someone
/// else's) with a toast, logs why, and finishes the current message.
void press_unknown(user_self self, const char* why);

/// Answers a Retry press whose user could not be found (removed), then
/// finishes the current message.
void reply_retry_for_unknown_user(user_self self);

} // namespace zaki
