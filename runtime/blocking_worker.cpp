#include "runtime/blocking_worker.hpp"

namespace zaki {

blocking_worker::blocking_worker() : thread_([this] { run(); }) {
  // nop
}

blocking_worker::~blocking_worker() {
  stop();
}

void blocking_worker::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!stopping_) {
      tasks_.push_back(std::move(task));
      cv_.notify_one();
      return;
    }
  }
  task(); // Stopped: nobody would run it.
}

void blocking_worker::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable())
    thread_.join();
}

void blocking_worker::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty() && stopping_)
      return;
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

} // namespace zaki
