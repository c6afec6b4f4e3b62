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

// A small HTTP/1.1 server in the shape of Beast's async server example: the
// admin endpoint of the router, the loopback fakes and the test gateway.
// Handlers answer asynchronously through an `http_responder`, so a handler
// can hand a request to an actor (or hold it, like a long poll) without
// blocking a thread. This file depends on Boost only (no CAF, no spdlog): the
// statically linked zaki-test-gateway compiles it too.

namespace zaki {

/// The request type handed to handlers.
using http_request
  = boost::beast::http::request<boost::beast::http::string_body>;

/// The response type handlers produce.
using http_response
  = boost::beast::http::response<boost::beast::http::string_body>;

/// Returns a Beast string view (Boost's or the standard one, depending on
/// BOOST_BEAST_USE_STD_STRING_VIEW) as a standard one.
template <class StringView>
std::string_view to_sv(const StringView& s) {
  return std::string_view{s.data(), s.size()};
}

namespace detail {
class http_session;
} // namespace detail

/// Answers one request exactly once, from any thread. Dropping a responder
/// without answering leaves the connection open and silent (a hang) until
/// the client closes it, the connection deadline passes or the server stops.
class http_responder {
public:
  /// Creates a responder for request number `seq` of `owner`; used by the
  /// server.
  http_responder(std::shared_ptr<detail::http_session> owner, uint64_t seq,
                 unsigned version, bool keep_alive);

  ~http_responder();

  http_responder(const http_responder&) = delete;
  http_responder& operator=(const http_responder&) = delete;

  /// Sends `res`; HTTP version, keep-alive and Content-Length are filled in.
  /// Returns false when the request was already answered or cancelled.
  bool send(http_response res);

  /// Sends a response with `body` and `content_type`.
  bool send(boost::beast::http::status status, std::string body,
            std::string_view content_type = "application/json");

  /// Sends one part of a streamed answer, as raw bytes: the first part
  /// carries the status line and the header (the caller chooses the framing,
  /// e.g. chunked), `last` ends the answer and lets the connection read the
  /// next request. Returns false when the request was already answered or
  /// cancelled. (The fake gateway's Server-Sent Events.)
  bool send_part(std::string bytes, bool last);

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
  std::shared_ptr<detail::http_session> owner_;
  uint64_t seq_;
  unsigned version_;
  bool keep_alive_;
  std::atomic<bool> done_{false};
  std::atomic<bool> cancelled_{false};
  std::mutex mtx_;
  std::function<void()> on_cancel_; // guarded by mtx_
};

/// A request handler: called on the connection's strand; must not block.
using http_handler
  = std::function<void(http_request req, std::shared_ptr<http_responder> res)>;

/// Settings of an `http_server`.
struct http_server_options {
  /// Numeric address to bind (no name resolution, for static binaries).
  std::string address = "127.0.0.1";

  /// Port to bind; 0 picks a free one.
  uint16_t port = 0;

  /// Largest accepted request body; larger ones get 413.
  uint64_t body_limit = 20u * 1024 * 1024;

  /// Largest accepted request line plus headers; larger ones get 431.
  uint32_t header_limit = 64 * 1024;

  /// Deadline for receiving one whole request, and for an idle keep-alive
  /// connection: a client slower than this is disconnected.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(120)};

  /// Deadline for writing one response.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};

  /// Open connections at most (0: no limit); further ones are closed at
  /// once, so a flood of idle sockets cannot exhaust descriptors.
  size_t max_connections = 0;

  /// At `max_connections`, make room for a new connection by closing the
  /// one that has waited longest for its next request head (idle keep-alive
  /// or a head still trickling in) instead of refusing the newcomer. A
  /// connection whose request is being answered is never closed. The
  /// admin's probes rely on it: clients that hold sockets open without
  /// sending a request cannot lock a health check out.
  bool evict_idle_at_limit = false;

  /// The Server header of every response.
  std::string server_name = "zaki";
};

namespace detail {
struct http_server_core;
} // namespace detail

/// An HTTP/1.1 server with keep-alive: one session per connection, each on
/// its own strand, so several io threads can serve many connections.
class http_server {
public:
  /// Creates a server on `ioc`; nothing is bound until `start`.
  http_server(boost::asio::io_context& ioc, http_handler h,
              http_server_options opts = {});

  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

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

  /// Returns the number of connections refused because of
  /// `max_connections`.
  uint64_t refused() const;

  /// Returns the number of idle connections closed to make room
  /// (`evict_idle_at_limit`).
  uint64_t evicted() const;

private:
  std::shared_ptr<detail::http_server_core> core_;
};

// -- response helpers --------------------------------------------------------

/// Returns a response with the given status, body and content type.
http_response
make_http_response(boost::beast::http::status status, std::string body,
                   std::string_view content_type = "application/json");

/// Returns `{"error":"<message>"}` (escaped) with the given status.
http_response json_error(boost::beast::http::status status,
                         std::string_view message);

/// Returns a 404 JSON answer naming the unknown path.
http_response not_found(std::string_view target);

/// Returns a 405 JSON answer with an `Allow` header listing `allowed`
/// (e.g. "GET" or "POST").
http_response method_not_allowed(std::string_view allowed);

} // namespace zaki
