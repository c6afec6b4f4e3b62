#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/verb.hpp>

#include "messages/types.hpp"

namespace zaki {

/// A small asynchronous client of the Docker Engine API over its unix
/// socket: Beast's HTTP code on a `basic_stream<local::stream_protocol>`.
/// Every request uses a fresh connection (cheap on a local socket), so no
/// state is shared between requests. Callbacks run on an I/O thread and
/// must only send a message.
class docker_client : public std::enable_shared_from_this<docker_client> {
public:
  using callback = std::function<void(http_result)>;
  /// Receives each line of a stream; an empty string once it ended.
  using line_callback = std::function<void(std::string)>;

  /// Creates a client for the socket at `socket_path`.
  static std::shared_ptr<docker_client> make(boost::asio::io_context& ioc,
                                             std::string socket_path);

  docker_client(boost::asio::io_context& ioc, std::string socket_path);

  /// Sends one request (JSON body if not empty); `cb` gets the result once.
  void request(boost::beast::http::verb method, std::string target,
               std::string body, std::chrono::milliseconds timeout,
               callback cb);

  /// Follows a streaming endpoint such as /events; `on_line` gets every
  /// line as it arrives and "" when the stream ends (then call again).
  void follow(std::string target, line_callback on_line);

  /// Closes a followed stream (on the I/O thread).
  void shutdown();

  /// Returns the socket path.
  const std::string& socket_path() const {
    return socket_path_;
  }

  /// Largest response body accepted.
  static constexpr uint64_t body_limit = 8 << 20;

private:
  boost::asio::io_context& ioc_;
  std::string socket_path_;
  std::shared_ptr<void> stream_; // the followed stream's session
};

/// Percent-encodes `s` for a query parameter value.
std::string url_encode(const std::string& s);

} // namespace zaki
