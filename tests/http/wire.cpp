#define CAF_SUITE http.wire
#include "caf/test/unit_test.hpp"

#include "http/wire.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

// The client's own request head and response reader: the head is what
// Beast's serializer wrote before (fields, Content-Length rules), values
// with CR or LF are refused, and the reader reports status, Retry-After and
// the body, with the body limit held for Content-Length and chunked bodies,
// also when the body arrives with the header or in pieces.

using namespace zaki;
namespace http = boost::beast::http;

namespace {

/// Feeds `wire` to a reader in pieces of `step` bytes; returns the error.
boost::beast::error_code feed(response_reader& r, std::string_view wire,
                              size_t step) {
  boost::beast::error_code ec;
  r.eager(true);
  std::string pending;
  size_t pos = 0;
  // Bounded: every round consumes input or ends the feed.
  for (size_t rounds = 0; !r.is_done() && rounds < 4 * wire.size() + 8;
       ++rounds) {
    if (pos < wire.size()) {
      auto n = std::min(step, wire.size() - pos);
      pending.append(wire.substr(pos, n));
      pos += n;
    } else if (pending.empty()) {
      r.put_eof(ec);
      return ec;
    }
    auto used = r.put(boost::asio::buffer(pending), ec);
    if (ec == http::error::need_more) {
      ec = {};
      if (pos >= wire.size() && used == 0) {
        r.put_eof(ec);
        return ec;
      }
    } else if (ec) {
      return ec;
    }
    pending.erase(0, used);
  }
  return ec;
}

} // namespace

CAF_TEST(request head with a body) {
  std::string out = "left over";
  request_head head{http::verb::post,   "/v1/chat/completions", "127.0.0.1",
                    "Bearer gw-secret", "application/json",     17};
  write_request_head(head, out);
  CAF_CHECK_EQUAL(out,
                  "POST /v1/chat/completions HTTP/1.1\r\n"
                  "Host: 127.0.0.1\r\n"
                  "User-Agent: zaki-router\r\n"
                  "Authorization: Bearer gw-secret\r\n"
                  "Content-Type: application/json\r\n"
                  "Content-Length: 17\r\n"
                  "\r\n");
}

CAF_TEST(request head without a body) {
  std::string out;
  write_request_head({http::verb::get, "/health", "gw", "", "text/plain", 0},
                     out);
  CAF_CHECK_EQUAL(out,
                  "GET /health HTTP/1.1\r\nHost: gw\r\n"
                  "User-Agent: zaki-router\r\n\r\n");
  // A POST always states its length, even an empty one.
  write_request_head({http::verb::post, "/x", "gw", "", "application/json", 0},
                     out);
  CAF_CHECK_EQUAL(out,
                  "POST /x HTTP/1.1\r\nHost: gw\r\n"
                  "User-Agent: zaki-router\r\n"
                  "Content-Type: application/json\r\n"
                  "Content-Length: 0\r\n\r\n");
}

CAF_TEST(values that would split the head are refused) {
  CAF_CHECK(safe_header_value("Bearer abc-123_XYZ"));
  CAF_CHECK(safe_header_value(""));
  CAF_CHECK(!safe_header_value("Bearer x\r\nX-Evil: 1"));
  CAF_CHECK(!safe_header_value("/path\n"));
  CAF_CHECK(!safe_header_value(std::string_view{"a\0b", 3}));
}

CAF_TEST(status retry after and body) {
  constexpr std::string_view wire = "HTTP/1.1 429 Too Many Requests\r\n"
                                    "Retry-After: 7\r\n"
                                    "Content-Type: application/json\r\n"
                                    "Content-Length: 11\r\n\r\n"
                                    "{\"ok\":true}";
  for (size_t step : {wire.size(), size_t{1}, size_t{5}}) {
    response_reader r{1024};
    auto ec = feed(r, wire, step);
    CAF_CHECK(!ec);
    CAF_CHECK(r.is_done());
    CAF_CHECK_EQUAL(r.status(), 429);
    CAF_CHECK_EQUAL(r.retry_after(), 7);
    CAF_CHECK_EQUAL(r.body(), "{\"ok\":true}");
    CAF_CHECK(r.keep_alive());
  }
}

CAF_TEST(a past date in retry after is no hint and close is seen) {
  response_reader r{1024};
  auto ec = feed(r,
                 "HTTP/1.1 503 Unavailable\r\n"
                 "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT\r\n"
                 "Connection: close\r\nContent-Length: 0\r\n\r\n",
                 1000);
  CAF_CHECK(!ec);
  CAF_CHECK_EQUAL(r.status(), 503);
  CAF_CHECK_EQUAL(r.retry_after(), 0);
  CAF_CHECK(r.body().empty());
  CAF_CHECK(!r.keep_alive());
}

CAF_TEST(retry after as seconds or as an HTTP date) {
  // 2026-12-06 23:45:00 UTC
  constexpr int64_t now = 1796600700;
  CAF_CHECK_EQUAL(parse_retry_after("2", now), 2);
  CAF_CHECK_EQUAL(parse_retry_after(" 120", now), 120);
  CAF_CHECK_EQUAL(parse_retry_after("99999999999", now), 1000000);
  CAF_CHECK_EQUAL(parse_retry_after("Sun, 06 Dec 2026 23:45:30 GMT", now), 30);
  CAF_CHECK_EQUAL(parse_retry_after("Mon, 07 Dec 2026 00:45:00 GMT", now),
                  3600);
  // In the past, garbage, or not IMF-fixdate: no hint.
  CAF_CHECK_EQUAL(parse_retry_after("Sun, 06 Dec 2026 23:44:00 GMT", now), 0);
  CAF_CHECK_EQUAL(parse_retry_after("soon", now), 0);
  CAF_CHECK_EQUAL(parse_retry_after("Sun, 06 Foo 2026 23:45:30 GMT", now), 0);
  CAF_CHECK_EQUAL(parse_retry_after("", now), 0);
}

CAF_TEST(chunked body) {
  constexpr std::string_view wire = "HTTP/1.1 200 OK\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n"
                                    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  for (size_t step : {wire.size(), size_t{1}, size_t{7}}) {
    response_reader r{1024};
    CAF_CHECK(!feed(r, wire, step));
    CAF_CHECK_EQUAL(r.status(), 200);
    CAF_CHECK_EQUAL(r.body(), "hello world");
  }
}

CAF_TEST(body limit) {
  struct over_limit {
    const char* what;
    uint64_t max_body;
    std::string_view wire;
    size_t step;
  };
  const over_limit cases[] = {
    {"Content-Length above the limit, refused before any body byte", 10,
     "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n01234567890", 1000},
    {"chunks that add up to more than the limit", 8,
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n",
     3},
    {"a body that ends with the connection (no length)", 4,
     "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n0123456789", 2},
  };
  for (auto& c : cases) {
    CAF_MESSAGE(c.what);
    response_reader r{c.max_body};
    CAF_CHECK_EQUAL(feed(r, c.wire, c.step), http::error::body_limit);
  }
  // Exactly at the limit, in one piece with the header.
  response_reader r{10};
  auto ec = feed(r, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789",
                 1000);
  CAF_CHECK(!ec);
  CAF_CHECK_EQUAL(r.body(), "0123456789");
}
