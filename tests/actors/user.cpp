#define CAF_SUITE actors.user
#include "admin/http.hpp"
#include "caf/test/dsl.hpp"

#include "actors/user.hpp"

#include "runtime/config.hpp"

#include "tests/fixtures/peers.hpp"
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

// The user actor on the deterministic scheduler: its gateway requests never
// leave the process (the I/O runtime is stopped), the tests inject their
// completions as `(internal, httpDone, seq, result)`, and stand-ins record
// what the actor sends to the store, the telegram actor and its supervisor.

using namespace zaki;
using namespace zaki::test;
using namespace std::chrono;

namespace {

using impl = caf::stateful_actor<user_state, user_actor::base>;

struct fixture : test_coordinator_fixture<config>, frozen_context {
  fixture() : p(std::make_shared<peers_state>()) {
    ctx->cfg.gateway.backoff_initial = seconds(1);
    ctx->cfg.gateway.attempts = 3;
    ctx->cfg.user.idle_timeout = seconds(600);
    p->users[7001] = record_of(7001, 19001);
    store = sys.spawn(fake_store, p);
    tg = sys.spawn(fake_telegram_actor, p);
    sup = sys.spawn(fake_supervisor, p);
    sys.registry().put(names::store, store);
    sys.registry().put(names::telegram, tg);
    sys.registry().put(names::user_supervisor, sup);
  }

  ~fixture() override {
    for (auto& u : users)
      self->send_exit(u, caf::exit_reason::kill);
    for (auto name : {names::store, names::telegram, names::user_supervisor})
      sys.registry().erase(name);
    for (auto& a : {store, tg, sup})
      self->send_exit(a, caf::exit_reason::kill);
    sched.run();
  }

  user_actor spawn_user(int64_t id) {
    auto u = sys.spawn(user, ctx, id);
    users.push_back(u);
    sched.run();
    return u;
  }

  user_state& state(const user_actor& u) {
    return deref<impl>(u).state;
  }

  void route(const user_actor& u, inbound_message msg) {
    self->send(u, route_atom_v, std::move(msg));
    sched.run();
  }

  /// Completes the gateway call in flight with `res`.
  void complete(const user_actor& u, http_result res) {
    auto seq = state(u).seq;
    self->send(u, internal_atom_v, http_done_atom_v, seq, std::move(res));
    sched.run();
  }

  /// Advances the clock in small steps, running what falls due.
  void wait(milliseconds d) {
    for (auto t = milliseconds(0); t < d; t += milliseconds(10)) {
      advance_time(milliseconds(10));
      sched.run();
    }
  }

