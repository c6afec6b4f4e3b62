#define CAF_SUITE telegram.pacer
#include "caf/test/unit_test.hpp"

#include <string>
#include <utility>
#include <vector>

#include "telegram/pacer.hpp"

// The per-chat queues and rate limits of the telegram actor, driven with a
// fake clock: order within a chat, one call in flight per chat, turns
// between chats, the chat and bot buckets, 429 blocks, retries at the head,
// and the sweep of idle chats.

using namespace zaki;
using namespace std::chrono;

namespace {

using pacer = telegram_pacer<std::string>;
using moment = pacer::clock::time_point;

const moment t0 = moment{} + hours(1);

/// Default limits: 1 per second per chat with a burst of 3, 30 per second.
pacer_limits telegram_limits() {
  return pacer_limits{};
}

struct fixture {
  pacer p{telegram_limits(), t0};
  std::vector<std::pair<int64_t, std::string>> sent;

  /// Releases at `now`; returns the next time something may go.
  moment release(moment now) {
    return p.release(now, [this](int64_t chat, std::string op) {
      sent.emplace_back(chat, std::move(op));
    });
  }

  std::vector<std::string> ops() const {
    std::vector<std::string> out;
    for (auto& x : sent)
      out.push_back(x.second);
    return out;
  }
};

using strings = std::vector<std::string>;

} // namespace

CAF_TEST_FIXTURE_SCOPE(pacer_tests, fixture)

CAF_TEST(one call in flight per chat and in order) {
  p.push(1, "a1", t0);
  p.push(1, "a2", t0);
  p.push(1, "a3", t0);
  CAF_CHECK_EQUAL(p.queued(), 3u);
  // Tokens are there (burst 3), but a1 is still in flight.
  CAF_CHECK(release(t0) == moment::max());
  CAF_CHECK_EQUAL(ops(), (strings{"a1"}));
  p.finished(1, std::nullopt, t0);
  release(t0);
  CAF_CHECK_EQUAL(ops(), (strings{"a1", "a2"}));
  p.finished(1, std::nullopt, t0);
  release(t0);
  CAF_CHECK_EQUAL(ops(), (strings{"a1", "a2", "a3"}));
  CAF_CHECK_EQUAL(p.queued(), 0u);
}

CAF_TEST(chats take turns) {
  for (int i = 0; i < 3; ++i)
    p.push(1, "a" + std::to_string(i), t0);
  p.push(2, "b0", t0);
  p.push(3, "c0", t0);
  release(t0);
  CAF_CHECK_EQUAL(ops(), (strings{"a0", "b0", "c0"}));
}

CAF_TEST(a chat past its burst waits for its next token) {
  for (int i = 0; i < 5; ++i)
    p.push(1, "a" + std::to_string(i), t0);
  for (int i = 0; i < 3; ++i) {
    release(t0);
    p.finished(1, std::nullopt, t0);
  }
  CAF_CHECK_EQUAL(sent.size(), 3u);
  // The burst is spent: the fourth waits one second (1 per second).
  auto next = release(t0);
  CAF_CHECK_EQUAL(sent.size(), 3u);
  CAF_CHECK(next > t0 + milliseconds(990) && next <= t0 + seconds(1));
  release(t0 + milliseconds(500));
  CAF_CHECK_EQUAL(sent.size(), 3u);
  release(next);
  CAF_CHECK_EQUAL(sent.size(), 4u);
}

CAF_TEST(the bot limit holds across chats) {
  // 40 chats with one message each: 30 go at once, the rest a moment later.
  for (int c = 1; c <= 40; ++c)
    p.push(c, "m" + std::to_string(c), t0);
  auto next = release(t0);
  CAF_CHECK_EQUAL(sent.size(), 30u);
  CAF_CHECK(next > t0 && next <= t0 + milliseconds(34));
  release(t0 + milliseconds(340));
  CAF_CHECK_EQUAL(sent.size(), 40u);
}

