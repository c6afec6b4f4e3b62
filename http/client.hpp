#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/verb.hpp>

#include "http/url.hpp"
#include "messages/types.hpp"
#include "runtime/fifo.hpp"

namespace zaki {

/// One HTTP request as an actor builds it.
struct http_request_spec {
  boost::beast::http::verb method = boost::beast::http::verb::post;
  /// Path and query, appended to the origin's base path.
  std::string target;
  std::string body;
  /// A literal (static storage): no allocation per request.
  std::string_view content_type = "application/json";
  /// Value of the Authorization header (a secret), or empty.
  std::string authorization;
  /// Deadline of the whole exchange, connection set-up included.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  /// Receives the body of a 2xx response piece by piece as it arrives (a
  /// streamed answer), instead of `http_result::body`, which then stays
  /// empty. Runs on the I/O thread, so it may only parse and send messages;
  /// returning false aborts the exchange (reported as cancelled). The
  /// `max_body` limit does not apply to what it receives: the receiver
  /// bounds its own buffers, and `timeout` bounds the whole answer.
  std::function<bool(std::string_view)> on_body;
  /// With `on_body`: asked before each read of the body how long the
  /// receiver can wait for its next bytes (0: read at once). A receiver
  /// that shows the text at its own cadence (the edit loop) lets the
  /// events of a stream gather in the socket, one wake-up and one system
  /// call for several of them instead of one each.
  std::function<std::chrono::milliseconds()> read_pause;
  /// The exchange times out when no byte arrived for this long after the
  /// request was sent (a stalled stream); 0: only `timeout` applies.
  std::chrono::milliseconds idle_timeout{0};
};

/// Tunables of one client.
struct http_client_options {
  /// Keep-alive connections at most; requests beyond wait in a queue.
  size_t max_connections = 1;
  /// Largest response body accepted.
  uint64_t max_body = 8 << 20;
  /// TLS context for https origins (required for them).
  std::shared_ptr<boost::asio::ssl::context> tls;
};

class http_connection;

/// An asynchronous HTTP/1.1 client for one origin with a small pool of
/// keep-alive connections (one for a user's gateway, a few for the Bot API).
/// All state lives on one executor (a strand unless one thread runs the
/// context); `async_request` and `shutdown` may be
/// called from any thread. Callbacks run on an I/O thread and must only
/// send a message (they never touch actor state).
class http_client : public std::enable_shared_from_this<http_client> {
public:
  using callback = std::function<void(http_result)>;

  /// Creates a client; `opts.tls` must be set for an https origin.
  static std::shared_ptr<http_client>
  make(boost::asio::io_context& ioc, origin where, http_client_options opts);

  ~http_client();

  /// Queues a request; `cb` receives the result exactly once.
  void async_request(http_request_spec req, callback cb);

  /// Closes every connection and fails queued requests as cancelled.
  void shutdown();

  /// Returns the origin this client talks to.
  const origin& where() const {
    return origin_;
  }

  // -- used by connections ----------------------------------------------------

  struct job {
    http_request_spec req;
    callback cb;
    std::chrono::steady_clock::time_point submitted;
  };

  /// Called on the executor when a connection finished its job.
  void on_idle(http_connection* conn);

  http_client(boost::asio::io_context& ioc, origin where,
              http_client_options opts);

private:
  void dispatch();

  boost::asio::io_context& ioc_;
  /// Runs all of the client's handlers: a strand, or the context itself
  /// when one thread runs it (runs_on_one_thread).
  boost::asio::any_io_executor exec_;
  origin origin_;
  http_client_options opts_;
  fifo<job> queue_;
  std::vector<std::shared_ptr<http_connection>> connections_;
  bool closed_ = false;

  friend class http_connection;
};

} // namespace zaki
