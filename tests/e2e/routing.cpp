#define CAF_SUITE e2e.routing
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <caf/all.hpp>

#include "tests/fixtures/checks.hpp"
#include "tests/fixtures/router_fixture.hpp"

// The router end to end over loopback: the real actor tree against the fake
// Bot API and fake gateways. Per user, messages arrive in order and are
// answered in the right chat, none lost or duplicated, no two gateway
// requests overlapping; failures are retried or explained; a crash loses
// nothing; shutdown confirms the offset; no token reaches the log.

using namespace zaki;
using namespace zaki::test;
using namespace std::chrono;

namespace {

std::string msg_text(int64_t user, int seq) {
  return "u" + std::to_string(user) + "-m" + std::to_string(seq);
}

/// Returns the request id in "… Request: <id>" of an error message (HTML
/// with `<code>` or plain text).
std::string request_id_of(const std::string& text) {
  auto pos = text.find("Request: ");
  if (pos == std::string::npos)
    return {};
  auto id = text.substr(pos + 9);
  if (id.rfind("<code>", 0) == 0)
    return id.substr(6, id.find("</code>") - 6);
  return id.substr(0, id.find_first_of(" \n"));
}

uint16_t closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acc{
    ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return acc.local_endpoint().port();
}

user_supervisor_actor user_supervisor_of(router_fixture& f) {
  return f.system().registry().get<user_supervisor_actor>(
    names::user_supervisor);
}

void check_clean_gateway(router_fixture& f) {
  auto st = f.gateway.stats();
  CAF_CHECK_EQUAL(st.overlap_violations, 0u);
  CAF_CHECK_EQUAL(st.order_violations, 0u);
  CAF_CHECK_EQUAL(st.misrouted, 0u);
  CAF_CHECK_EQUAL(st.unauthorized, 0u);
}

} // namespace

CAF_TEST(many users many messages in order nothing lost or duplicated) {
  constexpr int users = 200;
  constexpr int per_user = 20;
  router_fixture f;
  std::vector<int64_t> ids;
  for (int i = 0; i < users; ++i) {
    // Half of the ids above 2^32, as on Telegram today.
    int64_t id = i % 2 == 0 ? 100000 + i : 5000000000 + i;
    ids.push_back(id);
    f.add_user(id);
  }
  // Each answer takes 20 ms, so users must proceed in parallel to finish
  // in time (one at a time would take 4000 x 20 ms = 80 s).
  f.gateway.behavior().set_latency(milliseconds(20));
  f.start();
  auto t0 = steady_clock::now();
  int64_t last_update = 0;
  for (int m = 1; m <= per_user; ++m)
    for (auto id : ids)
      last_update = f.telegram.push_text(id, msg_text(id, m));
  auto total = static_cast<size_t>(users * per_user);
  bool all = f.telegram.wait_for_sent(total, seconds(45));
  auto took = duration_cast<milliseconds>(steady_clock::now() - t0);
  CAF_MESSAGE("e2e: " << users << " users x " << per_user << " messages = "
                      << total << " routed in " << took.count() << " ms ("
                      << (total * 1000 / std::max<int64_t>(1, took.count()))
                      << " msg/s)");
  CAF_CHECK(all);
  CAF_CHECK_EQUAL(f.telegram.sent_count(), total);
  for (auto id : ids) {
    auto got = texts_to(f, id);
    std::vector<std::string> want;
    for (int m = 1; m <= per_user; ++m)
      want.push_back("echo: " + msg_text(id, m));
    if (got != want) {
      CAF_FAIL("chat " << id << " got " << got.size() << " replies, "
                       << "first: " << (got.empty() ? "" : got.front()));
    }
  }
  auto st = f.gateway.stats();
  CAF_CHECK_EQUAL(st.chat_requests, total);
  CAF_CHECK_EQUAL(st.repeats, 0u);
  CAF_MESSAGE("gateway: max " << st.max_in_flight << " requests in flight");
  CAF_CHECK_GREATER(st.max_in_flight, 20u); // users ran in parallel
  check_clean_gateway(f);
  CAF_CHECK_EQUAL(f.stop(), 0);
  CAF_CHECK_EQUAL(f.telegram.confirmed_offset(), last_update + 1);
  CAF_CHECK_EQUAL(f.telegram.pending_updates(), 0u);
}