  peers_ptr p;
  caf::actor store;
  caf::actor tg;
  caf::actor sup;
  std::vector<user_actor> users;
};

bool contains(const std::string& text, const char* what) {
  return text.find(what) != std::string::npos;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(user_tests, fixture)

CAF_TEST(a message is looked up sent to the gateway and answered) {
  auto u = spawn_user(7001);
  route(u, text_message(1, 7001, "hi"));
  CAF_CHECK_EQUAL(p->lookups, std::vector<int64_t>{7001});
  CAF_CHECK_EQUAL(to_string(state(u).session.phase), "calling");
  CAF_CHECK_EQUAL(state(u).attempt, 1u);
  CAF_REQUIRE(state(u).gateway != nullptr);
  CAF_CHECK_EQUAL(state(u).gateway->where().port, 19001u);
  CAF_CHECK_EQUAL(p->chat_actions, 0u); // "typing" after typing-delay
  CAF_CHECK(p->sent.empty());
  complete(u, completion("hello back"));
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_CHECK_EQUAL(p->sent[0].chat_id, 7001);
  CAF_CHECK_EQUAL(p->sent[0].text, "hello back");
  CAF_CHECK_EQUAL(p->sent[0].request_id, "rid1");
  CAF_CHECK_EQUAL(p->done.size(), 1u);
  CAF_CHECK(p->done[0] == std::make_pair(int64_t{7001}, int64_t{1}));
  CAF_CHECK_EQUAL(to_string(state(u).session.phase), "idle");
  CAF_CHECK(!state(u).current);
  CAF_CHECK_EQUAL(state(u).handled, 1u);
}

CAF_TEST(one message in flight at a time in arrival order) {
  auto u = spawn_user(7001);
  auto gw = std::shared_ptr<http_client>{};
  for (int64_t i = 1; i <= 3; ++i)
    route(u, text_message(i, 7001, "m" + std::to_string(i)));
  CAF_CHECK_EQUAL(p->lookups.size(), 1u);
  CAF_CHECK_EQUAL(state(u).queue.size(), 2u);
  CAF_CHECK_EQUAL(state(u).current->update_id, 1);
  gw = state(u).gateway;
  for (int64_t i = 1; i <= 3; ++i) {
    CAF_CHECK_EQUAL(state(u).current->update_id, i);
    CAF_CHECK_EQUAL(p->sent.size(), static_cast<size_t>(i - 1));
    complete(u, completion("a" + std::to_string(i)));
  }
  CAF_REQUIRE_EQUAL(p->sent.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    CAF_CHECK_EQUAL(p->sent[i].text, "a" + std::to_string(i + 1));
    CAF_CHECK_EQUAL(p->done[i].second, static_cast<int64_t>(i + 1));
  }
  // The keep-alive client is reused across messages.
  CAF_CHECK(state(u).gateway == gw);
}

CAF_TEST(retryable failures are retried with backoff then explained) {
  auto u = spawn_user(7001);
  route(u, text_message(5, 7001, "hi"));
  complete(u, http_status(502));
  CAF_CHECK_EQUAL(to_string(state(u).session.phase), "backoff");
  CAF_CHECK_EQUAL(state(u).attempt, 1u);
  // About 1 s (with 20 % jitter) before the second attempt.
  wait(milliseconds(750));
  CAF_CHECK_EQUAL(to_string(state(u).session.phase), "backoff");
  wait(milliseconds(500));
  CAF_CHECK_EQUAL(to_string(state(u).session.phase), "calling");
  CAF_CHECK_EQUAL(state(u).attempt, 2u);
  complete(u, http_status(503));
  // About 2 s before the third.
  wait(milliseconds(1550));
  CAF_CHECK_EQUAL(state(u).attempt, 2u);
  wait(milliseconds(1000));
  CAF_CHECK_EQUAL(state(u).attempt, 3u);
  CAF_CHECK(p->sent.empty());
  http_result refused;
  refused.failure = http_failure::connect;
  refused.error = "connect: Connection refused";
  complete(u, refused);
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_MESSAGE("error text: " << p->sent[0].text);
  CAF_CHECK(contains(p->sent[0].text, "ZR-CONTAINER-DOWN"));
  CAF_CHECK(contains(p->sent[0].text, "Request: <code>rid5</code>"));
  CAF_CHECK_EQUAL(p->done.size(), 1u);
  CAF_CHECK_EQUAL(state(u).failed, 1u);
  // No fourth attempt.
  wait(milliseconds(5000));
  CAF_CHECK_EQUAL(to_string(state(u).session.phase), "idle");
}

CAF_TEST(a hang is not retried and reported as a timeout) {
  // Each attempt is a new run of the agent; the first may still be
  // working. (Before: three runs, six minutes with the defaults.)
  auto u = spawn_user(7001);
  route(u, text_message(6, 7001, "hi"));
  http_result timeout;
  timeout.failure = http_failure::timeout;
  timeout.error = "read: The socket was closed due to a timeout";
  complete(u, timeout);
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_CHECK(contains(p->sent[0].text, "ZR-GATEWAY-TIMEOUT"));
  wait(milliseconds(5000));
  CAF_CHECK_EQUAL(state(u).attempt, 1u);
  CAF_CHECK_EQUAL(p->sent.size(), 1u);
}

CAF_TEST(a success after failures answers normally) {
  auto u = spawn_user(7001);
  route(u, text_message(7, 7001, "hi"));
  complete(u, http_status(500));
  wait(milliseconds(1300));
  complete(u, http_status(429));
  wait(milliseconds(2500));
  CAF_CHECK_EQUAL(state(u).attempt, 3u);
  complete(u, completion("finally"));
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_CHECK_EQUAL(p->sent[0].text, "finally");
}

CAF_TEST(client errors are not retried) {
  auto u = spawn_user(7001);
  route(u, text_message(8, 7001, "bad"));
  complete(u, http_status(400, R"({"error":{"message":"bad request"}})"));
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  // The gateway got the message and refused it: its own message.
  CAF_CHECK(contains(p->sent[0].text, "ZR-GATEWAY-REJECTED"));
  CAF_CHECK_EQUAL(state(u).attempt, 1u);
  route(u, text_message(9, 7001, "unauthorized"));
  complete(u, http_status(401, R"({"error":{"type":"unauthorized"}})"));
  CAF_REQUIRE_EQUAL(p->sent.size(), 2u);
  CAF_CHECK(contains(p->sent[1].text, "ZR-GATEWAY-UNAUTHORIZED"));
  CAF_CHECK_EQUAL(state(u).attempt, 1u);
  route(u, text_message(10, 7001, "garbage"));
  complete(u, http_status(200, "{not json"));
  CAF_REQUIRE_EQUAL(p->sent.size(), 3u);
  CAF_CHECK(contains(p->sent[2].text, "ZR-GATEWAY-BAD-RESPONSE"));
  CAF_CHECK_EQUAL(p->done.size(), 3u);
  wait(milliseconds(5000));
  CAF_CHECK_EQUAL(p->sent.size(), 3u);
}

CAF_TEST(an empty answer is replaced by a notice) {
  auto u = spawn_user(7001);
  route(u, text_message(11, 7001, "hi"));
  complete(u, completion(" \\n "));
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_CHECK(!p->sent[0].text.empty());
  CAF_CHECK(contains(p->sent[0].text, "empty answer"));
}

CAF_TEST(stale completions are ignored) {
  auto u = spawn_user(7001);
  route(u, text_message(12, 7001, "hi"));
  auto seq = state(u).seq;
  self->send(u, internal_atom_v, http_done_atom_v, seq - 1,
             completion("stale"));
  self->send(u, internal_atom_v, http_done_atom_v, seq + 1,
             completion("future"));
  sched.run();
  CAF_CHECK(p->sent.empty());
  CAF_CHECK_EQUAL(to_string(state(u).session.phase), "calling");
  complete(u, completion("fresh"));
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_CHECK_EQUAL(p->sent[0].text, "fresh");
  // A late duplicate of the answer does nothing either.
  self->send(u, internal_atom_v, http_done_atom_v, seq, completion("dup"));
  sched.run();
  CAF_CHECK_EQUAL(p->sent.size(), 1u);
  CAF_CHECK_EQUAL(p->done.size(), 1u);
}

CAF_TEST(an unknown user is told and nothing is called) {
  auto u = spawn_user(999);
  route(u, text_message(13, 999, "hi"));
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_CHECK(contains(p->sent[0].text, "NOT-PROVISIONED"));
  CAF_CHECK(state(u).gateway == nullptr);
  CAF_CHECK_EQUAL(p->done.size(), 1u);
}

CAF_TEST(button presses are answered without the gateway) {
  auto u = spawn_user(7001);
  auto msg = text_message(14, 7001, "retry:abc");
  msg.callback_id = "cbq-1";
  route(u, msg);
  CAF_CHECK_EQUAL(p->callbacks, std::vector<std::string>{"cbq-1"});
  CAF_CHECK(p->lookups.empty());
  CAF_CHECK_EQUAL(p->done.size(), 1u);
  CAF_CHECK(!state(u).current);
}

CAF_TEST(a full queue refuses further messages with a notice) {
  ctx->cfg.user.max_queue = 2;
  auto u = spawn_user(7001);
  for (int64_t i = 1; i <= 4; ++i)
    route(u, text_message(20 + i, 7001, "m"));
  CAF_CHECK_EQUAL(state(u).queue.size(), 2u);
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_CHECK(contains(p->sent[0].text, "ZR-QUEUE-FULL"));
  CAF_CHECK(contains(p->sent[0].text, "rid24"));
  // The refused message counts as handled: it must not be replayed.
  CAF_REQUIRE_EQUAL(p->done.size(), 1u);
  CAF_CHECK_EQUAL(p->done[0].second, 24);
}

CAF_TEST(crash atom makes the actor fail) {
  auto u = spawn_user(7001);
  self->monitor(u);
  self->send(u, crash_atom_v);
  sched.run();
  bool got_down = false;
  self->receive(
    [&](const caf::down_msg& dm) {
      got_down = true;
      CAF_CHECK_EQUAL(dm.reason, caf::sec::runtime_error);
    },
    caf::after(milliseconds(10)) >> [] {});
  CAF_CHECK(got_down);
}

CAF_TEST(the crash trigger fires on the first delivery only) {
  ctx->cfg.user.crash_trigger = "#boom";
  auto u = spawn_user(7001);
  self->monitor(u);
  route(u, text_message(30, 7001, "please #boom"));
  bool got_down = false;
  self->receive(
    [&](const caf::down_msg& dm) {
      got_down = true;
      CAF_CHECK_NOT_EQUAL(dm.reason, caf::exit_reason::normal);
    },
    caf::after(milliseconds(10)) >> [] {});
  CAF_CHECK(got_down);
  CAF_CHECK(p->lookups.empty());
  // The replay (delivery 1) goes through.
  auto again = spawn_user(7001);
  auto msg = text_message(30, 7001, "please #boom");
  msg.delivery = 1;
  route(again, msg);
  CAF_CHECK_EQUAL(p->lookups.size(), 1u);
  complete(again, completion("ok"));
  CAF_CHECK_EQUAL(p->sent.size(), 1u);
}

CAF_TEST(an idle actor stops itself) {
  ctx->cfg.user.idle_timeout = seconds(10);
  auto u = spawn_user(7001);
  self->monitor(u);
  route(u, text_message(40, 7001, "hi"));
  complete(u, completion("ok"));
  // The last "typing" tick (4 s) re-arms the idle timer once more.
  advance_time(seconds(5));
  sched.run();
  advance_time(seconds(11));
  sched.run();
  bool got_down = false;
  self->receive(
    [&](const caf::down_msg& dm) {
      got_down = true;
      CAF_CHECK_EQUAL(dm.reason, caf::exit_reason::normal);
    },
    caf::after(milliseconds(10)) >> [] {});
  CAF_CHECK(got_down);
}

CAF_TEST(typing goes out only once the gateway has worked typing delay) {
  ctx->cfg.user.typing_delay = seconds(1);
  ctx->cfg.user.typing_interval = seconds(4);
  auto u = spawn_user(7001);
  // A quick answer: no "typing" at all.
  route(u, text_message(60, 7001, "quick"));
  wait(milliseconds(500));
  complete(u, completion("fast"));
  wait(milliseconds(1500));
  CAF_CHECK_EQUAL(p->chat_actions, 0u);
  CAF_CHECK_EQUAL(p->sent.size(), 1u);
  // A slow one: the first after 1 s, then every 4 s until the answer.
  route(u, text_message(61, 7001, "slow"));
  wait(milliseconds(900));
  CAF_CHECK_EQUAL(p->chat_actions, 0u);
  wait(milliseconds(200));
  CAF_CHECK_EQUAL(p->chat_actions, 1u);
  wait(milliseconds(4000));
  CAF_CHECK_EQUAL(p->chat_actions, 2u);
  complete(u, completion("slow answer"));
  wait(milliseconds(5000));
  CAF_CHECK_EQUAL(p->chat_actions, 2u);
  CAF_CHECK_EQUAL(p->sent.size(), 2u);
}

CAF_TEST(typing delay 0 sends typing with the call) {
  ctx->cfg.user.typing_delay = milliseconds(0);
  auto u = spawn_user(7001);
  route(u, text_message(62, 7001, "hi"));
  CAF_CHECK_EQUAL(p->chat_actions, 1u);
  complete(u, completion("ok"));
}

CAF_TEST(the session lock lingers after an exchange then is released) {
  ctx->cfg.lock.linger = seconds(2);
  auto lock_file = ctx->cfg.store.data_root
    + "/users/user-7001/router.session.lock";
  auto u = spawn_user(7001);
  route(u, text_message(70, 7001, "one"));
  CAF_CHECK(state(u).lock.held());
  complete(u, completion("first"));
  // Kept for the next message of the conversation.
  CAF_CHECK(state(u).lock.held());
  CAF_REQUIRE(std::filesystem::exists(lock_file));
  struct stat before;
  CAF_REQUIRE_EQUAL(::stat(lock_file.c_str(), &before), 0);
  wait(milliseconds(1500));
  route(u, text_message(71, 7001, "two"));
  CAF_CHECK_EQUAL(to_string(state(u).session.phase), "calling");
  struct stat during;
  CAF_REQUIRE_EQUAL(::stat(lock_file.c_str(), &during), 0);
  CAF_CHECK_EQUAL(before.st_ino, during.st_ino); // the same lock, taken over
  // No release while the second exchange is in flight, past the first's due.
  wait(milliseconds(1000));
  CAF_CHECK(state(u).lock.held());
  complete(u, completion("second"));
  CAF_CHECK_EQUAL(p->sent.size(), 2u);
  wait(milliseconds(1900));
  CAF_CHECK(state(u).lock.held());
  wait(milliseconds(200));
  CAF_CHECK(!state(u).lock.held());
  CAF_CHECK(!std::filesystem::exists(lock_file));
}

CAF_TEST(linger 0 releases the session lock right after the exchange) {
  ctx->cfg.lock.linger = milliseconds(0);
  auto u = spawn_user(7001);
  route(u, text_message(72, 7001, "one"));
  CAF_CHECK(state(u).lock.held());
  complete(u, completion("first"));
  CAF_CHECK(!state(u).lock.held());
  CAF_CHECK(!std::filesystem::exists(ctx->cfg.store.data_root
                                     + "/users/user-7001/router.session.lock"));
}

CAF_TEST(a looked up record serves the next messages for record ttl) {
  ctx->cfg.user.record_ttl = seconds(2);
  auto u = spawn_user(7001);
  route(u, text_message(80, 7001, "one"));
  complete(u, completion("first"));
  route(u, text_message(81, 7001, "two"));
  CAF_CHECK_EQUAL(to_string(state(u).session.phase),
                  "calling"); // no lookup in between
  complete(u, completion("second"));
  CAF_CHECK_EQUAL(p->lookups.size(), 1u);
  wait(milliseconds(2100));
  route(u, text_message(82, 7001, "three"));
  complete(u, completion("third"));
  CAF_CHECK_EQUAL(p->lookups.size(), 2u);
  CAF_REQUIRE_EQUAL(p->sent.size(), 3u);
  CAF_CHECK_EQUAL(p->sent[2].text, "third");
  // A changed gateway port reaches the user once the record is stale.
  p->users[7001] = record_of(7001, 19002);
  wait(milliseconds(2100));
  route(u, text_message(83, 7001, "four"));
  CAF_CHECK_EQUAL(state(u).gateway->where().port, 19002u);
}

CAF_TEST(a failed exchange or a container change forgets the record) {
  ctx->cfg.user.record_ttl = seconds(60);
  auto u = spawn_user(7001);
  route(u, text_message(84, 7001, "one"));
  complete(u, http_status(401, R"({"error":{"type":"unauthorized"}})"));
  route(u, text_message(85, 7001, "two"));
  CAF_CHECK_EQUAL(p->lookups.size(), 2u);
  complete(u, completion("second"));
  self->send(u, container_atom_v, std::string{"restarting"});
  sched.run();
  route(u, text_message(86, 7001, "three"));
  CAF_CHECK_EQUAL(p->lookups.size(), 3u);
  complete(u, completion("third"));
  route(u, text_message(87, 7001, "four"));
  CAF_CHECK_EQUAL(p->lookups.size(), 3u);
}

CAF_TEST(record ttl 0 looks up every message) {
  ctx->cfg.user.record_ttl = seconds(0);
  auto u = spawn_user(7001);
  for (int64_t i = 0; i < 3; ++i) {
    route(u, text_message(90 + i, 7001, "m"));
    complete(u, completion("a"));
  }
  CAF_CHECK_EQUAL(p->lookups.size(), 3u);
}

CAF_TEST(status reports the message in flight) {
  auto u = spawn_user(7001);
  route(u, text_message(50, 7001, "hi"));
  route(u, text_message(51, 7001, "next"));
  // (The fixture's request() would run timers, and "typing" re-arms.)
  status_node node;
  auto rh = self->request(u, caf::infinite, status_atom_v);
  sched.run();
  rh.receive(
    [&](status_node& x) {
      node = std::move(x);
    },
    [&](caf::error& e) {
      CAF_FAIL(sys.render(e));
    });
  CAF_CHECK_EQUAL(node.name, "user:7001");
  CAF_CHECK_EQUAL(node.state, "busy");
  CAF_CHECK(contains(detail_to_json(node.detail), R"("queued":1)"));
  CAF_CHECK(contains(detail_to_json(node.detail), R"("update_id":50)"));
  CAF_CHECK(!contains(detail_to_json(node.detail), "gw-token"));
}

CAF_TEST(an answer over max body is fetched once) {
  auto u = spawn_user(7001);
  route(u, text_message(40, 7001, "long"));
  http_result big;
  big.failure = http_failure::too_large;
  big.error = "read: body limit exceeded";
  complete(u, big);
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_CHECK(contains(p->sent[0].text, "ZR-GATEWAY-ANSWER-TOO-LARGE"));
  wait(milliseconds(5000));
  CAF_CHECK_EQUAL(state(u).attempt, 1u);
}

CAF_TEST(insufficient quota is not retried) {
  auto u = spawn_user(7001);
  route(u, text_message(41, 7001, "hi"));
  complete(u,
           http_status(429,
                       R"({"error":{"message":"You exceeded your )"
                       R"(quota","type":"insufficient_quota"}})"));
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_CHECK(contains(p->sent[0].text, "ZR-PROVIDER-QUOTA"));
  wait(milliseconds(5000));
  CAF_CHECK_EQUAL(state(u).attempt, 1u);
}

