#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include <spdlog/sinks/base_sink.h>

namespace zaki {

/// A sink that collects formatted lines in a buffer and hands them to the
/// kernel with one write(2) per batch: when a warning or an error arrives,
/// when the buffer holds `max_bytes`, and on every flush (spdlog's
/// `flush_every`, once a second). Writing each info line with a system call
/// of its own cost about a third of the router's CPU per message. Lines are
/// only ever written by the logging thread; the mutex is uncontended.
class batch_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  /// Writes to `fd`, which stays open (stderr) and is not closed.
  explicit batch_sink(int fd, size_t max_bytes = 64 * 1024);

  ~batch_sink() override;

  /// Returns the number of write(2) calls so far.
  uint64_t writes() const {
    return writes_.load(std::memory_order_relaxed);
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;

  void flush_() override;

private:
  void write_out();

  int fd_;
  size_t max_bytes_;
  spdlog::memory_buf_t buf_;
  std::atomic<uint64_t> writes_{0};
};

} // namespace zaki
