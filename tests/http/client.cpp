#define CAF_SUITE http.client
#include "caf/test/unit_test.hpp"

#include "http/client.hpp"
#include "runtime/io_runtime.hpp"

#include <atomic>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "emulators/fake_gateway.hpp"
#include "runtime/io_runtime.hpp"

// The HTTP client against a loopback server: keep-alive reuse, reconnecting
// after the server closed an idle connection, the per-request deadline, the
// body limit, refused connections and shutdown.

using namespace zaki;
using namespace std::chrono;
namespace fk = zaki::fakes;

namespace {

/// Returns the origin of a server on 127.0.0.1:`port`.
origin loopback(uint16_t port) {
  origin o;
  o.host = "127.0.0.1";
  o.port = port;
  return o;
}

/// A loopback server whose handler the test sets; records what arrived.
struct server_fixture {
  using handler_fn
    = std::function<void(fk::request&, std::shared_ptr<fk::responder>)>;

  explicit server_fixture(milliseconds idle_timeout = seconds(30)) : runner(1) {
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
          authorizations.push_back(auth == req.end()
                                     ? std::string{}
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
    return loopback(port);
  }

  io_runtime runner{1, io_start::deferred};
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
  client.async_request(std::move(req), [p](http_result res) {
    p->set_value(std::move(res));
  });
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

/// A loopback server that answers each request of a connection with the
/// next scripted reply, written in the given pieces with a pause between
/// them (so that the client reads a response in many parts); a reply marked
/// `close` is followed by closing the connection. Bounded: it serves the
/// replies of one script and stops.
struct scripted_server {
  struct reply {
    std::vector<std::string> pieces;
    bool close = false;
  };

  explicit scripted_server(std::vector<reply> script)
    : acceptor(ctx, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port = acceptor.local_endpoint().port();
    worker = std::thread([this, script = std::move(script)] {
      using boost::asio::ip::tcp;
      boost::system::error_code ec;
      size_t next = 0;
      while (next < script.size()) {
        tcp::socket sock{ctx};
        acceptor.accept(sock, ec);
        if (ec || stopping)
          return;
        ++connections;
        std::string in;
        while (next < script.size()) {
          // One request: its head, then its Content-Length body.
          size_t head_end;
          while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
            char buf[4096];
            auto n = sock.read_some(boost::asio::buffer(buf), ec);
            if (ec)
              break;
            in.append(buf, n);
          }
          if (ec)
            break;
          size_t length = 0;
          auto cl = in.find("Content-Length: ");
          if (cl != std::string::npos && cl < head_end)
            length = std::stoul(in.substr(cl + 16));
          while (in.size() < head_end + 4 + length) {
            char buf[4096];
            auto n = sock.read_some(boost::asio::buffer(buf), ec);
            if (ec)
              break;
            in.append(buf, n);
          }
          in.erase(0, head_end + 4 + length);
          auto& r = script[next++];
          for (auto& piece : r.pieces) {
            boost::asio::write(sock, boost::asio::buffer(piece), ec);
            std::this_thread::sleep_for(milliseconds(3));
          }
          if (r.close)
            break;
        }
        sock.shutdown(tcp::socket::shutdown_both, ec);
        sock.close(ec);
      }
    });
  }

  ~scripted_server() {
    // A worker still waiting for a connection is woken by one.
    stopping = true;
    boost::system::error_code ignored;
    boost::asio::io_context wake_ctx;
    boost::asio::ip::tcp::socket wake{wake_ctx};
    wake.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ignored);
    worker.join();
  }

  origin where() const {
    return loopback(port);
  }

  /// Splits `text` into pieces of `n` bytes.
  static std::vector<std::string> cut(const std::string& text, size_t n) {
    std::vector<std::string> out;
    for (size_t i = 0; i < text.size(); i += n)
      out.push_back(text.substr(i, n));
    return out;
  }

