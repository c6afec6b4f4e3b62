#include "runtime/log_batch.hpp"

#include <cerrno>

#include <unistd.h>

namespace zaki {

batch_sink::batch_sink(int fd, size_t max_bytes)
  : fd_(fd), max_bytes_(max_bytes) {
  // nop
}

batch_sink::~batch_sink() {
  std::lock_guard<std::mutex> guard{mutex_};
  write_out();
}

void batch_sink::sink_it_(const spdlog::details::log_msg& msg) {
  formatter_->format(msg, buf_);
  // Warnings and errors go out at once: they matter when the process is
  // about to die, and they are rare.
  if (msg.level >= spdlog::level::warn || buf_.size() >= max_bytes_)
    write_out();
}

void batch_sink::flush_() {
  write_out();
}

void batch_sink::write_out() {
  size_t done = 0;
  auto size = buf_.size();
  if (size == 0)
    return;
  writes_.fetch_add(1, std::memory_order_relaxed);
  while (done < size) {
    auto n = ::write(fd_, buf_.data() + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; // stderr closed or full disk: the lines are lost, not retried
    done += static_cast<size_t>(n);
  }
  buf_.clear();
}

} // namespace zaki
