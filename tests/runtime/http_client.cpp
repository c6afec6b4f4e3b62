#define CAF_SUITE runtime.http_client
#include "caf/test/unit_test.hpp"

#include "runtime/http_client.hpp"

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "runtime/io_runtime.hpp"
#include "tests/fakes/fake_gateway.hpp"

// The HTTP client against a loopback server: keep-alive reuse, reconnecting
// after the server closed an idle connection, the per-request deadline, the
// body limit, refused connections and shutdown.

using namespace zaki;
using namespace std::chrono;
namespace fk = zaki::fakes;

namespace {

/// A loopback server whose handler the test sets; records what arrived.
struct server_fixture {
  using handler_fn
    = std::function<void(fk::request&, std::shared_ptr<fk::responder>)>;

  explicit server_fixture(milliseconds idle_timeout = seconds(30))
    : runner(1) {
    fk::server_options opts;
    opts.read_timeout = idle_timeout;
    server = std::make_unique<fk::mini_http_server>(
      runner.context(),
      [this](fk::request req, std::shared_ptr<fk::responder> res) {
        handler_fn h;
        {
          std::lock_guard<std::mutex> guard{mtx};
          targets.push_back(std::string{fk::to_sv(req.target())});
          auto auth = req.find(boost::beast::http::field::authorization);
          authorizations.push_back(
            auth == req.end() ? std::string{}
                              : std::string{fk::to_sv(auth->value())});
          bodies.push_back(req.body());
          h = on_request;
        }
        ++requests;
        if (h)
          h(req, res);
        else
          res->send(boost::beast::http::status::ok, R"({"ok":true})");
      },
      opts);
    port = server->start();
    runner.start();
  }

  ~server_fixture() {
    server->stop();
    runner.stop();
  }

  origin where() const {
    origin o;
    o.host = "127.0.0.1";
    o.port = port;
    return o;
  }