CAF_TEST(retry after is honoured) {
  auto u = spawn_user(7001);
  route(u, text_message(42, 7001, "hi"));
  auto busy = http_status(429, R"({"error":{"type":"rate_limit_error"}})");
  busy.retry_after = 2;
  complete(u, busy);
  CAF_CHECK_EQUAL(to_string(state(u).session.phase), "backoff");
  // The backoff alone would retry after about 1 s.
  wait(milliseconds(1900));
  CAF_CHECK_EQUAL(state(u).attempt, 1u);
  wait(milliseconds(200));
  CAF_CHECK_EQUAL(state(u).attempt, 2u);
  CAF_CHECK_EQUAL(to_string(state(u).session.phase), "calling");
}

CAF_TEST(a connection closed mid answer and a 404 get their own messages) {
  auto u = spawn_user(7001);
  route(u, text_message(43, 7001, "hi"));
  http_result cut;
  cut.failure = http_failure::interrupted;
  cut.error = "read: end of stream";
  complete(u, cut);
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_CHECK(contains(p->sent[0].text, "ZR-GATEWAY-INTERRUPTED"));
  CAF_CHECK(!contains(p->sent[0].text, "went wrong on our side"));
  CAF_CHECK_EQUAL(state(u).attempt, 1u);
  route(u, text_message(44, 7001, "hi"));
  complete(u, http_status(404, R"({"error":{"message":"no such route"}})"));
  CAF_REQUIRE_EQUAL(p->sent.size(), 2u);
  CAF_CHECK(contains(p->sent[1].text, "ZR-GATEWAY-REJECTED"));
}