CAF_TEST(a 429 blocks only its chat and empties its bucket) {
  p.push(1, "a0", t0);
  p.push(1, "a1", t0);
  p.push(2, "b0", t0);
  release(t0);
  CAF_CHECK_EQUAL(ops(), (strings{"a0", "b0"}));
  // a0 came back with retry_after 5: it goes again first, after 5 s.
  p.block(1, t0 + seconds(5), true, t0);
  p.finished(1, std::string{"a0"}, t0);
  p.push(2, "b1", t0);
  p.finished(2, std::nullopt, t0);
  auto next = release(t0 + seconds(1));
  CAF_CHECK_EQUAL(ops(), (strings{"a0", "b0", "b1"}));
  CAF_CHECK(next == t0 + seconds(5));
  release(t0 + seconds(5));
  CAF_CHECK_EQUAL(ops(), (strings{"a0", "b0", "b1"}));
  // The bucket restarts empty at the end of the block: one token a second.
  release(t0 + seconds(6));
  CAF_CHECK_EQUAL(ops(), (strings{"a0", "b0", "b1", "a0"}));
  p.finished(1, std::nullopt, t0 + seconds(6));
  release(t0 + seconds(6) + milliseconds(500));
  CAF_CHECK_EQUAL(sent.size(), 4u);
  release(t0 + seconds(7));
  CAF_CHECK_EQUAL(ops(), (strings{"a0", "b0", "b1", "a0", "a1"}));
}

CAF_TEST(a retry delay keeps the chat bucket) {
  p.push(1, "a0", t0);
  release(t0);
  // A 502: retried after 500 ms, with the tokens the chat still has.
  p.block(1, t0 + milliseconds(500), false, t0);
  p.finished(1, std::string{"a0"}, t0);
  CAF_CHECK(release(t0 + milliseconds(100)) == t0 + milliseconds(500));
  release(t0 + milliseconds(500));
  CAF_CHECK_EQUAL(ops(), (strings{"a0", "a0"}));
}

CAF_TEST(queued calls can be dropped) {
  p.push(1, "reply1-part1", t0);
  p.push(1, "reply1-part2", t0);
  p.push(1, "reply2", t0);
  release(t0);
  p.remove_if(1, [](const std::string& op) {
    return op.rfind("reply1", 0) == 0;
  });
  p.remove_if(99, [](const std::string&) {
    return true;
  }); // unknown chat
  p.finished(1, std::nullopt, t0);
  release(t0);
  CAF_CHECK_EQUAL(ops(), (strings{"reply1-part1", "reply2"}));
}

CAF_TEST(idle chats are forgotten once many are known) {
  // Fill up to the sweep size with chats that sent once and are idle.
  auto n = static_cast<int64_t>(pacer::min_chat_sweep);
  for (int64_t c = 1; c <= n; ++c) {
    auto now = t0 + seconds(c / 30 + 1);
    p.push(c, "x", now);
    release(now);
    if (c < n)
      p.finished(c, std::nullopt, now);
  }
  CAF_CHECK_EQUAL(sent.size(), pacer::min_chat_sweep);
  CAF_CHECK_EQUAL(p.chats(), pacer::min_chat_sweep);
  // Chat n is still in flight when a sweep runs long after: the others,
  // their buckets full again, go; a chat with work stays.
  p.push(n - 1, "y", t0 + hours(1));
  p.finished(n, std::nullopt, t0 + hours(1));
  CAF_CHECK_EQUAL(p.chats(), 1u);
  CAF_CHECK_EQUAL(p.queued(), 1u);
  release(t0 + hours(1));
  CAF_REQUIRE(!sent.empty());
  CAF_CHECK_EQUAL(sent.back().first, n - 1);
  CAF_CHECK_EQUAL(sent.back().second, "y");
}

CAF_TEST(a release stops at its budget and the rest keep their turns) {
  for (int64_t chat = 1; chat <= 5; ++chat)
    p.push(chat, "c" + std::to_string(chat), t0);
  auto capped = [this](moment now, size_t budget) {
    return p.release(
      now,
      [this](int64_t chat, std::string op) {
        sent.emplace_back(chat, std::move(op));
      },
      budget);
  };
  // Only the budget goes; nothing waits on a clock, so no time is named.
  CAF_CHECK_EQUAL(capped(t0, 2), moment::max());
  CAF_CHECK_EQUAL(ops(), strings({"c1", "c2"}));
  CAF_CHECK_EQUAL(p.queued(), 3u);
  CAF_CHECK_EQUAL(capped(t0, 0), moment::max());
  CAF_CHECK_EQUAL(sent.size(), 2u);
  // The next release goes on with the chats that did not have their turn.
  release(t0);
  CAF_CHECK_EQUAL(ops(), strings({"c1", "c2", "c3", "c4", "c5"}));
}

CAF_TEST_FIXTURE_SCOPE_END()
