#include "runtime/log_batch.hpp"

#include <cerrno>
#include <chrono>

#include <unistd.h>

namespace zaki {

batch_sink::batch_sink(int fd, size_t max_bytes, bool owns_fd, size_t max_held)
  : fd_(fd), max_bytes_(max_bytes), owns_fd_(owns_fd), max_held_(max_held) {
  writer_ = std::thread{[this] {
    run();
  }};
}

batch_sink::~batch_sink() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stop_ = true;
  }
  cv_.notify_one();
  writer_.join();
  if (owns_fd_)
    ::close(fd_);
}

void batch_sink::sink_it_(const spdlog::details::log_msg& msg) {
  if (front_.size() >= max_held_) {
    // The writer is stuck (a pipe nobody reads): lose lines, not time.
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  formatter_->format(msg, front_);
  // Warnings and errors go out at once: they matter when the process is
  // about to die, and they are rare.
  if (msg.level >= spdlog::level::warn || front_.size() >= max_bytes_) {
    wake_ = true;
    cv_.notify_one();
  }
}

void batch_sink::flush_() {
  wake_ = true;
  cv_.notify_one();
}

void batch_sink::drain() {
  std::unique_lock<std::mutex> lock{mutex_};
  wake_ = true;
  cv_.notify_one();
  // Bounded: a writer stuck on a pipe nobody reads must not hang the exit.
  idle_.wait_for(lock, std::chrono::seconds(2), [this] {
    return (front_.size() == 0 && !writing_) || stop_;
  });
}

void batch_sink::run() {
  spdlog::memory_buf_t back;
  std::unique_lock<std::mutex> lock{mutex_};
  for (;;) {
    cv_.wait_for(lock, std::chrono::seconds(1), [this] {
      return wake_ || stop_;
    });
    wake_ = false;
    bool last = stop_;
    if (front_.size() > 0) {
      std::swap(front_, back);
      writing_ = true;
      lock.unlock();
      write_all(back);
      back.clear();
      lock.lock();
      writing_ = false;
    }
    idle_.notify_all();
    if (last && front_.size() == 0)
      return;
  }
}

void batch_sink::write_all(const spdlog::memory_buf_t& buf) {
  writes_.fetch_add(1, std::memory_order_relaxed);
  size_t done = 0;
  auto size = buf.size();
  while (done < size) {
    auto n = ::write(fd_, buf.data() + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return; // stderr closed or a full disk: the lines are lost
    done += static_cast<size_t>(n);
  }
}

} // namespace zaki