CAF_TEST(the user is told after notice after that the assistant works) {
  ctx->cfg.gateway.notice_after = seconds(20);
  ctx->cfg.user.typing_delay = seconds(0);
  auto u = spawn_user(7001);
  route(u, text_message(45, 7001, "big task"));
  wait(milliseconds(19900));
  CAF_CHECK(p->sent.empty());
  wait(milliseconds(200));
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_CHECK(contains(p->sent[0].text, "still working"));
  // Once per message.
  wait(milliseconds(30000));
  CAF_CHECK_EQUAL(p->sent.size(), 1u);
  complete(u, completion("done"));
  CAF_REQUIRE_EQUAL(p->sent.size(), 2u);
  CAF_CHECK_EQUAL(p->sent[1].text, "done");
  // A quick answer gets no notice.
  route(u, text_message(46, 7001, "quick"));
  complete(u, completion("fast"));
  wait(milliseconds(25000));
  CAF_CHECK_EQUAL(p->sent.size(), 3u);
}

CAF_TEST(a read only data root gets the storage error) {
  auto u = spawn_user(7001);
  // The data root is gone (a file in its place): no session lock can be
  // made, and "something went wrong" would not tell anyone what to fix.
  std::filesystem::remove_all(ctx->cfg.store.data_root);
  { std::ofstream{ctx->cfg.store.data_root} << "x"; }
  route(u, text_message(47, 7001, "hi"));
  CAF_REQUIRE_EQUAL(p->sent.size(), 1u);
  CAF_CHECK(contains(p->sent[0].text, "ZR-STORAGE-READ-ONLY"));
  CAF_CHECK_EQUAL(state(u).failed, 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
