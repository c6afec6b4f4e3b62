#define CAF_SUITE admin.http

#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <sstream>
#include <thread>

#include "app/admin_cli.hpp"
#include "tests/fixtures/admin_fixture.hpp"
#include "tests/fixtures/prometheus_check.hpp"

using namespace zaki;
using namespace std::chrono;
namespace http = boost::beast::http;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

CAF_TEST(probes and health answer 200 on a healthy router) {
  test::admin_fixture f;
  f.start();
  CAF_REQUIRE(f.port != 0);
  CAF_REQUIRE(f.chat(1));
  auto live = f.get("/health/live");
  CAF_CHECK_EQUAL(live.status, 200);
  CAF_CHECK(contains(live.body, R"("status":"ok")"));
  CAF_CHECK_EQUAL(f.get("/health/startup").status, 200);
  auto ready = f.get("/health/ready");
  CAF_CHECK_EQUAL(ready.status, 200);
  CAF_CHECK(contains(ready.body, R"("name":"poller")"));
  CAF_CHECK(contains(ready.body, R"("name":"container_backend")"));
  auto all = f.get("/health");
  CAF_CHECK_EQUAL(all.status, 200);
  for (auto key : {R"("rss_bytes":)", R"("peak_rss_bytes":)", R"("uptime_s":)",
                   R"("version":")", R"("name":"live")", R"("name":"store")"})
    CAF_CHECK(contains(all.body, key));
}

CAF_TEST(the tree and the user endpoints show the live actors) {
  test::admin_fixture f;
  f.start();
  CAF_REQUIRE(f.chat(2));
  auto tree = f.get("/admin/tree");
  CAF_REQUIRE_EQUAL(tree.status, 200);
  for (auto key :
       {R"("name":"root")", R"("name":"poller")", R"("name":"user_supervisor")",
        R"("name":"admin")", R"("name":"user:7000001")",
        R"("name":"user:7000002")", R"("container_state":)", R"("port":)",
        R"("last_activity_s_ago":)", R"("in_flight":)", R"("mailbox_size":)"})
    CAF_CHECK(contains(tree.body, key));
  auto user = f.get("/admin/users/7000001");
  CAF_CHECK_EQUAL(user.status, 200);
  CAF_CHECK(contains(user.body, R"("name":"user:7000001")"));
  // Known to users.json but never wrote: no actor, still a 200.
  auto idle = f.get("/admin/users/7000003");
  CAF_CHECK_EQUAL(idle.status, 200);
  CAF_CHECK(contains(idle.body, R"("state":"not_running")"));
  CAF_CHECK(!contains(idle.body, "gateway-token"));
  CAF_CHECK_EQUAL(f.get("/admin/users/99").status, 404);
  CAF_CHECK_EQUAL(f.get("/admin/users/..%2f..").status, 400);
  CAF_CHECK_EQUAL(f.get("/admin/users/../../etc/passwd").status, 400);
  // Actions.
  auto stop = f.post("/admin/users/7000001/stop");
  CAF_CHECK_EQUAL(stop.status, 200);
  CAF_CHECK(contains(stop.body, R"("ok":true)"));
  auto restart = f.post("/admin/users/7000002/restart");
  CAF_CHECK_EQUAL(restart.status, 200);
  CAF_CHECK(contains(restart.body, R"("via":"user_supervisor")"));
  CAF_CHECK_EQUAL(f.post("/admin/users/99/restart").status, 404);
  auto clean = f.post("/admin/locks/clean");
  CAF_CHECK_EQUAL(clean.status, 200);
  CAF_CHECK(contains(clean.body, R"("removed":0)"));
  // The user answers again after the stop.
  auto answered = f.chat(1, "after the stop");
  CAF_CHECK(answered);
  if (!answered)
    CAF_MESSAGE(
      "no answer after the stop; tree: " << f.get("/admin/tree").body);
}

CAF_TEST(unknown paths and wrong methods get JSON 404 and 405) {
  test::admin_fixture f;
  f.start();
  auto nf = f.get("/nope");
  CAF_CHECK_EQUAL(nf.status, 404);
  CAF_CHECK(contains(nf.body, R"({"error":)"));
  CAF_CHECK_EQUAL(nf.content_type, "application/json");
  auto wrong = f.post("/admin/tree");
  CAF_CHECK_EQUAL(wrong.status, 405);
  CAF_CHECK_EQUAL(wrong.allow, "GET");
  auto wrong_post = f.get("/admin/users/7000001/restart");
  CAF_CHECK_EQUAL(wrong_post.status, 405);
  CAF_CHECK_EQUAL(wrong_post.allow, "POST");
}

CAF_TEST(bad input gets clear statuses and the router keeps routing) {
  test::admin_fixture f;
  f.start();
  // Not HTTP at all.
  auto garbage = f.raw("\x16\x03\x01 hello there\r\n\r\n");
  CAF_CHECK(contains(garbage, "HTTP/1.1 400"));
  // Headers beyond admin.max-header (8 KiB).
  auto huge = f.raw("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: "
                    + std::string(20000, 'a') + "\r\n\r\n");
  CAF_CHECK(contains(huge, "HTTP/1.1 431"));
  // A body beyond admin.max-body (64 KiB).
  auto big_body = f.raw("POST /admin/locks/clean HTTP/1.1\r\nHost: x\r\n"
                        "Content-Length: 1000000\r\n\r\n"
                        + std::string(70000, 'b'));
  CAF_CHECK(contains(big_body, "HTTP/1.1 413"));
  // A slow client: half a request line, then silence. The request deadline
  // (2 s in the fixture) closes the connection.
  auto started = steady_clock::now();
  auto slow = f.raw("GET /health/live HT", seconds(6));
  auto waited = steady_clock::now() - started;
  CAF_CHECK(slow.empty());
  CAF_CHECK(waited >= milliseconds(1500));
  CAF_CHECK(waited < seconds(5));
  CAF_CHECK(f.chat(1));
  CAF_CHECK_EQUAL(f.get("/health/live").status, 200);
}

CAF_TEST(metrics parse and change as messages flow) {
  test::admin_fixture f;
  f.start();
  auto first = f.get("/metrics");
  CAF_REQUIRE_EQUAL(first.status, 200);
  CAF_CHECK(contains(first.content_type, "version=0.0.4"));
  auto before = test::parse_prometheus(first.body);
  CAF_REQUIRE_EQUAL(before.error, "");
  CAF_REQUIRE(f.chat(3));
  // The fake records a message before the telegram actor has its answer and
  // counts it, so the counters may trail the chat by a moment.
  const char* counters[]
    = {"zaki_updates_received_total", "zaki_messages_routed_total",
       "zaki_telegram_sent_total", "zaki_session_lock_acquisitions_total"};
  auto after = test::parse_prometheus(f.get("/metrics").body);
  auto deadline = steady_clock::now() + seconds(5);
  auto all_counted = [&] {
    return std::all_of(std::begin(counters), std::end(counters), [&](auto n) {
      return after.value(n) >= before.value(n) + 3;
    });
  };
  while (!all_counted() && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
    after = test::parse_prometheus(f.get("/metrics").body);
  }
  CAF_REQUIRE_EQUAL(after.error, "");
  for (auto name : counters)
    CAF_CHECK_GREATER_OR_EQUAL(after.value(name), before.value(name) + 3);
  CAF_CHECK_EQUAL(after.value("zaki_active_user_actors"), 3);
  CAF_CHECK_EQUAL(after.value("zaki_admin_tree_walk_ok"), 1);
  CAF_CHECK(after.value("process_resident_memory_bytes") > 0);
  CAF_CHECK(after.value(R"(zaki_actor_mailbox_size{actor="poller"})") >= 0);
  CAF_CHECK(after.types.count("zaki_telegram_rate_limited_total") == 1);
  CAF_CHECK(after.types.count("zaki_session_lock_waits_total") == 1);
  CAF_CHECK(after.types.count("zaki_session_lock_reclaims_total") == 1);
  CAF_CHECK(after.value(R"(zaki_admin_requests_total{code="200"})") >= 1);
}

CAF_TEST(the token is enforced beyond loopback) {
  test::admin_fixture f;
  admin_options opts;
  admin_access access;
  access.host = "127.0.0.1";
  access.require_token = true;
  access.token = "admin-secret";
  opts.access = access;
  f.start({}, opts);
  CAF_CHECK_EQUAL(f.get("/admin/tree").status, 401);
  auto wrong = f.get("/admin/tree", "admin-secreT");
  CAF_CHECK_EQUAL(wrong.status, 401);
  CAF_CHECK_EQUAL(wrong.body, R"({"error":"unauthorized"})");
  CAF_CHECK_EQUAL(f.get("/metrics").status, 401);
  CAF_CHECK_EQUAL(f.post("/admin/locks/clean").status, 401);
  CAF_CHECK_EQUAL(f.get("/admin/tree", "admin-secret").status, 200);
  CAF_CHECK_EQUAL(f.get("/metrics", "admin-secret").status, 200);
  // Probes stay open for the orchestrator.
  CAF_CHECK_EQUAL(f.get("/health/live").status, 200);
}

CAF_TEST(the admin CLI prints the tree and explains a stopped router) {
  test::admin_fixture f;
  f.start();
  CAF_REQUIRE(f.chat(2));
  settings s = f.cfg.values;
  s.admin.address = "127.0.0.1:" + std::to_string(f.port);
  std::ostringstream out;
  std::ostringstream err;
  CAF_CHECK_EQUAL(run_admin_command(s, {"tree"}, out, err, false), 0);
  CAF_MESSAGE("zaki-router admin tree:\n" << out.str());
  CAF_CHECK(contains(out.str(), "root  running"));
  CAF_CHECK(contains(out.str(), "├── "));
  CAF_CHECK(contains(out.str(), "user:7000001"));
  out.str("");
  CAF_CHECK_EQUAL(run_admin_command(s, {"user", "7000002"}, out, err, false),
                  0);
  CAF_CHECK(contains(out.str(), "user:7000002"));
  CAF_CHECK_EQUAL(run_admin_command(s, {"user", "99"}, out, err, false), 1);
  CAF_CHECK_EQUAL(run_admin_command(s, {"user", "x"}, out, err, false), 2);
  CAF_CHECK_EQUAL(run_admin_command(s, {"restart", "7000002"}, out, err, false),
                  0);
  auto port = f.port;
  f.stop();
  err.str("");
  s.admin.address = "127.0.0.1:" + std::to_string(port);
  CAF_CHECK_EQUAL(run_admin_command(s, {"tree"}, out, err, false), 3);
  CAF_CHECK(contains(err.str(), "the router is not running at 127.0.0.1:"));
}
