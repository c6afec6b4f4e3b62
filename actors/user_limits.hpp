#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "actors/user_reply.hpp"
#include "messages/status_detail.hpp"

namespace zaki {

// The per-user limits of issue 23 inside a user actor: the message rate
// (`access.rate`, a token bucket; messages over it wait in the actor's own
// queue, released by its tick, and the user is told once per burst) and the
// daily token budget (`access.daily-tokens`; over it a message is answered
// by the router and never reaches a container). The maths is in
// access/rate_limit.hpp and access/budget.hpp; this is the actor's side.

/// Sets up the bucket and the budget of a new user actor.
void init_limits(user_self self);

/// Returns whether the front of the queue may start now. Callbacks and
/// commands the router answers itself always may. A message over the rate
/// stays at the front: `rate_due` says when the next token comes (the
/// actor's tick starts it then), and the first wait of a burst tells the
/// user to slow down.
bool rate_allows(user_self self);

/// Returns whether the current message may go to the gateway. False when
/// the day's budget is spent (the user is told when it resets and the
/// message finishes) or while today's count is fetched from the store
/// (once per actor and day; `user_budget_continue` follows).
bool budget_allows(user_self self);

/// Goes on with the current message once the budget allows it (defined in
/// user.cpp: the container lookup, then the gateway).
void user_budget_continue(user_self self);

/// Counts the tokens of an answer against the day's budget.
void count_answer_tokens(user_self self, const gateway_answer& answer);

/// Returns the /usage lines about the rate limit and the budget;
/// `tokens_today` is the store's count of the day (seeds the budget).
std::string limits_usage_text(user_self self, uint64_t tokens_today);

/// Writes the `limits` member of the user's status (admin API).
void write_limits_status(user_self self, status_detail& w);

/// Returns the wall clock of the budgets (a test may fake it).
std::chrono::system_clock::time_point wall_now(user_self self);

} // namespace zaki
