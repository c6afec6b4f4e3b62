#pragma once

#include <cstdint>
#include <string>

namespace zaki {

// What users and admins read about access decisions. Plain functions so the
// wording is tested and shared by the bot, the admin API and the demo.

/// Told once to a stranger whose request went to the admins.
std::string waiting_for_approval_text();

/// Told to a stranger when the pending list is full.
std::string try_later_text();

/// Told to a stranger under `allowlist` (names their id for the operator).
std::string not_allowed_text(int64_t user_id);

/// Told to a stranger under `closed`.
std::string closed_text();

/// Told once to a rejected user.
std::string rejected_text();

/// Told to a revoked user on each message.
std::string revoked_text();

/// Told to a user once an admin approved them.
std::string approved_text();

/// Told once when a pending user's kept messages reach the bound.
std::string held_overflow_text(uint64_t kept);

/// Returns the HTML of an admin's approval request about `user_id`.
std::string approval_request_html(int64_t user_id);

/// Returns the HTML that replaces an approval request once decided:
/// `status` is approved or rejected, `by` the admin (0: CLI or admin API),
/// `at` Unix seconds.
std::string approval_decided_html(int64_t user_id, const std::string& status,
                                  int64_t by, int64_t at);

/// Returns the inline keyboard (reply_markup JSON) of an approval request.
std::string approval_keyboard(const std::string& nonce);

/// Returns the setMyCommands list of users, or of admins (the users'
/// commands and the operator commands).
std::string bot_commands_json(bool admin);

/// Returns `at` (Unix seconds) as "2026-12-07 03:05 UTC".
std::string format_utc(int64_t at);

} // namespace zaki
