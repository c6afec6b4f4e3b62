// The --probe mode of zaki-test-gateway: one GET with a deadline, for
// Docker's HEALTHCHECK, which has no curl in a one-file image.

#include "probe.hpp"

#include <chrono>
#include <cstdio>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace zaki::test_gateway {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

bool probe(const std::string& addr, uint16_t port, const std::string& path) {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  boost::system::error_code ec;
  auto address = net::ip::make_address(addr, ec);
  if (ec) {
    std::fprintf(stderr, "probe: bad address %s\n", addr.c_str());
    return false;
  }
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, addr);
  http::response<http::string_body> res;
  beast::flat_buffer buffer;
  // Asynchronous operations, so that the deadline covers each step.
  stream.expires_after(std::chrono::seconds(2));
  stream.async_connect({address, port}, [&](boost::system::error_code e) {
    if (e) {
      ec = e;
      return;
    }
    http::async_write(stream, req, [&](boost::system::error_code e, size_t) {
      if (e) {
        ec = e;
        return;
      }
      http::async_read(stream, buffer, res,
                       [&](boost::system::error_code e, size_t) { ec = e; });
    });
  });
  ioc.run();
  if (ec) {
    std::fprintf(stderr, "probe: %s\n", ec.message().c_str());
    return false;
  }
  std::printf("probe: %u %s\n", res.result_int(), res.body().c_str());
  return res.result() == http::status::ok;
}

} // namespace zaki::test_gateway
