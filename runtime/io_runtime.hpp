#pragma once

#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace zaki {

/// When an io_runtime's threads start.
enum class io_start {
  /// In the constructor (the router's network side).
  now,
  /// With `start` (the emulators, which set up their servers first).
  deferred,
};

/// The network side of the router: one io_context run by a few threads of
/// its own. Actors start operations here; completion handlers only send
/// messages back (ARCHITECTURE.md, "Threads and I/O"). The emulators run
/// their servers on one as well. Depends on Boost alone, so the static
/// zaki-test-gateway links it.
class io_runtime {
public:
  /// Prepares `threads` threads (at least one) running the context, started
  /// now or by `start`.
  explicit io_runtime(size_t threads = 1, io_start when = io_start::now);

  ~io_runtime();

  io_runtime(const io_runtime&) = delete;
  io_runtime& operator=(const io_runtime&) = delete;

  /// Returns the context for creating I/O objects.
  boost::asio::io_context& context() {
    return ioc_;
  }

  /// Starts the threads, again after a `stop` too; does nothing while they
  /// run.
  void start();

  /// Lets pending handlers finish, stops the context and joins the threads.
  /// Must run before the actor system is destroyed. While the actors run on
  /// these threads (io_scheduler) it does nothing: they still have to
  /// finish, and the scheduler stops the threads once they have.
  void stop();

  /// Called by the io_scheduler: actors run on these threads from now on.
  void host_actors();

  /// Called by the io_scheduler once no actor is left: stops for real.
  void release_actors();

private:
  using work_guard
    = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  size_t thread_count_;
  boost::asio::io_context ioc_;
  std::optional<work_guard> guard_;
  std::vector<std::thread> threads_;
  bool hosts_actors_ = false;
};

/// Returns whether `ioc` belongs to an io_runtime of one thread. Its I/O
/// objects then need no strand: a strand behind Asio's type-erased executor
/// costs a heap object and atomic reference counts per operation.
bool runs_on_one_thread(boost::asio::io_context& ioc);

/// Returns a TLS client context that verifies peers against the system CA
/// store, plus `extra_ca_file` when not empty. Throws on an unreadable file.
/// Defined in runtime/tls_context.cpp (it needs OpenSSL).
std::shared_ptr<boost::asio::ssl::context>
make_tls_client_context(const std::string& extra_ca_file);

} // namespace zaki
