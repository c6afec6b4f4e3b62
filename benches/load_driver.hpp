#pragma once

// The simulated users: they write "u<id>-m<seq> ..." texts into the fake
// Bot API, either closed loop (a user's next message once the reply to the
// previous one arrived) or open loop (a fixed total rate, round robin over
// the users), and check every reply the bot sends: which user and message it
// answers, whether it came twice, to the wrong chat, or out of order. The
// latency of a message runs from `push_text` to the arrival of its reply.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "benches/load_world.hpp"

namespace zaki::bench {

/// What one phase of a scenario does.
struct run_plan {
  /// Active users (the first `users` of the world's registry).
  size_t users = 50;

  /// Messages per user.
  size_t messages = 5;

  /// Open loop at `rate` messages/s when true, else closed loop.
  bool open_loop = false;
  double rate = 500;

  /// Gives up waiting for replies after this.
  std::chrono::seconds timeout{120};

  /// Returns the number of messages of the phase.
  uint64_t total() const {
    return static_cast<uint64_t>(users) * messages;
  }
};

/// What the users saw in one phase.
struct run_record {
  uint64_t expected = 0;
  /// Distinct messages answered with their echo.
  uint64_t delivered = 0;
  uint64_t lost = 0;
  /// Replies beyond the first for one message.
  uint64_t duplicated = 0;
  /// Replies in a chat other than the sender's.
  uint64_t misrouted = 0;
  /// Replies of a user arriving in another order than the messages.
  uint64_t order_violations = 0;
  /// Other messages from the bot (error texts, notices).
  uint64_t unexpected = 0;
  /// End-to-end latency of every delivered message, in microseconds.
  std::vector<double> latencies_us;
  /// Streamed answers: from the gateway's event with the 30th character to
  /// the first preview's arrival at the fake Bot API, in microseconds; of
  /// every answer, and of the first answer in each chat (the others may
  /// wait for the chat's pacing: the previous answer's final edit).
  std::vector<double> preview_us;
  std::vector<double> first_preview_us;
  /// First push to last reply.
  double wall_seconds = 0;
};

/// Drives one phase; `on_reply` is wired to the fake's `on_send`.
class load_driver {
public:
  using clock = std::chrono::steady_clock;

  load_driver(load_world& world, run_plan plan)
    : world_(world), plan_(plan), users_(plan.users) {
    for (auto& u : users_) {
      u.pushed.resize(plan.messages);
      u.marked.resize(plan.messages);
      u.replies.resize(plan.messages, 0);
    }
    latencies_.reserve(plan.total());
  }

  ~load_driver() {
    stop_ = true;
    if (pacer_.joinable())
      pacer_.join();
  }

  load_driver(const load_driver&) = delete;
  load_driver& operator=(const load_driver&) = delete;

  /// Returns the text of message `seq` of user `i`.
  static std::string text_of(size_t i, size_t seq) {
    // A realistic short chat line; no Markdown characters, so the echo
    // comes back unchanged whatever the router renders.
    static const char* const lines[] = {
      " Hello, who are you today?",
      " What is the weather like on Mars right now?",
      " Напиши короткое стихотворение о море",
      " Summarise our chat so far, please.",
    };
    return "u" + std::to_string(load_world::user_id(i)) + "-m"
      + std::to_string(seq) + lines[(i + seq) % 4];
  }

  /// Starts pushing messages.
  void start() {
    started_ = clock::now();
    if (plan_.open_loop) {
      pacer_ = std::thread{[this] {
        pace();
      }};
      return;
    }
    for (size_t i = 0; i < plan_.users && plan_.messages > 0; ++i)
      push(i, 0);
  }

  /// Records that the gateway sent the 30th character of the answer to
  /// `content` (called on a gateway io thread).
  void on_mark(const std::string& content) {
    auto now = clock::now();
    int64_t uid = 0;
    int64_t seq = -1;
    if (!parse_marker(content, uid, seq))
      return;
    auto index = world_.user_index(uid);
    if (index < 0 || static_cast<size_t>(index) >= users_.size() || seq < 0
        || static_cast<size_t>(seq) >= plan_.messages)
      return;
    std::lock_guard<std::mutex> guard{mtx_};
    users_[index].marked[seq] = now;
  }

