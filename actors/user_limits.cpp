#include "actors/user_limits.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "access/policy.hpp"
#include "access/texts.hpp"
#include "actors/user_commands.hpp"
#include "messages/peer.hpp"
#include "runtime/logging.hpp"
#include "runtime/metrics.hpp"

namespace zaki {

namespace {

uint64_t tokens_of(const usage_record& u) {
  return static_cast<uint64_t>(std::max<int64_t>(u.prompt_tokens, 0)
                               + std::max<int64_t>(u.completion_tokens, 0));
}

/// Messages that cost the gateway nothing pass without a token: button
/// presses, commands the router answers itself, answers replayed after a
/// crash (they passed when first sent).
bool rate_exempt(const inbound_message& msg) {
  if (msg.is_callback() || msg.answered)
    return true;
  auto cmd = parse_user_command(msg.text);
  return cmd != user_command::none && cmd != user_command::reset;
}

/// Tells the user and finishes the current message when the day's budget
/// is spent; returns whether it did.
bool refuse_if_spent(user_self self,
                     std::chrono::system_clock::time_point now) {
  auto& st = self->state;
  if (!st.budget.exhausted(now))
    return false;
  ++st.budget_refused;
  metric::budget_refusal();
  logger("user")->info("event=budget_spent user={} used={} limit={} "
                       "request_id={}",
                       st.user_id, st.budget.used(now), st.budget.limit(),
                       st.current->request_id);
  outgoing_text out;
  out.chat_id = st.current->chat_id;
  out.request_id = st.current->request_id;
  out.text = budget_spent_text(st.budget.limit(), st.budget.used(now), now);
  send_and_finish(self, std::move(out));
  return true;
}

} // namespace

std::chrono::system_clock::time_point wall_now(user_self self) {
  auto& clock = self->state.ctx->wall_clock;
  return clock ? clock() : std::chrono::system_clock::now();
}

void init_limits(user_self self) {
  auto& st = self->state;
  auto& cfg = st.ctx->cfg.access;
  // Validated at start; a bad value here (a test's settings) means none.
  if (auto spec = parse_rate(cfg.rate))
    st.rate = rate_limit{*spec, self->clock().now()};
  st.budget = daily_budget{cfg.daily_tokens};
  std::string bad;
  if (auto ids = parse_admin_ids(cfg.admins, bad))
    st.is_admin = std::find(ids->begin(), ids->end(), st.user_id) != ids->end();
}

bool rate_allows(user_self self) {
  auto& st = self->state;
  if (!st.rate.enabled() || rate_exempt(st.queue.front()))
    return true;
  auto now = self->clock().now();
  if (st.session.rate_due && now < *st.session.rate_due)
    return false; // the tick starts it
  st.session.rate_due.reset();
  if (st.rate.try_take(now)) {
    // A message that did not wait, with nothing behind it: the burst is
    // over, the next wait is told again.
    if (!st.front_waited && st.queue.size() == 1)
      st.rate.end_burst();
    st.front_waited = false;
    return true;
  }
  auto& front = st.queue.front();
  if (!st.front_waited) {
    st.front_waited = true;
    ++st.rate_held;
    metric::rate_limit_held();
  }
  auto wait = st.rate.wait(now);
  st.session.rate_due = now + wait;
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(
    wait + std::chrono::seconds{1} - std::chrono::nanoseconds{1});
  logger("user")->info(
    "event=rate_limited user={} queued={} wait_ms={} "
    "request_id={}",
    st.user_id, st.queue.size(),
    std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(),
    front.request_id);
  if (st.rate.take_notice()) {
    metric::rate_limit_notice();
    send_text(self, front.chat_id, slow_down_text(st.rate.spec(), secs),
              front.request_id);
  }
  return false;
}

bool budget_allows(user_self self) {
  auto& st = self->state;
  if (!st.budget.enabled() || st.is_admin || st.provision_only)
    return true;
  auto now = wall_now(self);
  if (st.budget.known(now))
    return !refuse_if_spent(self, now);
  auto store = peer<store_actor>(self);
  if (!store)
    return true; // nothing counted: the budget cannot be spent
  // Today's count from the store (which adds what it has not committed
  // yet), once per actor and day; the actor counts on from there.
  st.session.phase = user_phase::budget;
  auto seq = ++st.seq;
  auto day = utc_day_text(now);
  self
    ->request(store, std::chrono::seconds(10), usage_atom_v, st.user_id, day,
              day)
    .then(
      [self, seq](const usage_record& u) {
        auto& st = self->state;
        if (st.seq != seq || !st.current)
          return;
        auto now = wall_now(self);
        st.budget.seed(now, tokens_of(u));
        if (!refuse_if_spent(self, now))
          user_budget_continue(self);
      },
      [self, seq](caf::error& err) {
        auto& st = self->state;
        if (st.seq != seq || !st.current)
          return;
        // Not known: this message goes on, the next one asks again.
        logger("user")->warn("event=budget_unknown user={} error={} "
                             "request_id={}",
                             st.user_id, log_value(self->system().render(err)),
                             st.current->request_id);
        user_budget_continue(self);
      });
  return false;
}

void count_answer_tokens(user_self self, const gateway_answer& answer) {
  auto tokens = std::max<int64_t>(answer.prompt_tokens, 0)
    + std::max<int64_t>(answer.completion_tokens, 0);
  self->state.budget.add(wall_now(self), static_cast<uint64_t>(tokens));
}

std::string limits_usage_text(user_self self, uint64_t tokens_today) {
  auto& st = self->state;
  auto now = wall_now(self);
  std::string out = "Rate limit: ";
  if (st.rate.enabled())
    out += describe(st.rate.spec()) + " ("
      + std::to_string(st.rate.available(self->clock().now()))
      + " available now)";
  else
    out += "none";
  st.budget.seed(now, tokens_today);
  out += "\n"
    + budget_usage_text(st.budget.limit(), st.budget.used(now), st.is_admin,
                        now);
  return out;
}

void write_limits_status(user_self self, status_detail& w) {
  auto& st = self->state;
  auto now = wall_now(self);
  w.key("limits").begin_object();
  w.field("rate", to_string(st.rate.spec()));
  if (st.rate.enabled())
    w.field("rate_available", uint64_t{st.rate.available(self->clock().now())});
  w.field("rate_waiting", st.session.rate_due.has_value());
  w.field("rate_held", st.rate_held);
  w.field("daily_tokens", st.budget.limit());
  w.field("budget_exempt", st.is_admin);
  if (st.budget.enabled() && !st.is_admin) {
    if (st.budget.known(now))
      w.field("tokens_used_today", st.budget.used(now))
        .field("tokens_left_today", st.budget.left(now));
    else
      w.key("tokens_used_today").null(); // asked of the store on need
    auto resets = std::chrono::duration_cast<std::chrono::seconds>(
      next_utc_midnight(now).time_since_epoch());
    w.field("budget_resets_at", format_utc(resets.count()));
  }
  w.field("budget_refused", st.budget_refused);
  w.end_object();
}

} // namespace zaki
