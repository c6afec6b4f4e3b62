#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

namespace zaki {

/// The network side of the router: one io_context run by a few threads of
/// its own. Actors start operations here; completion handlers only send
/// messages back (ARCHITECTURE.md, "Threads and I/O").
class io_runtime {
public:
  /// Starts `threads` threads running the context.
  explicit io_runtime(size_t threads = 1);

  ~io_runtime();

  io_runtime(const io_runtime&) = delete;
  io_runtime& operator=(const io_runtime&) = delete;

  /// Returns the context for creating I/O objects.
  boost::asio::io_context& context() {
    return ioc_;
  }

  /// Lets pending handlers finish, stops the context and joins the threads.
  /// Must run before the actor system is destroyed.
  void stop();

private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
    guard_;
  std::vector<std::thread> threads_;
};

/// Returns a TLS client context that verifies peers against the system CA
/// store, plus `extra_ca_file` when not empty. Throws on an unreadable file.
std::shared_ptr<boost::asio::ssl::context>
make_tls_client_context(const std::string& extra_ca_file);

} // namespace zaki