  /// Records one sendMessage of the bot (called on a fake io thread).
  void on_reply(const fakes::sent_message& m) {
    auto now = m.at;
    int64_t uid = 0;
    int64_t seq = -1;
    if (!parse_marker(m.text, uid, seq)) {
      ++unexpected_;
      return;
    }
    auto index = world_.user_index(uid);
    if (index < 0 || static_cast<size_t>(index) >= users_.size() || seq < 0
        || static_cast<size_t>(seq) >= plan_.messages) {
      ++unexpected_;
      return;
    }
    bool push_next = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto& u = users_[index];
      if (m.chat_id != uid)
        ++misrouted_;
      if (seq < u.last_replied)
        ++order_violations_;
      u.last_replied = std::max<int64_t>(u.last_replied, seq);
      if (u.replies[seq]++ > 0) {
        ++duplicated_;
        return;
      }
      latencies_.push_back(
        std::chrono::duration<double, std::micro>(now - u.pushed[seq]).count());
      if (u.marked[seq] != clock::time_point{}) {
        auto us = std::chrono::duration<double, std::micro>(now - u.marked[seq])
                    .count();
        preview_us_.push_back(us);
        if (seq == 0)
          first_preview_us_.push_back(us);
      }
      last_reply_ = std::max(last_reply_, now);
      push_next = !plan_.open_loop
        && static_cast<size_t>(seq) + 1 < plan_.messages;
      if (++delivered_ == plan_.total())
        done_.notify_all();
    }
    if (push_next)
      push(static_cast<size_t>(index), static_cast<size_t>(seq) + 1);
  }

  /// Waits until every message was answered; false on timeout.
  bool wait() {
    std::unique_lock<std::mutex> guard{mtx_};
    return done_.wait_for(guard, plan_.timeout, [&] {
      return delivered_ >= plan_.total();
    });
  }

  /// Stops pushing and returns the record; call after `wait`.
  run_record finish() {
    stop_ = true;
    if (pacer_.joinable())
      pacer_.join();
    std::lock_guard<std::mutex> guard{mtx_};
    run_record r;
    r.expected = plan_.total();
    r.delivered = delivered_;
    r.lost = r.expected - delivered_;
    r.duplicated = duplicated_;
    r.misrouted = misrouted_;
    r.order_violations = order_violations_;
    r.unexpected = unexpected_;
    r.latencies_us = latencies_;
    r.preview_us = preview_us_;
    r.first_preview_us = first_preview_us_;
    if (delivered_ > 0)
      r.wall_seconds
        = std::chrono::duration<double>(last_reply_ - started_).count();
    return r;
  }

  /// Returns how many replies message `seq` of user `uid` got so far.
  uint32_t replies_to(int64_t uid, int64_t seq) {
    auto index = world_.user_index(uid);
    std::lock_guard<std::mutex> guard{mtx_};
    if (index < 0 || static_cast<size_t>(index) >= users_.size() || seq < 0
        || static_cast<size_t>(seq) >= plan_.messages)
      return 0;
    return users_[index].replies[seq];
  }

  /// Returns the replies beyond the first so far.
  uint64_t duplicated() {
    std::lock_guard<std::mutex> guard{mtx_};
    return duplicated_;
  }

  /// Finds "u<id>-m<seq>" in `text` (public for the crash suite).
  static bool marker_of(const std::string& text, int64_t& uid, int64_t& seq) {
    return parse_marker(text, uid, seq);
  }

private:
  struct user_slot {
    std::vector<clock::time_point> pushed;
    std::vector<clock::time_point> marked;
    std::vector<uint8_t> replies;
    int64_t last_replied = -1;
  };

  /// Finds "u<id>-m<seq>" in `text`.
  static bool parse_marker(const std::string& text, int64_t& uid,
                           int64_t& seq) {
    auto p = text.find('u');
    while (p != std::string::npos) {
      size_t i = p + 1;
      int64_t id = 0;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9')
        id = id * 10 + (text[i++] - '0');
      if (i > p + 1 && text.compare(i, 2, "-m") == 0) {
        i += 2;
        auto begin = i;
        int64_t s = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9')
          s = s * 10 + (text[i++] - '0');
        if (i > begin) {
          uid = id;
          seq = s;
          return true;
        }
      }
      p = text.find('u', p + 1);
    }
    return false;
  }

  void push(size_t i, size_t seq) {
    auto text = text_of(i, seq);
    {
      std::lock_guard<std::mutex> guard{mtx_};
      users_[i].pushed[seq] = clock::now();
    }
    world_.telegram().push_text(load_world::user_id(i), std::move(text));
  }

  /// Open loop: message k (user k % N, seq k / N) is due at k / rate.
  void pace() {
    auto total = plan_.total();
    auto step = std::chrono::duration<double>(1.0 / plan_.rate);
    for (uint64_t k = 0; k < total && !stop_; ++k) {
      auto due = started_
        + std::chrono::duration_cast<clock::duration>(step * k);
      std::this_thread::sleep_until(due);
      push(k % plan_.users, k / plan_.users);
    }
  }

  load_world& world_;
  run_plan plan_;
  std::mutex mtx_;
  std::condition_variable done_;
  std::vector<user_slot> users_;
  std::vector<double> latencies_;
  std::vector<double> preview_us_;
  std::vector<double> first_preview_us_;
  uint64_t delivered_ = 0;
  uint64_t duplicated_ = 0;
  uint64_t misrouted_ = 0;
  uint64_t order_violations_ = 0;
  std::atomic<uint64_t> unexpected_{0};
  clock::time_point started_;
  clock::time_point last_reply_;
  std::atomic<bool> stop_{false};
  std::thread pacer_;
};

} // namespace zaki::bench
