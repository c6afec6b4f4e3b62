#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include <spdlog/sinks/base_sink.h>

namespace zaki {

/// A sink that formats each line on the caller's thread into a buffer and
/// hands the buffer to the kernel from a writer thread of its own, with one
/// write(2) per batch: at once for a warning or an error, when the buffer
/// holds `max_bytes`, on a flush, and at least once a second. An info line
/// costs a format and an append under an uncontended mutex: no system call
/// and no wake-up of another thread (an asynchronous logger woke its thread
/// for every line, two futex calls each, and wrote each line with a system
/// call of its own before that). A writer blocked by a full pipe blocks no
/// actor: beyond `max_held` bytes waiting, new lines are dropped and
/// counted.
class batch_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  /// Writes to `fd`, which it closes at the end if `owns_fd`.
  explicit batch_sink(int fd, size_t max_bytes = 64 * 1024,
                      bool owns_fd = false, size_t max_held = 8 << 20);

  /// Stops the writer thread once it wrote everything buffered.
  ~batch_sink() override;

  batch_sink(const batch_sink&) = delete;
  batch_sink& operator=(const batch_sink&) = delete;

  /// Returns the number of write(2) batches so far.
  uint64_t writes() const {
    return writes_.load(std::memory_order_relaxed);
  }

  /// Waits until every line buffered so far is written (shutdown).
  void drain();

  /// Returns the number of lines dropped because the writer was stuck.
  uint64_t dropped() const {
    return dropped_.load(std::memory_order_relaxed);
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;

  /// Wakes the writer (spdlog's flush_every and flush_on call it).
  void flush_() override;

private:
  void run();
  void write_all(const spdlog::memory_buf_t& buf);

  int fd_;
  size_t max_bytes_;
  bool owns_fd_;
  size_t max_held_;
  /// Lines waiting for the writer (guarded by base_sink's `mutex_`).
  spdlog::memory_buf_t front_;
  bool wake_ = false;
  bool stop_ = false;
  /// Whether the writer has a batch out of `front_` that it is writing.
  bool writing_ = false;
  std::condition_variable cv_;
  std::condition_variable idle_;
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> dropped_{0};
  std::thread writer_;
};

} // namespace zaki
