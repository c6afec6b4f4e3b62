#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/user_commands.hpp"
#include "actors/user_reply.hpp"

namespace zaki {

// The operator commands of issue 23, answered by the admin's own user
// actor: /users, /approve, /reject, /revoke, /containers, /restart ID and
// /broadcast, plus the "« Prev" / "Next »" buttons of the long listings.
// Admins only: anyone else gets "unknown command" and a log line. The
// decisions themselves are the access actor's; this parses, asks and
// renders.

/// One open page button of a listing: its nonce (the callback data carries
/// only that, so a forged press matches nothing), what it shows and the
/// message it belongs to (0 until Telegram gave its id).
struct page_button {
  std::string nonce;
  /// "users" or "containers".
  std::string view;
  /// The /users filter ("" for all).
  std::string status;
  uint32_t page = 0;
  int64_t message_id = 0;
};

/// The page buttons an admin's actor keeps (bounded; they die with the
/// actor, after which a press gets "this button no longer works").
struct operator_pages {
  std::vector<page_button> open;
};

/// Returns whether the actor's user is one of `access.admins`.
bool sender_is_admin(user_self self);

/// Returns the operator part of /help (HTML), shown to admins only.
std::string_view operator_help_html();

/// Handles an operator command of the current message: refuses it for
/// non-admins, checks its arguments and finishes the message.
void handle_operator_command(user_self self, user_command cmd);

/// Handles "/restart ID" of an admin: restarts that user's container.
void handle_operator_restart(user_self self);

/// Handles a "« Prev" / "Next »" press: edits the listing in place, or
/// answers "this button no longer works" and logs a forged or stale one.
void press_page(user_self self, const callback_action& action);

} // namespace zaki