CAF_TEST(replies go to the chat of the sender) {
  router_fixture f;
  f.add_user(7001);
  f.add_user(7002);
  f.start();
  f.telegram.push_text(7001, "u7001-m1 hello from one");
  f.telegram.push_text(7002, "u7002-m1 Привет 🌊 from two");
  CAF_REQUIRE(f.telegram.wait_for_sent(2, seconds(10)));
  CAF_CHECK_EQUAL(texts_to(f, 7001),
                  std::vector<std::string>{"echo: u7001-m1 hello from one"});
  CAF_CHECK_EQUAL(texts_to(f, 7002),
                  std::vector<std::string>{"echo: u7002-m1 Привет 🌊 from two"});
  // The gateway saw each user under their own id and token.
  CAF_CHECK_EQUAL(f.gateway.behavior().received("7001").size(), 1u);
  CAF_CHECK_EQUAL(f.gateway.behavior().received("7002").size(), 1u);
  check_clean_gateway(f);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(slow answers of one user do not overlap and keep order) {
  router_fixture f;
  f.add_user(7001);
  f.add_user(7002);
  f.start();
  for (int m = 1; m <= 5; ++m) {
    f.telegram.push_text(7001, msg_text(7001, m) + " gw:sleep=100");
    f.telegram.push_text(7002, msg_text(7002, m));
  }
  CAF_REQUIRE(f.telegram.wait_for_sent(10, seconds(15)));
  auto got = texts_to(f, 7001);
  CAF_REQUIRE_EQUAL(got.size(), 5u);
  for (int m = 1; m <= 5; ++m)
    CAF_CHECK_EQUAL(got[m - 1], "echo: " + msg_text(7001, m) + " gw:sleep=100");
  // The fast user was not held up behind the slow one.
  auto fast = f.telegram.sent_to(7002);
  auto slow = f.telegram.sent_to(7001);
  CAF_CHECK(fast.back().at < slow.back().at);
  check_clean_gateway(f);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(long answers arrive split in order) {
  router_fixture f;
  f.add_user(7001);
  f.start();
  f.telegram.push_text(7001, "gw:long=10000");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 3, seconds(10)));
  std::this_thread::sleep_for(milliseconds(200)); // a late extra chunk
  auto got = texts_to(f, 7001);
  size_t total = 0;
  for (auto& t : got) {
    CAF_CHECK_LESS_OR_EQUAL(t.size(), 4096u); // ASCII: bytes = units
    total += t.size();
  }
  CAF_CHECK_GREATER_OR_EQUAL(got.size(), 3u);
  CAF_CHECK_LESS_OR_EQUAL(got.size(), 4u);
  CAF_CHECK_GREATER_OR_EQUAL(total, 9900u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(a gateway that fails twice then succeeds is retried) {
  router_fixture f;
  f.add_user(7001);
  f.start();
  auto t0 = steady_clock::now();
  f.telegram.push_text(7001, "u7001-m1 gw:flaky=2");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 1, seconds(10)));
  auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
  CAF_CHECK_EQUAL(texts_to(f, 7001),
                  std::vector<std::string>{"echo: u7001-m1 gw:flaky=2"});
  auto st = f.gateway.stats();
  CAF_CHECK_EQUAL(st.chat_requests, 3u);
  CAF_CHECK_EQUAL(st.answered_ok, 1u);
  CAF_CHECK_EQUAL(st.repeats, 2u); // the same message, sent three times
  // Backoff of 50 ms, then 100 ms (with jitter) between the attempts.
  CAF_CHECK_GREATER_OR_EQUAL(took, 110);
  CAF_CHECK_EQUAL(st.overlap_violations, 0u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(a gateway that always fails yields an error message) {
  router_fixture f;
  f.add_user(7001);
  f.add_user(7002, closed_port(), "gw-secret-7002");
  f.start();
  f.telegram.push_text(7001, "u7001-m1 gw:fail=503");
  f.telegram.push_text(7001, "u7001-m2 gw:fail=400");
  f.telegram.push_text(7001, "u7001-m3");
  f.telegram.push_text(7002, "hello?");
  CAF_REQUIRE(f.telegram.wait_for_sent(4, seconds(15)));
  auto got = texts_to(f, 7001);
  CAF_REQUIRE_EQUAL(got.size(), 3u);
  CAF_MESSAGE("503 x3: " << got[0]);
  CAF_CHECK(got[0].find("ZR-GATEWAY-ERROR") != std::string::npos);
  CAF_CHECK_GREATER_OR_EQUAL(request_id_of(got[0]).size(), 6u);
  CAF_MESSAGE("400: " << got[1]);
  CAF_CHECK(got[1].find("Error code: ") != std::string::npos);
  CAF_CHECK_GREATER_OR_EQUAL(request_id_of(got[1]).size(), 6u);
  CAF_CHECK_NOT_EQUAL(request_id_of(got[1]), request_id_of(got[0]));
  // The user's queue moves on after a failure.
  CAF_CHECK_EQUAL(got[2], "echo: u7001-m3");
  // 503 three times, 400 once (no retry), then the good one.
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 5u);
  auto down = texts_to(f, 7002);
  CAF_REQUIRE_EQUAL(down.size(), 1u);
  CAF_MESSAGE("refused: " << down[0]);
  CAF_CHECK(down[0].find("ZR-CONTAINER-DOWN") != std::string::npos);
  CAF_CHECK(!request_id_of(down[0]).empty());
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(a user without an assistant is told so) {
  router_fixture f;
  f.add_user(7001);
  f.start();
  f.telegram.push_text(424242, "anyone?");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(424242, 1, seconds(10)));
  auto got = texts_to(f, 424242);
  CAF_CHECK(got[0].find("NOT-PROVISIONED") != std::string::npos);
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 0u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(a 429 from sendMessage delays the reply but does not drop it) {
  router_fixture f;
  f.add_user(7001);
  f.start();
  f.telegram.rate_limit_next("sendMessage", 1, 1);
  auto t0 = steady_clock::now();
  f.telegram.push_text(7001, "u7001-m1");
  f.telegram.push_text(7001, "u7001-m2");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 2, seconds(10)));
  auto took
    = duration_cast<milliseconds>(f.telegram.sent_to(7001)[0].at - t0).count();
  CAF_MESSAGE("first reply after " << took << " ms");
  CAF_CHECK_GREATER_OR_EQUAL(took, 1000);
  CAF_CHECK_EQUAL(
    texts_to(f, 7001),
    (std::vector<std::string>{"echo: u7001-m1", "echo: u7001-m2"}));
  CAF_CHECK_EQUAL(f.telegram.method_calls("sendMessage"), 3u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(a 5xx from sendMessage is retried) {
  router_fixture f;
  f.add_user(7001);
  f.start();
  f.telegram.fail_next("sendMessage", 502, 2);
  f.telegram.push_text(7001, "u7001-m1");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 1, seconds(10)));
  CAF_CHECK_EQUAL(texts_to(f, 7001),
                  std::vector<std::string>{"echo: u7001-m1"});
  CAF_CHECK_EQUAL(f.telegram.method_calls("sendMessage"), 3u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(a crash trigger loses none of the messages) {
  router_fixture f;
  f.cfg().user.crash_trigger = "#crash";
  f.add_user(7001);
  f.add_user(7002);
  f.start();
  for (int m = 1; m <= 6; ++m) {
    auto text = msg_text(7001, m);
    if (m == 3)
      text += " #crash";
    f.telegram.push_text(7001, text);
    f.telegram.push_text(7002, msg_text(7002, m));
  }
  CAF_REQUIRE(f.telegram.wait_for_sent(12, seconds(15)));
  std::this_thread::sleep_for(milliseconds(200)); // any duplicate shows up
  auto got = texts_to(f, 7001);
  std::vector<std::string> want;
  for (int m = 1; m <= 6; ++m)
    want.push_back("echo: " + msg_text(7001, m) + (m == 3 ? " #crash" : ""));
  CAF_CHECK_EQUAL(got, want);
  CAF_CHECK_EQUAL(texts_to(f, 7002).size(), 6u);
  check_clean_gateway(f);
  CAF_CHECK_EQUAL(f.gateway.stats().repeats, 0u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(a crash of a busy user actor loses none of its messages) {
  router_fixture f;
  f.add_user(7001);
  f.start();
  f.telegram.push_text(7001, "u7001-m1 gw:sleep=400");
  f.telegram.push_text(7001, "u7001-m2");
  f.telegram.push_text(7001, "u7001-m3");
  CAF_REQUIRE(f.gateway.behavior().wait_for_chat_requests(1, seconds(10)));
  bool crashed = false;
  {
    caf::scoped_actor self{f.system()};
    self
      ->request(user_supervisor_of(f), seconds(5), crash_atom_v, int64_t{7001})
      .receive(
        [&](bool ok) {
          crashed = ok;
        },
        [&](caf::error& e) {
          CAF_FAIL(f.system().render(e));
        });
  }
  CAF_CHECK(crashed);
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 3, seconds(10)));
  std::this_thread::sleep_for(milliseconds(600)); // the first call's answer
  CAF_CHECK_EQUAL(texts_to(f, 7001),
                  (std::vector<std::string>{"echo: u7001-m1 gw:sleep=400",
                                            "echo: u7001-m2",
                                            "echo: u7001-m3"}));
  auto st = f.gateway.stats();
  CAF_MESSAGE("gateway after crash: requests="
              << st.chat_requests << " repeats=" << st.repeats
              << " overlaps=" << st.overlap_violations);
  CAF_CHECK_EQUAL(st.order_violations, 0u);
  // The abandoned call was cancelled (disconnect) before the replay began.
  CAF_CHECK_EQUAL(st.overlap_violations, 0u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(malformed and non text updates are confirmed and never routed) {
  router_fixture f;
  f.add_user(7001);
  f.start();
  f.telegram.push_raw(R"({"message":{"message_id":1,"from":{"id":7001},)"
                      R"("chat":{"id":7001,"type":"private"},"date":1,)"
                      R"("sticker":{"file_id":"x","emoji":"😀"}}})");
  f.telegram.push_raw(
    R"({"edited_message":{"message_id":1,"from":{"id":7001},)"
    R"("chat":{"id":7001},"date":1,"edit_date":2,"text":"e"}})");
  f.telegram.push_raw(R"({"message":{"message_id":2,"from":{"id":-1},)"
                      R"("chat":{"id":7001},"new_chat_members":[{"id":9}]}})");
  f.telegram.push_raw(R"({"message":{"message_id":3,"from":{"id":"bad"},)"
                      R"("chat":{"id":7001},"text":"malformed"}})");
  f.telegram.push_raw(R"({"message":[1,2,3]})");
  auto last = f.telegram.push_text(7001, "u7001-m1");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 2, seconds(10)));
  // The sticker gets a notice (issue 25: never silence), the edit nothing.
  auto texts = texts_to(f, 7001);
  CAF_REQUIRE_EQUAL(texts.size(), 2u);
  CAF_CHECK(texts[0].find("Nice sticker") != std::string::npos);
  CAF_CHECK_EQUAL(texts[1], "echo: u7001-m1");
  // Only the text was routed; everything was confirmed while running.
  CAF_CHECK(f.telegram.wait_for_confirmed(last + 1, seconds(10)));
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 1u);
  // Only non-routable updates: the offset still advances past them.
  auto junk = f.telegram.push_raw(R"({"edited_message":{"message_id":5}})");
  CAF_CHECK(f.telegram.wait_for_confirmed(junk + 1, seconds(10)));
  CAF_CHECK_EQUAL(f.stop(), 0);
  CAF_CHECK_EQUAL(f.telegram.sent_count(), 2u);
}

CAF_TEST(401 on getUpdates stops the router with exit code 2) {
  router_fixture f;
  f.add_user(7001);
  f.telegram.set_unauthorized(true);
  f.start();
  CAF_CHECK(f.wait_for_exit(seconds(10)));
  CAF_CHECK_EQUAL(f.stop(), 2);
}

CAF_TEST(409 from a webhook is resolved by deleting it) {
  router_fixture f;
  f.add_user(7001);
  f.telegram.set_webhook(true);
  f.start();
  f.telegram.push_text(7001, "u7001-m1");
  CAF_CHECK(f.telegram.wait_for_sent_to(7001, 1, seconds(10)));
  CAF_CHECK_GREATER_OR_EQUAL(f.telegram.method_calls("deleteWebhook"), 1u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(graceful shutdown lets in flight messages finish and confirms) {
  router_fixture f;
  f.add_user(7001);
  f.add_user(7002);
  f.start();
  int64_t last = 0;
  for (int m = 1; m <= 3; ++m) {
    f.telegram.push_text(7001, msg_text(7001, m) + " gw:sleep=300");
    last = f.telegram.push_text(7002, msg_text(7002, m));
  }
  // Stop while user 7001's answers are still being computed.
  CAF_REQUIRE(f.gateway.behavior().wait_for_chat_requests(2, seconds(10)));
  auto t0 = steady_clock::now();
  CAF_CHECK_EQUAL(f.stop(), 0);
  auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
  CAF_MESSAGE("orderly stop took " << took << " ms");
  CAF_CHECK_EQUAL(texts_to(f, 7001).size(), 3u);
  CAF_CHECK_EQUAL(texts_to(f, 7002).size(), 3u);
  CAF_CHECK_EQUAL(f.telegram.confirmed_offset(), last + 1);
  CAF_CHECK_EQUAL(f.telegram.pending_updates(), 0u);
  CAF_CHECK_LESS(took, 5000);
}

CAF_TEST(tokens never appear in the log) {
  router_fixture f;
  f.cfg().log.file = f.dir() + "/router.log";
  f.cfg().log.level = "debug";
  auto token = f.add_user(7001);
  f.add_user(7002, closed_port(), "gw-secret-closed-7002");
  f.start();
  f.telegram.fail_next("sendMessage", 500, 1);
  f.telegram.fail_next("sendChatAction", 400, 3);
  f.telegram.push_text(7001, "u7001-m1");
  f.telegram.push_text(7001, "u7001-m2 gw:fail=401");
  f.telegram.push_text(7001, "u7001-m3 gw:flaky=1");
  f.telegram.push_text(7002, "to a closed port");
  f.telegram.push_text(99, "not provisioned");
  CAF_REQUIRE(f.telegram.wait_for_sent(5, seconds(15)));
  CAF_CHECK_EQUAL(f.stop(), 0);
  auto log = f.read_log();
  CAF_MESSAGE("log: " << log.size() << " bytes");
  CAF_REQUIRE(!log.empty());
  // The lines of the original router are there ...
  CAF_CHECK(log.find("📨 Message from 7001") != std::string::npos);
  CAF_CHECK(log.find("→ Routing to container") != std::string::npos);
  CAF_CHECK(log.find("→ Sending to container on port") != std::string::npos);
  CAF_CHECK(log.find("← Response received") != std::string::npos);
  CAF_CHECK(log.find("latency_ms=") != std::string::npos);
  // ... and no secret is.
  std::string secret_part = router_fixture::bot_token;
  secret_part = secret_part.substr(secret_part.find(':') + 1);
  CAF_CHECK_EQUAL(log.find(secret_part), std::string::npos);
  CAF_CHECK_EQUAL(log.find(token), std::string::npos);
  CAF_CHECK_EQUAL(log.find("gw-secret"), std::string::npos);
  CAF_CHECK_EQUAL(log.find("Bearer"), std::string::npos);
}
