#define CAF_SUITE actors.poller
#include "caf/test/dsl.hpp"

#include "actors/poller.hpp"

#include "runtime/config.hpp"
#include "tests/fixtures/peers.hpp"

// The poller's offset logic on the deterministic scheduler: its Bot API
// calls never leave the process (the I/O runtime is stopped), the tests
// inject the answers as `(internal, httpDone, seq, result)`. The offset
// moves only once the supervisor stand-in acknowledged a batch; skipped
// and malformed updates are confirmed too; errors back off.

using namespace zaki;
using namespace zaki::test;
using namespace std::chrono;

namespace {

using impl = caf::stateful_actor<poller_state, poller_actor::base>;

std::string text_update(int64_t id, int64_t user, const std::string& text) {
  auto u = std::to_string(user);
  return R"({"update_id":)" + std::to_string(id)
    + R"(,"message":{"message_id":1,"from":{"id":)" + u
    + R"(,"is_bot":false},"chat":{"id":)" + u
    + R"(,"type":"private"},"date":1,"text":")" + text + R"("}})";
}

std::string join_update(int64_t id) {
  return R"({"update_id":)" + std::to_string(id)
    + R"(,"message":{"message_id":1,"from":{"id":7},"chat":{"id":7},)"
      R"("date":1,"new_chat_members":[{"id":8}]}})";
}

std::string ok_updates(const std::string& updates) {
  return R"({"ok":true,"result":[)" + updates + "]}";
}

std::string api_error(int code, const std::string& desc, int retry_after = 0) {
  std::string out = R"({"ok":false,"error_code":)" + std::to_string(code)
    + R"(,"description":")" + desc + "\"";
  if (retry_after > 0)
    out += R"(,"parameters":{"retry_after":)" + std::to_string(retry_after)
      + "}";
  return out + "}";
}

struct fixture : test_coordinator_fixture<config>, frozen_context {
  fixture() : p(std::make_shared<peers_state>()) {
    ctx->cfg.telegram.backoff_initial = seconds(1);
    ctx->cfg.telegram.backoff_max = seconds(30);
    sup = sys.spawn(fake_supervisor, p);
    root = sys.spawn(fake_root, p);
    sys.registry().put(names::user_supervisor, sup);
    sys.registry().put(names::root, root);
    pol = sys.spawn(poller, ctx);
    sched.run();
  }

  ~fixture() override {
    for (auto name : {names::user_supervisor, names::root})
      sys.registry().erase(name);
    self->send_exit(pol, caf::exit_reason::kill);
    self->send_exit(sup, caf::exit_reason::kill);
    self->send_exit(root, caf::exit_reason::kill);
    sched.run();
  }

  poller_state& state() {
    return deref<impl>(pol).state;
  }

  /// Answers the call in flight.
  void answer(http_result res) {
    self->send(pol, internal_atom_v, http_done_atom_v, state().seq,
               std::move(res));
    sched.run();
  }

  /// Answers deleteWebhook, so the poller starts polling.
  void start_polling() {
    CAF_REQUIRE_EQUAL(state().phase, poller_phase::delete_webhook);
    answer(http_status(200, R"({"ok":true,"result":true})"));
    CAF_REQUIRE_EQUAL(state().phase, poller_phase::polling);
  }

  void wait(milliseconds d) {
    for (auto t = milliseconds(0); t < d; t += milliseconds(10)) {
      advance_time(milliseconds(10));
      sched.run();
    }
  }

