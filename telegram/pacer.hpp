#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>

#include "runtime/fifo.hpp"
#include "telegram/token_bucket.hpp"

namespace zaki {

/// The limits a pacer keeps: Telegram allows about one message a second per
/// chat (a short burst more) and about 30 a second per bot.
struct pacer_limits {
  double chat_rate = 1.0;
  double chat_burst = 3.0;
  double global_rate = 30.0;
  double global_burst = 30.0;
};

/// Paces Bot API calls that add to a chat (sends, previews): one queue per
/// chat, at most one call in flight per chat (so a reply's chunks arrive in
/// order), a token bucket per chat and one for the bot, and a chat blocked
/// until a given time after a 429 or a failed attempt. Chats take turns
/// round-robin, so one long reply does not hold up everyone else.
///
/// Pure and single-threaded: the telegram actor owns one, passes the time
/// in and makes the calls `release` hands it; the tests drive it with a
/// fake clock. `Op` is whatever the caller queues (the actor's call).
template <class Op>
class telegram_pacer {
public:
  using clock = token_bucket::clock;

  /// Idle chats are kept until this many are known (see `finished`).
  static constexpr size_t min_chat_sweep = 4096;

  telegram_pacer(pacer_limits limits, clock::time_point now)
    : limits_(limits), global_(limits.global_rate, limits.global_burst, now) {
    // nop
  }

  /// Queues `op` at the back of its chat's queue.
  void push(int64_t chat_id, Op op, clock::time_point now) {
    chat_of(chat_id, now).queue.push_back(std::move(op));
    mark_ready(chat_id);
  }

  /// Reports that the call `release` made for `chat_id` finished. A
  /// `retry` goes back to the head of the chat's queue (before the rest of
  /// its reply). Forgets idle chats when many are known.
  void finished(int64_t chat_id, std::optional<Op> retry,
                clock::time_point now) {
    auto& chat = chat_of(chat_id, now);
    chat.in_flight = false;
    if (retry)
      chat.queue.push_front(std::move(*retry));
    mark_ready(chat_id);
    forget_idle_chats(now);
  }

  /// Holds every call of `chat_id` until `until`. With `empty_bucket` (a
  /// 429's retry_after), the chat's bucket also starts empty then, so the
  /// chat does not burst right after Telegram asked it to slow down.
  void block(int64_t chat_id, clock::time_point until, bool empty_bucket,
             clock::time_point now) {
    auto& chat = chat_of(chat_id, now);
    chat.blocked_until = until;
    if (empty_bucket)
      chat.bucket.block_until(until);
  }

  /// Calls `send(chat_id, Op&&)` for every queued call the limits allow at
  /// `now` (the chat is then in flight until `finished`), at most
  /// `max_sends` of them: the rest stay queued, ready, in their turn.
  /// Returns when the next waiting call may go, or time_point::max() if
  /// none waits (or only `max_sends` held some back: the caller releases
  /// again when one of its calls finished).
  template <class Send>
  clock::time_point
  release(clock::time_point now, Send&& send, size_t max_sends = SIZE_MAX) {
    auto earliest = clock::time_point::max();
    auto n = ready_.size();
    size_t sends = 0;
    for (size_t i = 0; i < n && sends < max_sends; ++i) {
      auto chat_id = ready_.front();
      ready_.pop_front();
      auto& chat = chats_.at(chat_id);
      if (chat.queue.empty() || chat.in_flight) {
        chat.ready = false;
        continue;
      }
      if (chat.blocked_until > now) {
        earliest = std::min(earliest, chat.blocked_until);
        ready_.push_back(chat_id);
        continue;
      }
      if (auto wait = global_.wait_time(now); wait.count() > 0) {
        earliest = std::min(earliest, now + wait);
        ready_.push_back(chat_id);
        continue;
      }
      if (!chat.bucket.try_take(now)) {
        earliest = std::min(earliest, now + chat.bucket.wait_time(now));
        ready_.push_back(chat_id);
        continue;
      }
      global_.try_take(now);
      chat.ready = false;
      chat.in_flight = true;
      auto op = std::move(chat.queue.front());
      chat.queue.pop_front();
      ++sends;
      send(chat_id, std::move(op));
    }
    return earliest;
  }

  /// Drops the queued calls of `chat_id` that `pred` selects (the later
  /// chunks of a reply whose earlier chunk failed).
  template <class Pred>
  void remove_if(int64_t chat_id, Pred&& pred) {
    if (auto i = chats_.find(chat_id); i != chats_.end())
      i->second.queue.remove_if(std::forward<Pred>(pred));
  }

  /// Returns the calls waiting in all chats.
  size_t queued() const {
    size_t n = 0;
    for (auto& kvp : chats_)
      n += kvp.second.queue.size();
    return n;
  }

  /// Returns the chats known (busy ones and idle ones not swept yet).
  size_t chats() const {
    return chats_.size();
  }

private:
  struct chat_state {
    fifo<Op> queue;
    token_bucket bucket;
    clock::time_point blocked_until;
    bool in_flight = false;
    /// In `ready_` already.
    bool ready = false;
  };

  chat_state& chat_of(int64_t chat_id, clock::time_point now) {
    auto i = chats_.find(chat_id);
    if (i == chats_.end())
      i = chats_
            .emplace(chat_id,
                     chat_state{{},
                                token_bucket{limits_.chat_rate,
                                             limits_.chat_burst, now},
                                {},
                                false,
                                false})
            .first;
    return i->second;
  }

  void mark_ready(int64_t chat_id) {
    auto& chat = chats_.at(chat_id);
    if (!chat.ready && !chat.in_flight && !chat.queue.empty()) {
      chat.ready = true;
      ready_.push_back(chat_id);
    }
  }

  /// Returns whether a chat can be forgotten: idle, and its bucket is full
  /// again, so a new entry would behave exactly the same.
  static bool forgettable(chat_state& chat, clock::time_point now) {
    return chat.queue.empty() && !chat.in_flight && !chat.ready
      && chat.blocked_until <= now && chat.bucket.full(now);
  }

  /// Idle chats stay until `sweep_at_` are known, then all forgettable ones
  /// go at once, so memory does not grow with every chat the bot ever
  /// answered. (Dropping each chat as soon as its reply was sent cost a map
  /// node and a queue, three allocations, per message of a conversation.)
  /// The next sweep waits until the map has doubled, so many busy chats
  /// cost an amortised O(1) per message, not a full walk each.
  void forget_idle_chats(clock::time_point now) {
    if (chats_.size() < sweep_at_)
      return;
    for (auto i = chats_.begin(); i != chats_.end();)
      i = forgettable(i->second, now) ? chats_.erase(i) : std::next(i);
    sweep_at_ = std::max(min_chat_sweep, 2 * chats_.size());
  }

  pacer_limits limits_;
  token_bucket global_;
  std::unordered_map<int64_t, chat_state> chats_;
  /// Chats with a call that may go once the limits allow, in turn order.
  std::deque<int64_t> ready_;
  size_t sweep_at_ = min_chat_sweep;
};

} // namespace zaki
