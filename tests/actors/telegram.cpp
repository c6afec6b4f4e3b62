#define CAF_SUITE actors.telegram
#include "admin/http.hpp"
#include "caf/test/dsl.hpp"

#include "actors/telegram.hpp"

#include "runtime/config.hpp"
#include "tests/fixtures/peers.hpp"

// The telegram actor's handling of retry_after on the deterministic
// scheduler: calls never leave the process (the I/O runtime is stopped),
// the tests answer them as `(internal, httpDone, seq, result)`.

using namespace zaki;
using namespace zaki::test;

namespace {

using impl = caf::stateful_actor<telegram_state, telegram_actor::base>;

std::string too_many(int retry_after) {
  return R"({"ok":false,"error_code":429,"description":"Too Many Requests: )"
         R"(retry after )"
    + std::to_string(retry_after) + R"(","parameters":{"retry_after":)"
    + std::to_string(retry_after) + "}}";
}

struct fixture : test_coordinator_fixture<config>, frozen_context {
  fixture() {
    tg = sys.spawn(telegram, ctx);
    sched.run();
  }

  ~fixture() override {
    self->send_exit(tg, caf::exit_reason::kill);
    sched.run();
  }

  telegram_state& state() {
    return deref<impl>(tg).state;
  }

  void send_text(int64_t chat, std::string text) {
    outgoing_text msg;
    msg.chat_id = chat;
    msg.text = std::move(text);
    msg.request_id = "rid-" + std::to_string(chat);
    self->send(tg, send_atom_v, std::move(msg));
    sched.run();
  }

  /// Returns the sequence number of the call in flight for `chat`, or 0.
  uint64_t in_flight_of(int64_t chat) {
    for (auto& [seq, op] : state().in_flight)
      if (op.chat_id == chat)
        return seq;
    return 0;
  }

  void answer(uint64_t seq, http_result res) {
    self->send(tg, internal_atom_v, http_done_atom_v, seq, std::move(res));
    sched.run();
  }

  telegram_actor tg;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(telegram_tests, fixture)

CAF_TEST(a short retry after is not reported) {
  send_text(7, "hello");
  auto seq = in_flight_of(7);
  CAF_REQUIRE_NOT_EQUAL(seq, 0u);
  answer(seq, http_status(429, too_many(5)));
  CAF_CHECK_EQUAL(state().rate_limited, 1u);
  CAF_CHECK_EQUAL(state().held_long, 0u);
  CAF_CHECK_EQUAL(state().pacer->queued(), 1u);
}

CAF_TEST(a reply held beyond max wait is counted once and stays queued) {
  send_text(7, "hello");
  answer(in_flight_of(7), http_status(429, too_many(3600)));
  CAF_CHECK_EQUAL(state().held_long, 1u);
  // Still queued for its chat, nothing failed.
  CAF_CHECK_EQUAL(state().pacer->queued(), 1u);
  CAF_CHECK_EQUAL(state().failed, 0u);
  CAF_CHECK_EQUAL(in_flight_of(7), 0u);
  // Another chat is not held by it.
  send_text(8, "other");
  auto other = in_flight_of(8);
  CAF_REQUIRE_NOT_EQUAL(other, 0u);
  answer(other, http_status(200, R"({"ok":true,"result":{"message_id":3}})"));
  CAF_CHECK_EQUAL(state().sent, 1u);
  // The status and so the metric carry the count.
  auto rh = self->request(tg, caf::infinite, status_atom_v);
  sched.run();
  rh.receive(
    [](const status_node& node) {
      CAF_CHECK_NOT_EQUAL(detail_to_json(node.detail).find(R"("held_long":1)"),
                          std::string::npos);
    },
    [&](caf::error& e) {
      CAF_FAIL(sys.render(e));
    });
}

CAF_TEST(
  the client gets a few calls per connection and the pacer keeps the rest) {
  // 40 chats at once, within the bot's burst of 30: without the cap all 30
  // would wait in the HTTP client's queue as encoded requests.
  size_t cap = state().max_paced_in_flight;
  size_t expected_cap = 4 * ctx->cfg.telegram.connections;
  if (expected_cap < 8)
    expected_cap = 8;
  CAF_REQUIRE_EQUAL(cap, expected_cap);
  for (int64_t chat = 100; chat < 140; ++chat)
    send_text(chat, "hello " + std::to_string(chat));
  CAF_CHECK_EQUAL(state().in_flight.size(), cap);
  CAF_CHECK_EQUAL(state().paced_in_flight, cap);
  size_t rest = 40 - cap;
  CAF_CHECK_EQUAL(state().pacer->queued(), rest);
  // A finished call lets the next chat in its turn go.
  uint64_t first = 0;
  for (int64_t chat = 100; chat < 140 && first == 0; ++chat)
    first = in_flight_of(chat);
  answer(first, http_status(200, R"({"ok":true,"result":{"message_id":3}})"));
  CAF_CHECK_EQUAL(state().sent, 1u);
  CAF_CHECK_EQUAL(state().in_flight.size(), cap);
  size_t rest_after = rest - 1;
  CAF_CHECK_EQUAL(state().pacer->queued(), rest_after);
}

CAF_TEST_FIXTURE_SCOPE_END()
