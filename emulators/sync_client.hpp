#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

// A blocking HTTP/1.1 keep-alive client for tests (test threads may block;
// actors never do). Each call runs Beast's async operations on a private
// io_context with a deadline, so a silent server fails the test instead of
// hanging it.

namespace zaki::fakes {

/// A keep-alive connection to 127.0.0.1:`port` with a deadline per call.
class sync_client {
public:
  /// The response type.
  using response_type
    = boost::beast::http::response<boost::beast::http::string_body>;

  /// The request type.
  using request_type
    = boost::beast::http::request<boost::beast::http::string_body>;

  /// Connects to 127.0.0.1:`port`; `connected()` tells whether it worked.
  explicit sync_client(uint16_t port,
                       std::chrono::milliseconds timeout
                       = std::chrono::seconds(5))
    : stream_(ioc_), port_(port), timeout_(timeout) {
    connect();
  }

  /// Returns whether the connection is open.
  bool connected() const {
    return stream_.socket().is_open();
  }

  /// Returns the error of the last failed call.
  const boost::system::error_code& error() const {
    return ec_;
  }

  /// Sends `req` without waiting for the answer.
  bool send(request_type req) {
    namespace http = boost::beast::http;
    req.set(http::field::host, "127.0.0.1");
    req.prepare_payload();
    req_ = std::move(req);
    ec_ = {};
    stream_.expires_after(timeout_);
    http::async_write(stream_, req_,
                      [this](boost::system::error_code ec, size_t) {
                        ec_ = ec;
                      });
    return run();
  }

  /// Reads one response within `timeout` (default: the client's).
  std::optional<response_type>
  receive(std::optional<std::chrono::milliseconds> timeout = {}) {
    namespace http = boost::beast::http;
    response_type res;
    ec_ = {};
    stream_.expires_after(timeout.value_or(timeout_));
    http::async_read(stream_, buffer_, res,
                     [this](boost::system::error_code ec, size_t) {
                       ec_ = ec;
                     });
    if (!run())
      return std::nullopt;
    return res;
  }

  /// Sends `req` and reads the answer.
  std::optional<response_type>
  call(request_type req,
       std::optional<std::chrono::milliseconds> timeout = {}) {
    if (!send(std::move(req)))
      return std::nullopt;
    return receive(timeout);
  }

  /// Sends `method target` with `body` and optional bearer `token`.
  std::optional<response_type>
  call(boost::beast::http::verb method, std::string_view target,
       std::string body = {}, std::string_view bearer = {},
       std::string_view content_type = "application/json",
       std::optional<std::chrono::milliseconds> timeout = {}) {
    namespace http = boost::beast::http;
    request_type req{method, std::string{target}, 11};
    if (!bearer.empty())
      req.set(http::field::authorization, "Bearer " + std::string{bearer});
    if (!body.empty())
      req.set(http::field::content_type, std::string{content_type});
    req.body() = std::move(body);
    return call(std::move(req), timeout);
  }

  /// Closes the connection (the server sees a disconnect).
  void close() {
    boost::system::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both,
                              ignored);
    stream_.socket().close(ignored);
  }

private:
  void connect() {
    ec_ = {};
    stream_.expires_after(timeout_);
    boost::asio::ip::tcp::endpoint ep{
      boost::asio::ip::make_address("127.0.0.1"), port_};
    stream_.async_connect(ep, [this](boost::system::error_code ec) {
      ec_ = ec;
    });
    if (!run())
      close();
  }

  bool run() {
    ioc_.restart();
    ioc_.run();
    return !ec_;
  }

  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  request_type req_;
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  boost::system::error_code ec_;
};

} // namespace zaki::fakes