  boost::asio::io_context ctx;
  boost::asio::ip::tcp::acceptor acceptor;
  uint16_t port = 0;
  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  std::thread worker;
};

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

CAF_TEST(responses read in pieces or chunked or ended by the close) {
  std::string big(100000, 'b'); // more than one read of 64 KiB
  std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  std::string sized = "HTTP/1.1 200 OK\r\nContent-Length: "
    + std::to_string(big.size()) + "\r\n\r\n" + big;
  std::string until_close
    = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end";
  scripted_server srv{{
    {scripted_server::cut(
      "HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\nabcd", 1)},
    {scripted_server::cut(chunked, 7)},
    {scripted_server::cut(sized, 30000)},
    {scripted_server::cut(until_close, 5), true},
    // The next connection: a status line, then the server hangs up.
    {{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"}, true},
    // And another that hangs up before a byte.
    {{}, true},
  }};
  auto client = http_client::make(io.context(), srv.where(), {});
  auto one = fetch(*client, post("/byte-by-byte"));
  CAF_CHECK_EQUAL(one.status, 201);
  CAF_CHECK_EQUAL(one.body, "abcd");
  auto two = fetch(*client, post("/chunked"));
  CAF_CHECK_EQUAL(two.status, 200);
  CAF_CHECK_EQUAL(two.body, "hello world");
  auto three = fetch(*client, post("/big"));
  CAF_CHECK_EQUAL(three.status, 200);
  CAF_CHECK(three.body == big);
  auto four = fetch(*client, post("/until-close"));
  CAF_CHECK_EQUAL(four.status, 200);
  CAF_CHECK_EQUAL(four.body, "until the end");
  CAF_CHECK_EQUAL(srv.connections.load(), 1);
  // A body cut short by the close is an error, not a short answer.
  auto five = fetch(*client, post("/cut"));
  CAF_CHECK_EQUAL(five.status, 0);
  // Part of the answer came: the request reached the server (a retry
  // would run it twice), unlike the hang-up before a byte below.
  CAF_CHECK(five.failure == http_failure::interrupted);
  CAF_MESSAGE("cut short: " << five.error);
  auto six = fetch(*client, post("/nothing"));
  CAF_CHECK_EQUAL(six.status, 0);
  CAF_CHECK(six.failure == http_failure::closed);
  CAF_MESSAGE("nothing: " << six.error);
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

// One timer per connection watches the deadline lazily: an exchange with
// an earlier deadline than the pending wait moves the timer, and a wait
// that fires during a later exchange waits again for that one's deadline.
CAF_TEST(the deadline follows each exchange of a kept - alive connection) {
  server_fixture srv;
  srv.on_request = [](fk::request& req, std::shared_ptr<fk::responder> res) {
    auto target = std::string{fk::to_sv(req.target())};
    if (target.rfind("/slow/", 0) == 0) // the server's thread waits: bounded
      std::this_thread::sleep_for(milliseconds(std::stoi(target.substr(6))));
    res->send(boost::beast::http::status::ok, R"({"ok":true})");
  };
  auto client = http_client::make(io.context(), srv.where(), {});
  auto req = post("/fast");
  CAF_CHECK_EQUAL(fetch(*client, req).status, 200); // a wait due in 5 s
  req = post("/slow/700");
  req.timeout = milliseconds(300);
  auto t0 = steady_clock::now();
  auto res = fetch(*client, req);
  auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
  CAF_CHECK(res.failure == http_failure::timeout);
  CAF_CHECK_GREATER_OR_EQUAL(took, 290);
  CAF_CHECK_LESS(took, 700);
  // The server's one thread is still in the slow answer: let it finish.
  std::this_thread::sleep_for(milliseconds(600));
  // A wait due 400 ms after the next exchange fires while the one after it
  // runs (started 250 ms later, answered 300 ms after that): that one has
  // until 650 ms and must not be cut at 400 ms.
  req = post("/fast");
  req.timeout = milliseconds(400);
  CAF_CHECK_EQUAL(fetch(*client, req).status, 200);
  std::this_thread::sleep_for(milliseconds(250));
  req = post("/slow/300");
  req.timeout = milliseconds(400);
  res = fetch(*client, req);
  CAF_CHECK_EQUAL(res.status, 200);
  CAF_CHECK(res.failure == http_failure::none);
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

// Streamed answers (Server-Sent Events): the body goes to a callback as it
// arrives, an idle timeout catches a stalled stream while a steady one runs
// past it, and the callback can abort the exchange.
namespace {

/// Sends a chunked 200 whose chunks follow each other every `gap`; with
/// `stall`, the last chunk never comes.
void stream_parts(boost::asio::io_context& ioc,
                  std::shared_ptr<fk::responder> res,
                  std::vector<std::string> parts, milliseconds gap,
                  bool stall) {
  res->send_part("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n",
                 false);
  auto timer = std::make_shared<boost::asio::steady_timer>(ioc);
  auto next = std::make_shared<std::function<void(size_t)>>();
  *next = [=](size_t i) {
    if (i == parts.size()) {
      if (!stall)
        res->send_part("0\r\n\r\n", true);
      return;
    }
    std::string chunk;
    static const char* hex = "0123456789abcdef";
    for (auto n = parts[i].size(); n > 0; n /= 16)
      chunk.insert(chunk.begin(), hex[n % 16]);
    chunk += "\r\n" + parts[i] + "\r\n";
    res->send_part(std::move(chunk), false);
    timer->expires_after(gap);
    timer->async_wait([next, i](boost::system::error_code) {
      (*next)(i + 1);
    });
  };
  (*next)(0);
}

} // namespace

CAF_TEST(a streamed body reaches the callback piece by piece) {
  server_fixture srv;
  srv.on_request = [&](fk::request&, std::shared_ptr<fk::responder> res) {
    stream_parts(srv.runner.context(), res,
                 {"data: a\n\n", "data: b\n\n", "data: c\n\n"},
                 milliseconds(100), false);
  };
  auto client = http_client::make(io.context(), srv.where(), {});
  std::mutex mtx;
  std::vector<std::string> pieces;
  auto req = post("/stream");
  req.idle_timeout = milliseconds(1000);
  req.on_body = [&](std::string_view bytes) {
    std::lock_guard<std::mutex> guard{mtx};
    pieces.emplace_back(bytes);
    return true;
  };
  auto res = fetch(*client, req);
  CAF_CHECK_EQUAL(res.status, 200);
  CAF_CHECK_EQUAL(res.body, "");
  std::string all;
  for (auto& p : pieces)
    all += p;
  CAF_CHECK_EQUAL(all, "data: a\n\ndata: b\n\ndata: c\n\n");
  CAF_CHECK_GREATER_OR_EQUAL(pieces.size(), 3u);
  // The connection is kept alive for the next request.
  srv.on_request = nullptr;
  CAF_CHECK_EQUAL(fetch(*client, post("/after")).status, 200);
  client->shutdown();
}

CAF_TEST(a stalled stream times out while a steady one runs past the idle) {
  server_fixture srv;
  bool stall = false;
  srv.on_request = [&](fk::request&, std::shared_ptr<fk::responder> res) {
    std::vector<std::string> parts(stall ? 1 : 8, "data: x\n\n");
    stream_parts(srv.runner.context(), res, parts, milliseconds(100), stall);
  };
  auto client = http_client::make(io.context(), srv.where(), {});
  auto req = post("/stream");
  req.idle_timeout = milliseconds(300);
  req.on_body = [](std::string_view) {
    return true;
  };
  // Eight parts 100 ms apart: 800 ms in all, past the 300 ms idle timeout.
  auto res = fetch(*client, req);
  CAF_CHECK_EQUAL(res.status, 200);
  CAF_CHECK(res.failure == http_failure::none);
  stall = true;
  res = fetch(*client, req);
  CAF_CHECK_EQUAL(res.status, 0);
  CAF_CHECK(res.failure == http_failure::timeout);
  CAF_CHECK(res.error.find("idle") != std::string::npos);
  client->shutdown();
}

CAF_TEST(a read pause lets several parts of a stream come in one read) {
  server_fixture srv;
  srv.on_request = [&](fk::request&, std::shared_ptr<fk::responder> res) {
    std::vector<std::string> parts(12, "data: x\n\n");
    stream_parts(srv.runner.context(), res, parts, milliseconds(20), false);
  };
  auto client = http_client::make(io.context(), srv.where(), {});
  // The parser hands over each chunk on its own; the chunks of one read
  // come within microseconds, those of separate reads about 20 ms apart.
  std::mutex mtx;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  std::string all;
  auto req = post("/stream");
  req.on_body = [&](std::string_view bytes) {
    std::lock_guard<std::mutex> guard{mtx};
    arrivals.push_back(std::chrono::steady_clock::now());
    all.append(bytes);
    return true;
  };
  // No pause for the first piece, then 100 ms between reads: the twelve
  // parts, 20 ms apart, come in about three reads instead of twelve.
  std::atomic<int> asked{0};
  req.read_pause = [&] {
    return ++asked == 1 ? milliseconds(0) : milliseconds(100);
  };
  auto res = fetch(*client, req);
  CAF_CHECK_EQUAL(res.status, 200);
  CAF_CHECK(res.failure == http_failure::none);
  CAF_CHECK_EQUAL(all.size(), 12 * std::string{"data: x\n\n"}.size());
  size_t reads = 1;
  for (size_t i = 1; i < arrivals.size(); ++i)
    if (arrivals[i] - arrivals[i - 1] > milliseconds(10))
      ++reads;
  CAF_CHECK_LESS_OR_EQUAL(reads, 6u);
  CAF_CHECK_GREATER_OR_EQUAL(asked.load(), 2);
  // The connection is kept alive for the next request.
  srv.on_request = nullptr;
  CAF_CHECK_EQUAL(fetch(*client, post("/after")).status, 200);
  client->shutdown();
}

CAF_TEST(a shutdown during a read pause ends the exchange at once) {
  server_fixture srv;
  srv.on_request = [&](fk::request&, std::shared_ptr<fk::responder> res) {
    std::vector<std::string> parts(50, "data: x\n\n");
    stream_parts(srv.runner.context(), res, parts, milliseconds(20), false);
  };
  auto client = http_client::make(io.context(), srv.where(), {});
  auto req = post("/stream");
  std::promise<void> first;
  std::atomic<bool> seen{false};
  req.on_body = [&](std::string_view) {
    if (!seen.exchange(true))
      first.set_value();
    return true;
  };
  // Once the first piece is in, the next read waits 5 s.
  req.read_pause = [&seen] {
    return seen ? milliseconds(5000) : milliseconds(0);
  };
  auto p = std::make_shared<std::promise<http_result>>();
  auto f = p->get_future();
  client->async_request(std::move(req), [p](http_result res) {
    p->set_value(std::move(res));
  });
  CAF_REQUIRE(first.get_future().wait_for(seconds(5))
              == std::future_status::ready);
  auto stopped = std::chrono::steady_clock::now();
  client->shutdown();
  CAF_REQUIRE(f.wait_for(seconds(2)) == std::future_status::ready);
  auto res = f.get();
  CAF_CHECK(res.failure == http_failure::cancelled);
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - stopped, seconds(1));
}

CAF_TEST(the body callback can abort the exchange) {
  server_fixture srv;
  srv.on_request = [&](fk::request&, std::shared_ptr<fk::responder> res) {
    stream_parts(srv.runner.context(), res, {"data: a\n\n", "data: b\n\n"},
                 milliseconds(50), true);
  };
  auto client = http_client::make(io.context(), srv.where(), {});
  auto req = post("/stream");
  req.on_body = [](std::string_view) {
    return false;
  };
  auto res = fetch(*client, req);
  CAF_CHECK_EQUAL(res.status, 0);
  CAF_CHECK(res.failure == http_failure::cancelled);
  client->shutdown();
}

CAF_TEST_FIXTURE_SCOPE_END()
