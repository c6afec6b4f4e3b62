#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

// A small HTTP/1.1 server in the shape of Beast's async server example, for
// the loopback fakes and the test gateway. Handlers answer asynchronously
// through a `responder`, so a fake can hold a request (long poll, slow or
// hanging gateway) without blocking a thread.

namespace zaki::fakes {

namespace net = boost::asio;
namespace http = boost::beast::http;

/// The request type handed to handlers.
using request = http::request<http::string_body>;

/// The response type handlers produce.
using response = http::response<http::string_body>;

/// Returns a Beast string view (Boost's or the standard one, depending on
/// BOOST_BEAST_USE_STD_STRING_VIEW) as a standard one.
template <class StringView>
std::string_view to_sv(const StringView& s) {
  return std::string_view{s.data(), s.size()};
}

namespace detail {
class session;
} // namespace detail

/// Answers one request exactly once, from any thread. Dropping a responder
/// without answering leaves the connection open and silent (a hang) until
/// the client closes it or the server stops.
class responder {
public:
  /// Creates a responder for request number `seq` of `owner`; used by the
  /// server.
  responder(std::shared_ptr<detail::session> owner, uint64_t seq,
            unsigned version, bool keep_alive);

  ~responder();

  responder(const responder&) = delete;
  responder& operator=(const responder&) = delete;

  /// Sends `res`; HTTP version, keep-alive and Content-Length are filled in.
  /// Returns false when the request was already answered or cancelled.
  bool send(response res);

  /// Sends a response with `body` and `content_type`.
  bool send(http::status status, std::string body,
            std::string_view content_type = "application/json");

  /// Closes the connection without an answer, like a crashing peer.
  void abort();

  /// Registers `f` to run once if the client disconnects (or the server
  /// stops) before an answer was sent. Runs at once if that already happened.
  void on_cancel(std::function<void()> f);

  /// Returns whether the request is finished: answered, aborted or
  /// cancelled.
  bool answered() const {
    return done_.load();
  }

  /// Returns whether the client went away before the answer.
  bool cancelled() const {
    return cancelled_.load();
  }

  /// Marks the responder cancelled and runs the cancel hook; used by the
  /// server's session.
  void cancel();

private:
  std::shared_ptr<detail::session> owner_;
  uint64_t seq_;
  unsigned version_;
  bool keep_alive_;
  std::atomic<bool> done_{false};
  std::atomic<bool> cancelled_{false};
  std::mutex mtx_;
  std::function<void()> on_cancel_; // guarded by mtx_
};

/// A request handler: called on the connection's strand; must not block.
using handler
  = std::function<void(request req, std::shared_ptr<responder> res)>;

/// Settings of a `mini_http_server`.
struct server_options {
  /// Numeric address to bind (no name resolution, for static binaries).
  std::string address = "127.0.0.1";

  /// Port to bind; 0 picks a free one.
  uint16_t port = 0;

  /// Largest accepted request body; larger ones get 413.
  uint64_t body_limit = 20u * 1024 * 1024;

  /// How long an idle keep-alive connection (or a slow request) may take.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(120)};

  /// Deadline for writing one response.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
};

namespace detail {
struct server_core;
} // namespace detail

/// An HTTP/1.1 server with keep-alive: one session per connection, each on
/// its own strand, so several io threads can serve many connections.
class mini_http_server {
public:
  /// Creates a server on `ioc`; nothing is bound until `start`.
  mini_http_server(net::io_context& ioc, handler h, server_options opts = {});

  ~mini_http_server();

  mini_http_server(const mini_http_server&) = delete;
  mini_http_server& operator=(const mini_http_server&) = delete;

  /// Binds, starts accepting and returns the bound port. Throws
  /// `boost::system::system_error` when the address cannot be bound.
  uint16_t start();

  /// Stops accepting and closes every connection; pending requests see
  /// their cancel hooks run. Safe to call twice.
  void stop();

  /// Returns the bound port, or 0 before `start`.
  uint16_t port() const;

  /// Returns the number of open connections.
  size_t connections() const;

private:
  std::shared_ptr<detail::server_core> core_;
};

/// An io_context together with the threads that run it.
class io_runner {
public:
  /// Prepares `threads` threads (at least one); they start with `start`.
  explicit io_runner(size_t threads = 1);

  ~io_runner();

  io_runner(const io_runner&) = delete;
  io_runner& operator=(const io_runner&) = delete;

  /// Returns the io_context the threads run.
  net::io_context& context() {
    return ioc_;
  }

  /// Starts the threads; does nothing if they run already.
  void start();

  /// Stops the io_context and joins the threads. Safe to call twice.
  void stop();

private:
  size_t threads_;
  net::io_context ioc_;
  std::unique_ptr<net::executor_work_guard<net::io_context::executor_type>>
    guard_;
  std::vector<std::thread> pool_;
};

/// Returns a response with the given status, body and content type.
response make_response(http::status status, std::string body,
                       std::string_view content_type = "application/json");

} // namespace zaki::fakes