  fk::io_runner runner;
  std::unique_ptr<fk::mini_http_server> server;
  uint16_t port = 0;
  std::mutex mtx;
  handler_fn on_request;
  std::vector<std::string> targets;
  std::vector<std::string> authorizations;
  std::vector<std::string> bodies;
  std::atomic<int> requests{0};
};

/// Runs one request and waits for its result (bounded).
http_result fetch(http_client& client, http_request_spec req) {
  auto p = std::make_shared<std::promise<http_result>>();
  auto f = p->get_future();
  client.async_request(std::move(req),
                       [p](http_result res) { p->set_value(std::move(res)); });
  if (f.wait_for(seconds(10)) != std::future_status::ready) {
    CAF_FAIL("no result within 10 s");
  }
  return f.get();
}

http_request_spec post(std::string target, std::string body = "{}") {
  http_request_spec req;
  req.target = std::move(target);
  req.body = std::move(body);
  req.timeout = seconds(5);
  return req;
}

struct fixture {
  io_runtime io{1};
  ~fixture() {
    io.stop();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_client_tests, fixture)

CAF_TEST(request details and keep alive reuse) {
  server_fixture srv;
  auto where = srv.where();
  where.base_path = "/base";
  auto client = http_client::make(io.context(), where, {});
  auto req = post("/v1/chat/completions", R"({"x":"Привет"})");
  req.authorization = "Bearer gw-secret";
  auto res = fetch(*client, req);
  CAF_CHECK_EQUAL(res.status, 200);
  CAF_CHECK(res.ok());
  CAF_CHECK_EQUAL(res.body, R"({"ok":true})");
  CAF_CHECK(res.failure == http_failure::none);
  CAF_CHECK_GREATER(res.latency_us, 0);
  for (int i = 0; i < 9; ++i)
    CAF_CHECK_EQUAL(fetch(*client, post("/again")).status, 200);
  CAF_CHECK_EQUAL(srv.requests.load(), 10);
  // Ten requests, one connection.
  CAF_CHECK_EQUAL(srv.server->connections(), 1u);
  std::lock_guard<std::mutex> guard{srv.mtx};
  CAF_CHECK_EQUAL(srv.targets[0], "/base/v1/chat/completions");
  CAF_CHECK_EQUAL(srv.authorizations[0], "Bearer gw-secret");
  CAF_CHECK_EQUAL(srv.authorizations[1], "");
  CAF_CHECK_EQUAL(srv.bodies[0], R"({"x":"Привет"})");
  client->shutdown();
}

CAF_TEST(concurrent requests share the pool in order) {
  server_fixture srv;
  auto client = http_client::make(io.context(), srv.where(), {});
  std::vector<std::future<http_result>> results;
  for (int i = 0; i < 20; ++i) {
    auto p = std::make_shared<std::promise<http_result>>();
    results.push_back(p->get_future());
    client->async_request(post("/n/" + std::to_string(i)),
                          [p](http_result res) {
                            p->set_value(std::move(res));
                          });
  }
  for (auto& f : results) {
    CAF_REQUIRE(f.wait_for(seconds(10)) == std::future_status::ready);
    CAF_CHECK_EQUAL(f.get().status, 200);
  }
  CAF_CHECK_EQUAL(srv.server->connections(), 1u);
  std::lock_guard<std::mutex> guard{srv.mtx};
  for (int i = 0; i < 20; ++i)
    CAF_CHECK_EQUAL(srv.targets[i], "/n/" + std::to_string(i));
  client->shutdown();
}

CAF_TEST(reconnects after the server closed an idle connection) {
  // The server drops idle keep-alive connections after 150 ms.
  server_fixture srv{milliseconds(150)};
  auto client = http_client::make(io.context(), srv.where(), {});
  CAF_CHECK_EQUAL(fetch(*client, post("/one")).status, 200);
  std::this_thread::sleep_for(milliseconds(500));
  CAF_CHECK_EQUAL(srv.server->connections(), 0u);
  // The stale connection is noticed and the request sent on a fresh one.
  auto res = fetch(*client, post("/two"));
  CAF_CHECK_EQUAL(res.status, 200);
  CAF_CHECK_EQUAL(res.error, "");
  CAF_CHECK_EQUAL(srv.requests.load(), 2);
  std::this_thread::sleep_for(milliseconds(500));
  CAF_CHECK_EQUAL(fetch(*client, post("/three")).status, 200);
  client->shutdown();
}

CAF_TEST(status codes and retry after are reported) {
  server_fixture srv;
  srv.on_request = [](fk::request&, std::shared_ptr<fk::responder> res) {
    auto r = fk::make_response(boost::beast::http::status::too_many_requests,
                               R"({"error":"slow down"})");
    r.set(boost::beast::http::field::retry_after, "7");
    res->send(std::move(r));
  };
  auto client = http_client::make(io.context(), srv.where(), {});
  auto res = fetch(*client, post("/x"));
  CAF_CHECK_EQUAL(res.status, 429);
  CAF_CHECK(!res.ok());
  CAF_CHECK_EQUAL(res.retry_after, 7);
  CAF_CHECK_EQUAL(res.body, R"({"error":"slow down"})");
  CAF_CHECK(res.failure == http_failure::none);
  client->shutdown();
}

CAF_TEST(a token with a line break is refused and never sent) {
  server_fixture srv;
  auto client = http_client::make(io.context(), srv.where(), {});
  CAF_CHECK_EQUAL(fetch(*client, post("/first")).status, 200);
  auto req = post("/x");
  req.authorization = "Bearer gw-secret\r\nX-Injected: 1";
  auto res = fetch(*client, req);
  CAF_CHECK_EQUAL(res.status, 0);
  CAF_CHECK(res.failure == http_failure::other);
  CAF_CHECK_NOT_EQUAL(res.error.find("CR or LF"), std::string::npos);
  CAF_CHECK_EQUAL(res.error.find("gw-secret"), std::string::npos);
  // The client goes on working; only the two good requests arrived.
  CAF_CHECK_EQUAL(fetch(*client, post("/after")).status, 200);
  CAF_CHECK_EQUAL(srv.requests.load(), 2);
  std::lock_guard<std::mutex> guard{srv.mtx};
  CAF_REQUIRE_EQUAL(srv.targets.size(), 2u);
  CAF_CHECK_EQUAL(srv.targets[1], "/after");
  client->shutdown();
}

CAF_TEST(deadline) {
  server_fixture srv;
  std::vector<std::shared_ptr<fk::responder>> held;
  std::mutex held_mtx;
  srv.on_request = [&](fk::request&, std::shared_ptr<fk::responder> res) {
    std::lock_guard<std::mutex> guard{held_mtx};
    held.push_back(std::move(res)); // never answered
  };
  auto client = http_client::make(io.context(), srv.where(), {});
  auto req = post("/hang");
  req.timeout = milliseconds(300);
  auto t0 = steady_clock::now();
  auto res = fetch(*client, req);
  auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
  CAF_MESSAGE("deadline hit after " << took << " ms: " << res.error);
  CAF_CHECK_EQUAL(res.status, 0);
  CAF_CHECK(res.failure == http_failure::timeout);
  CAF_CHECK_GREATER_OR_EQUAL(took, 290);
  CAF_CHECK_LESS(took, 2000);
  // The client is usable afterwards (on a new connection).
  srv.on_request = nullptr;
  CAF_CHECK_EQUAL(fetch(*client, post("/after")).status, 200);
  client->shutdown();
}

CAF_TEST(body limit) {
  server_fixture srv;
  srv.on_request = [](fk::request& req, std::shared_ptr<fk::responder> res) {
    auto n = req.target() == "/big" ? 2u << 20 : 1000u;
    res->send(boost::beast::http::status::ok, std::string(n, 'x'),
              "text/plain");
  };
  http_client_options opts;
  opts.max_body = 1 << 20;
  auto client = http_client::make(io.context(), srv.where(), opts);
  auto res = fetch(*client, post("/big"));
  CAF_MESSAGE("big: status " << res.status << ", " << res.body.size()
                             << " bytes, " << res.error);
  CAF_CHECK_EQUAL(res.status, 0);
  CAF_CHECK(res.failure == http_failure::too_large);
  CAF_CHECK(res.body.empty());
  auto small = fetch(*client, post("/small"));
  CAF_CHECK_EQUAL(small.status, 200);
  CAF_CHECK_EQUAL(small.body.size(), 1000u);
  client->shutdown();
}

CAF_TEST(connection refused) {
  // A port that was just free: bind, note, close.
  uint16_t port = 0;
  {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acc{
      ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
    port = acc.local_endpoint().port();
  }
  origin where;
  where.host = "127.0.0.1";
  where.port = port;
  auto client = http_client::make(io.context(), where, {});
  auto res = fetch(*client, post("/x"));
  CAF_MESSAGE("refused: " << res.error);
  CAF_CHECK_EQUAL(res.status, 0);
  CAF_CHECK(res.failure == http_failure::connect);
  CAF_CHECK(!res.error.empty());
  client->shutdown();
}

CAF_TEST(shutdown cancels queued and later requests) {
  server_fixture srv;
  std::vector<std::shared_ptr<fk::responder>> held;
  std::mutex held_mtx;
  srv.on_request = [&](fk::request&, std::shared_ptr<fk::responder> res) {
    std::lock_guard<std::mutex> guard{held_mtx};
    held.push_back(std::move(res));
  };
  auto client = http_client::make(io.context(), srv.where(), {});
  std::vector<std::future<http_result>> results;
  for (int i = 0; i < 3; ++i) {
    auto p = std::make_shared<std::promise<http_result>>();
    results.push_back(p->get_future());
    client->async_request(post("/q"), [p](http_result res) {
      p->set_value(std::move(res));
    });
  }
  // Wait until the first one is at the server, then shut down.
  for (int i = 0; i < 100 && srv.requests.load() == 0; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  client->shutdown();
  for (auto& f : results) {
    CAF_REQUIRE(f.wait_for(seconds(5)) == std::future_status::ready);
    auto res = f.get();
    CAF_CHECK_EQUAL(res.status, 0);
    CAF_CHECK(res.failure == http_failure::cancelled);
  }
  auto late = fetch(*client, post("/late"));
  CAF_CHECK(late.failure == http_failure::cancelled);
}

CAF_TEST(https origin without a tls context fails cleanly) {
  origin where;
  where.tls = true;
  where.host = "127.0.0.1";
  where.port = 1;
  auto client = http_client::make(io.context(), where, {});
  auto res = fetch(*client, post("/x"));
  CAF_CHECK(res.failure == http_failure::tls);
  client->shutdown();
}

CAF_TEST_FIXTURE_SCOPE_END()
