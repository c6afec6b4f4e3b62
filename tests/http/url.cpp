#define CAF_SUITE http.url
#include "caf/test/unit_test.hpp"

#include "http/url.hpp"

// Where the HTTP clients connect (telegram.api-url, gateway URLs) and the
// admin's HOST:PORT: what parses, with which defaults, and what is refused.

using namespace zaki;

namespace {

/// Checks the verdict on `input`, naming the input when it is wrong.
void check_verdict(const char* input, bool got, bool want) {
  if (got != want)
    CAF_MESSAGE("wrong verdict for \"" << input << "\": " << got);
  CAF_CHECK_EQUAL(got, want);
}

} // namespace

CAF_TEST(http and https origins with default ports) {
  auto o = parse_origin("http://example.com");
  CAF_REQUIRE(o);
  CAF_CHECK(!o->tls);
  CAF_CHECK_EQUAL(o->host, "example.com");
  CAF_CHECK_EQUAL(o->port, 80u);
  CAF_CHECK_EQUAL(o->base_path, "");
  CAF_CHECK_EQUAL(o->authority(), "example.com:80");
  o = parse_origin("https://api.telegram.org");
  CAF_REQUIRE(o);
  CAF_CHECK(o->tls);
  CAF_CHECK_EQUAL(o->port, 443u);
}

CAF_TEST(explicit ports and path prefixes) {
  auto o = parse_origin("http://127.0.0.1:19001/telegram/");
  CAF_REQUIRE(o);
  CAF_CHECK_EQUAL(o->host, "127.0.0.1");
  CAF_CHECK_EQUAL(o->port, 19001u);
  // Trailing slashes go: the client appends "/bot<token>/method".
  CAF_CHECK_EQUAL(o->base_path, "/telegram");
  o = parse_origin("https://h:8443/a/b//");
  CAF_REQUIRE(o);
  CAF_CHECK_EQUAL(o->port, 8443u);
  CAF_CHECK_EQUAL(o->base_path, "/a/b");
  o = parse_origin("http://h/");
  CAF_REQUIRE(o);
  CAF_CHECK_EQUAL(o->base_path, "");
}

CAF_TEST(ipv6 literals) {
  auto o = parse_origin("http://[::1]:8080/x");
  CAF_REQUIRE(o);
  CAF_CHECK_EQUAL(o->host, "::1");
  CAF_CHECK_EQUAL(o->port, 8080u);
  CAF_CHECK_EQUAL(o->base_path, "/x");
  o = parse_origin("https://[2001:db8::2]");
  CAF_REQUIRE(o);
  CAF_CHECK_EQUAL(o->host, "2001:db8::2");
  CAF_CHECK_EQUAL(o->port, 443u);
  CAF_CHECK(!parse_origin("http://[::1"));
  CAF_CHECK(!parse_origin("http://[::1]x"));
  CAF_CHECK(!parse_origin("http://[::1]:"));
}

CAF_TEST(what is refused) {
  for (auto bad :
       {"", "example.com", "ftp://h", "HTTP://h", "http://", "http:///path",
        "http://user:pw@h", "http://h?x=1", "http://h/p?q", "http://h/p#f",
        "http://h:", "http://h:0", "http://h:65536", "http://h:80x",
        "http://h:-1", "http://:80", "http://[]:80"})
    check_verdict(bad, parse_origin(bad).has_value(), false);
}

CAF_TEST(host and port) {
  auto hp = parse_host_port("127.0.0.1:8081");
  CAF_REQUIRE(hp);
  CAF_CHECK_EQUAL(hp->first, "127.0.0.1");
  CAF_CHECK_EQUAL(hp->second, 8081u);
  // Port 0 asks for any free port.
  hp = parse_host_port("localhost:0");
  CAF_REQUIRE(hp);
  CAF_CHECK_EQUAL(hp->second, 0u);
  hp = parse_host_port("[::1]:9000");
  CAF_REQUIRE(hp);
  CAF_CHECK_EQUAL(hp->first, "::1");
  CAF_CHECK_EQUAL(hp->second, 9000u);
  for (auto bad : {"", "8081", ":8081", "h:", "h:x", "h:70000", "h:-5"})
    check_verdict(bad, parse_host_port(bad).has_value(), false);
}

CAF_TEST(loopback hosts) {
  for (auto h : {"127.0.0.1", "127.1.2.3", "localhost", "::1"})
    check_verdict(h, is_loopback_host(h), true);
  for (auto h :
       {"10.0.0.1", "example.com", "::2", "0.0.0.0", "", "localhost.com"})
    check_verdict(h, is_loopback_host(h), false);
}
