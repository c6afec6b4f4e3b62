#pragma once

#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "runtime/http_client.hpp"
#include "runtime/http_wire.hpp"

namespace zaki {

/// One keep-alive connection of an `http_client`, in the shape of Beast's
/// async client example: resolve, connect, (handshake), write, read, each
/// step chained on the client's executor under one deadline. A connection
/// that was reused and fails before any response byte arrived is retried
/// once on a fresh connection: the server closed an idle keep-alive.
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
  using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  boost::beast::tcp_stream& lowest_layer();
  void refuse_head();
  void connect();
  void on_resolve(boost::beast::error_code ec, tcp::resolver::results_type r);
  void on_connect(boost::beast::error_code ec, tcp::endpoint);
  void on_connect_address(boost::beast::error_code ec);
  void on_handshake(boost::beast::error_code ec);
  void write();
  void on_write(boost::beast::error_code ec, size_t);
  void read();
  void parse_buffered();
  size_t next_read_size() const;
  void on_read_some(boost::beast::error_code ec, size_t n);
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
            fn](Ts... xs) { ((*self).*fn)(std::move(xs)...); };
  }

  // The client owns its connections and a connection points back with a
  // plain pointer, so dropping the last handle of a client frees it and its
  // pool. While busy, the pending operation's handler holds the client.
  http_client* owner_;
  tcp::resolver resolver_;
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<tls_stream> tls_;
  boost::beast::flat_buffer buffer_;
  /// The request as sent: its head and its body (kept for a retry).
  std::string head_;
  std::string body_;
  std::optional<response_reader> parser_;
  http_client::job job_;
  bool busy_ = false;
  bool connected_ = false;
  bool reused_ = false;
  bool retried_ = false;
  bool connecting_ = false;
};

} // namespace zaki