  peers_ptr p;
  caf::actor sup;
  caf::actor root;
  poller_actor pol;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(poller_tests, fixture)

CAF_TEST(starts with deleteWebhook then long polls) {
  CAF_CHECK_EQUAL(state().phase, poller_phase::delete_webhook);
  CAF_CHECK(!state().webhook_deleted);
  auto seq = state().seq;
  start_polling();
  CAF_CHECK(state().webhook_deleted);
  CAF_CHECK_EQUAL(state().seq, seq + 1);
  CAF_CHECK_EQUAL(state().offset, 0);
  // An empty answer (long poll timed out): poll again, same offset.
  answer(http_status(200, ok_updates("")));
  CAF_CHECK_EQUAL(state().phase, poller_phase::polling);
  CAF_CHECK_EQUAL(state().seq, seq + 2);
  CAF_CHECK_EQUAL(state().offset, 0);
  CAF_CHECK(p->batches.empty());
}

CAF_TEST(the offset moves only after the handover was acknowledged) {
  start_polling();
  p->hold_batches = true;
  answer(http_status(200,
                     ok_updates(text_update(7000000001, 5000000001, "a") + ","
                                + join_update(7000000002) + ","
                                + text_update(7000000003, 42, "b"))));
  CAF_CHECK_EQUAL(state().phase, poller_phase::handover);
  CAF_CHECK_EQUAL(state().offset, 0);
  CAF_REQUIRE_EQUAL(p->batches.size(), 1u);
  auto& batch = p->batches[0];
  CAF_REQUIRE_EQUAL(batch.size(), 2u);
  CAF_CHECK_EQUAL(batch[0].update_id, 7000000001);
  CAF_CHECK_EQUAL(batch[0].user_id, 5000000001);
  CAF_CHECK_EQUAL(batch[1].text, "b");
  CAF_CHECK_GREATER(batch[0].received_ns, 0);
  auto seq = state().seq;
  self->send(sup, release_atom::value);
  sched.run();
  // Acknowledged: the next poll confirms everything up to the join.
  CAF_CHECK_EQUAL(state().offset, 7000000004);
  CAF_CHECK_EQUAL(state().phase, poller_phase::polling);
  CAF_CHECK_EQUAL(state().seq, seq + 1);
  CAF_CHECK_EQUAL(state().updates, 2u);
  CAF_CHECK_EQUAL(state().skipped, 1u);
}

CAF_TEST(skipped and malformed updates are confirmed without handover) {
  start_polling();
  answer(http_status(
    200,
    ok_updates(join_update(20) + "," + R"({"update_id":21,"message":5})")));
  CAF_CHECK(p->batches.empty());
  CAF_CHECK_EQUAL(state().offset, 22);
  CAF_CHECK_EQUAL(state().skipped, 1u);
  CAF_CHECK_EQUAL(state().malformed, 1u);
  CAF_CHECK_EQUAL(state().phase, poller_phase::polling);
  // A later batch mixing garbage and text hands over the text only.
  answer(http_status(200, ok_updates(R"("junk",)" + text_update(23, 7, "t"))));
  CAF_REQUIRE_EQUAL(p->batches.size(), 1u);
  CAF_CHECK_EQUAL(p->batches[0].size(), 1u);
  CAF_CHECK_EQUAL(state().offset, 24);
}

CAF_TEST(the offset never goes back) {
  start_polling();
  answer(http_status(200, ok_updates(text_update(50, 7, "a"))));
  CAF_CHECK_EQUAL(state().offset, 51);
  // Telegram re-delivers an older update (e.g. after our restart).
  answer(http_status(200, ok_updates(text_update(40, 7, "old"))));
  CAF_CHECK_EQUAL(state().offset, 51);
}

CAF_TEST(a malformed answer keeps the offset and backs off) {
  start_polling();
  answer(http_status(200, ok_updates(text_update(10, 7, "a"))));
  CAF_CHECK_EQUAL(state().offset, 11);
  auto seq = state().seq;
  answer(http_status(200, R"({"ok":true,"result":[{"update_id":11,)"));
  CAF_CHECK_EQUAL(state().phase, poller_phase::backoff);
  CAF_CHECK_EQUAL(state().offset, 11);
  CAF_CHECK_EQUAL(state().failures, 1u);
  CAF_CHECK_EQUAL(p->batches.size(), 1u);
  wait(milliseconds(1300)); // 1 s +- 20 %
  CAF_CHECK_EQUAL(state().phase, poller_phase::polling);
  CAF_CHECK_EQUAL(state().seq, seq + 1);
}

CAF_TEST(a failed handover is fetched again) {
  start_polling();
  p->route_error = caf::make_error(caf::sec::runtime_error, "supervisor down");
  answer(http_status(200, ok_updates(text_update(10, 7, "a"))));
  CAF_CHECK_EQUAL(state().offset, 0);
  CAF_CHECK_EQUAL(state().phase, poller_phase::backoff);
  p->route_error = caf::error{};
  wait(milliseconds(1300));
  CAF_CHECK_EQUAL(state().phase, poller_phase::polling);
  CAF_CHECK_EQUAL(state().offset, 0);
  answer(http_status(200, ok_updates(text_update(10, 7, "a"))));
  CAF_CHECK_EQUAL(state().offset, 11);
  CAF_CHECK_EQUAL(p->batches.size(), 2u);
}

CAF_TEST(401 is fatal with exit code 2) {
  start_polling();
  answer(http_status(401, api_error(401, "Unauthorized")));
  CAF_CHECK_EQUAL(state().phase, poller_phase::fatal);
  CAF_CHECK_EQUAL(ctx->exit_code.load(), 2);
  CAF_CHECK_EQUAL(p->shutdowns, 1u);
  auto seq = state().seq;
  wait(milliseconds(5000));
  CAF_CHECK_EQUAL(state().seq, seq); // no further polls
}

CAF_TEST(401 on deleteWebhook is fatal too) {
  answer(http_status(401, api_error(401, "Unauthorized")));
  CAF_CHECK_EQUAL(state().phase, poller_phase::fatal);
  CAF_CHECK_EQUAL(ctx->exit_code.load(), 2);
}

CAF_TEST(429 waits retry after) {
  start_polling();
  auto seq = state().seq;
  answer(
    http_status(429, api_error(429, "Too Many Requests: retry after 3", 3)));
  CAF_CHECK_EQUAL(state().phase, poller_phase::backoff);
  wait(milliseconds(2900));
  CAF_CHECK_EQUAL(state().phase, poller_phase::backoff);
  wait(milliseconds(200));
  CAF_CHECK_EQUAL(state().phase, poller_phase::polling);
  CAF_CHECK_EQUAL(state().seq, seq + 1);
}

CAF_TEST(409 deletes the webhook again) {
  start_polling();
  answer(http_status(409,
                     api_error(409,
                               "Conflict: can't use getUpdates "
                               "method while webhook is active")));
  CAF_CHECK(!state().webhook_deleted);
  CAF_CHECK_EQUAL(state().phase, poller_phase::backoff);
  wait(milliseconds(1300));
  CAF_CHECK_EQUAL(state().phase, poller_phase::delete_webhook);
  start_polling();
}

CAF_TEST(server errors back off exponentially and reset on success) {
  start_polling();
  answer(http_status(502, "<html>Bad Gateway</html>"));
  wait(milliseconds(1300));
  CAF_CHECK_EQUAL(state().phase, poller_phase::polling);
  http_result down;
  down.failure = http_failure::connect;
  down.error = "connect: Connection refused";
  answer(down);
  CAF_CHECK_EQUAL(state().delay->attempt(), 2u);
  // The second delay is about 2 s.
  wait(milliseconds(1500));
  CAF_CHECK_EQUAL(state().phase, poller_phase::backoff);
  wait(milliseconds(1000));
  CAF_CHECK_EQUAL(state().phase, poller_phase::polling);
  answer(http_status(200, ok_updates("")));
  CAF_CHECK_EQUAL(state().delay->attempt(), 0u);
  CAF_CHECK(state().healthy);
}

CAF_TEST(stale answers are ignored) {
  start_polling();
  auto seq = state().seq;
  self->send(pol, internal_atom_v, http_done_atom_v, seq - 1,
             http_status(200, ok_updates(text_update(10, 7, "a"))));
  sched.run();
  CAF_CHECK(p->batches.empty());
  CAF_CHECK_EQUAL(state().offset, 0);
}

CAF_TEST(stop answers the offset and ignores the poll in flight) {
  start_polling();
  answer(http_status(200, ok_updates(text_update(10, 7, "a"))));
  auto rh = self->request(pol, caf::infinite, stop_atom_v);
  sched.run();
  int64_t offset = -1;
  rh.receive(
    [&](int64_t x) {
      offset = x;
    },
    [&](caf::error& e) {
      CAF_FAIL(sys.render(e));
    });
  CAF_CHECK_EQUAL(offset, 11);
  CAF_CHECK_EQUAL(state().phase, poller_phase::stopped);
  // The answer of the long poll that was in flight arrives late.
  self->send(pol, internal_atom_v, http_done_atom_v, state().seq - 1,
             http_status(200, ok_updates(text_update(11, 7, "late"))));
  sched.run();
  CAF_CHECK_EQUAL(p->batches.size(), 1u);
  CAF_CHECK_EQUAL(state().offset, 11);
}

CAF_TEST(confirm reports the final getUpdates) {
  start_polling();
  answer(http_status(200, ok_updates(text_update(10, 7, "a"))));
  auto rh = self->request(pol, caf::infinite, confirm_atom_v, int64_t{11});
  sched.run();
  // The confirmation call carries the flag bit in its sequence number.
  auto seq = state().seq | (uint64_t{1} << 63);
  self->send(pol, internal_atom_v, http_done_atom_v, seq,
             http_status(200, ok_updates("")));
  sched.run();
  bool ok = false;
  rh.receive(
    [&](bool x) {
      ok = x;
    },
    [&](caf::error& e) {
      CAF_FAIL(sys.render(e));
    });
  CAF_CHECK(ok);
}

CAF_TEST(unusable update ids back off and are logged once) {
  start_polling();
  answer(http_status(200, ok_updates(text_update(10, 7, "a"))));
  CAF_REQUIRE_EQUAL(state().offset, 11);
  // 2^63-1 would overflow the offset; the old poller then sent a negative
  // one. A string id cannot be confirmed at all: both used to make the
  // poller ask again at once, thousands of times a second.
  for (auto body : {R"({"update_id":9223372036854775807,"message":{}})",
                    R"({"update_id":"x","message":{}})",
                    R"({"update_id":-3,"message":{}})"}) {
    CAF_MESSAGE("update " << body);
    auto seq = state().seq;
    answer(http_status(200, ok_updates(body)));
    CAF_CHECK_EQUAL(state().phase, poller_phase::backoff);
    CAF_CHECK_EQUAL(state().seq, seq);
    CAF_CHECK_EQUAL(state().offset, 11);
    CAF_CHECK(state().healthy);
    wait(milliseconds(100));
    CAF_CHECK_EQUAL(state().seq, seq); // no poll before the backoff ends
    wait(milliseconds(40000));
    CAF_CHECK_EQUAL(state().phase, poller_phase::polling);
  }
  // Counted (and logged) once for the offset, not once per poll.
  CAF_CHECK_EQUAL(state().unusable, 1u);
  CAF_CHECK_EQUAL(p->batches.size(), 1u);
  // A usable update behind it moves the offset past both.
  answer(http_status(
    200, ok_updates(R"({"update_id":"x"},)" + text_update(12, 7, "b"))));
  CAF_CHECK_EQUAL(state().offset, 13);
  CAF_CHECK_EQUAL(p->batches.size(), 2u);
  CAF_CHECK_EQUAL(state().delay->attempt(), 0u);
}

CAF_TEST(404 at start is fatal but after polling worked it backs off) {
  start_polling();
  answer(http_status(200, ok_updates(text_update(10, 7, "a"))));
  auto seq = state().seq;
  answer(http_status(404, api_error(404, "Not Found")));
  CAF_CHECK_EQUAL(state().phase, poller_phase::backoff);
  CAF_CHECK_EQUAL(ctx->exit_code.load(), 0);
  CAF_CHECK_EQUAL(p->shutdowns, 0u);
  CAF_CHECK(!state().healthy);
  CAF_CHECK_NOT_EQUAL(state().last_error.find("404"), std::string::npos);
  wait(milliseconds(1300));
  CAF_CHECK_EQUAL(state().phase, poller_phase::polling);
  CAF_CHECK_EQUAL(state().seq, seq + 1);
  answer(http_status(200, ok_updates("")));
  CAF_CHECK(state().healthy);
}

CAF_TEST(404 on the first call is fatal with exit code 2) {
  answer(http_status(404, api_error(404, "Not Found")));
  CAF_CHECK_EQUAL(state().phase, poller_phase::fatal);
  CAF_CHECK_EQUAL(ctx->exit_code.load(), 2);
}

CAF_TEST_FIXTURE_SCOPE_END()
