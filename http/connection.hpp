#pragma once

#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "http/client.hpp"
#include "http/wire.hpp"

namespace zaki {

/// One keep-alive connection of an `http_client`, in the shape of Beast's
/// async client example: resolve, connect, (handshake), write, read, each
/// step chained on the client's executor under one deadline. A connection
/// that was reused and fails before any response byte arrived is retried
/// once on a fresh connection: the server closed an idle keep-alive.
///
/// The socket is Asio's own, not Beast's `tcp_stream`: that one started and
/// cancelled a timer wait around every read and write (a tenth of the
/// router's instructions per message). Here one timer per connection
/// watches the deadline lazily: a request only moves `deadline_`, and the
/// timer, when it fires, either times the request out or waits again.
class http_connection : public std::enable_shared_from_this<http_connection> {
public:
  /// Creates an idle connection of `owner`, which owns it.
  explicit http_connection(http_client& owner);

  /// Returns whether the connection runs a job.
  bool busy() const {
    return busy_;
  }

  /// Starts a job; the connection must be idle.
  void start(http_client::job j);

  /// Closes the socket (pending operations complete with an error).
  void close();

private:
  using tcp = boost::asio::ip::tcp;
  using tls_stream = boost::asio::ssl::stream<tcp::socket>;
  using clock = std::chrono::steady_clock;

  tcp::socket& socket();
  void refuse_head();
  void connect();
  void on_resolve(boost::beast::error_code ec, tcp::resolver::results_type r);
  void on_connect(boost::beast::error_code ec, tcp::endpoint);
  void on_connect_address(boost::beast::error_code ec);
  void on_handshake(boost::beast::error_code ec);
  /// Gives the exchange `timeout` from now.
  void set_deadline(std::chrono::milliseconds timeout);
  /// Bytes arrived (or the request went out): a streamed exchange's idle
  /// deadline starts again, never past the exchange's own.
  void touch_idle();
  void arm_timer();
  void on_timer(uint64_t generation, boost::beast::error_code ec);
  void write();
  void on_write(boost::beast::error_code ec, size_t);
  void read();
  void parse_buffered();
  size_t next_read_size() const;
  void on_read_some(boost::beast::error_code ec, size_t n);
  void read_some();
  void on_read_pause(boost::beast::error_code ec);
  void on_read(boost::beast::error_code ec, size_t);
  void fail(boost::beast::error_code ec, const char* what);
  void finish(http_result res);
  void reset_stream();

  /// Wraps a member function as the completion handler of the next
  /// operation. The handler, not the connection, keeps the client alive
  /// while a request is in flight: if the io_context is destroyed with the
  /// operation still pending, dropping the handler frees both (a client
  /// reference in a member was a cycle that leaked them).
  template <class... Ts>
  auto handler(void (http_connection::*fn)(Ts...)) {
    return [self = shared_from_this(), client = owner_->shared_from_this(),
            fn](Ts... xs) {
      ((*self).*fn)(std::move(xs)...);
    };
  }

  // The client owns its connections and a connection points back with a
  // plain pointer, so dropping the last handle of a client frees it and its
  // pool. While busy, the pending operation's handler holds the client.
  http_client* owner_;
  tcp::resolver resolver_;
  std::optional<tcp::socket> plain_;
  /// Apart: an SSL stream is 416 bytes, and the gateways' plain
  /// connections (one per active user) need none.
  std::unique_ptr<tls_stream> tls_;
  boost::asio::steady_timer timer_;
  /// Waits out a streamed body's `read_pause` (created on first use: most
  /// connections never stream).
  std::unique_ptr<boost::asio::steady_timer> pause_timer_;
  /// When the running exchange times out (max while idle).
  clock::time_point deadline_ = clock::time_point::max();
  /// The deadline of the whole exchange; `deadline_` is earlier while a
  /// stream's idle deadline comes first.
  clock::time_point exchange_deadline_ = clock::time_point::max();
  /// When the pending timer wait fires; max when none is pending.
  clock::time_point timer_due_ = clock::time_point::max();
  /// Tells the current wait from a cancelled one whose handler still runs.
  uint64_t timer_generation_ = 0;
  bool timed_out_ = false;
  boost::beast::flat_buffer buffer_;
  /// The request as sent: its head and its body (kept for a retry).
  std::string head_;
  std::string body_;
  std::optional<response_reader> parser_;
  http_client::job job_;
  /// Bytes of the response being read, and of the previous one (the size
  /// of the next first read; about 1 KB before any).
  size_t response_bytes_ = 0;
  size_t last_response_bytes_ = 800;
  bool busy_ = false;
  bool connected_ = false;
  bool reused_ = false;
  bool retried_ = false;
  bool connecting_ = false;
};

} // namespace zaki
