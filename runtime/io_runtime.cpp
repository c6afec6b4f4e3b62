#include "runtime/io_runtime.hpp"

namespace zaki {

namespace {

/// Remembers how many threads an io_runtime runs its context with.
class thread_count_service : public boost::asio::execution_context::service {
public:
  static inline boost::asio::execution_context::id id;

  thread_count_service(boost::asio::execution_context& owner, size_t threads)
    : service(owner), threads(threads) {
    // nop
  }

  /// For use_service; runs_on_one_thread checks has_service first.
  explicit thread_count_service(boost::asio::execution_context& owner)
    : thread_count_service(owner, 0) {
    // nop
  }

  void shutdown() override {
    // nop
  }

  const size_t threads;
};

size_t at_least_one(size_t threads) {
  return threads == 0 ? 1 : threads;
}

} // namespace

// The concurrency hint 1 lets Asio's scheduler queue handlers posted from
// its own thread without taking its lock.
io_runtime::io_runtime(size_t threads, io_start when)
  : thread_count_(at_least_one(threads)),
    ioc_(static_cast<int>(at_least_one(threads))) {
  boost::asio::make_service<thread_count_service>(ioc_, thread_count_);
  if (when == io_start::now)
    start();
}

void io_runtime::start() {
  if (!threads_.empty())
    return;
  ioc_.restart();
  guard_.emplace(ioc_.get_executor());
  for (size_t i = 0; i < thread_count_; ++i)
    threads_.emplace_back([this] {
      ioc_.run();
    });
}

io_runtime::~io_runtime() {
  release_actors();
}

void io_runtime::stop() {
  if (hosts_actors_)
    return;
  guard_.reset();
  ioc_.stop();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
}

void io_runtime::host_actors() {
  hosts_actors_ = true;
}

void io_runtime::release_actors() {
  hosts_actors_ = false;
  stop();
}

bool runs_on_one_thread(boost::asio::io_context& ioc) {
  return boost::asio::has_service<thread_count_service>(ioc)
    && boost::asio::use_service<thread_count_service>(ioc).threads == 1;
}

} // namespace zaki
