#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "storage/database.hpp"

namespace zaki {

/// The thread that owns the database connection. Jobs queue up while a
/// batch runs and then run together in one transaction, so that a burst of
/// usage updates costs one commit (one WAL sync point), not one each. No
/// actor ever waits for it: a job's completion runs on this thread after the
/// commit and only sends a message.
class db_worker {
public:
  /// Runs after the batch's commit with the commit's error ("" when the
  /// batch's changes are durable as far as `synchronous=NORMAL` goes).
  using completion = std::function<void(const std::string& commit_error)>;

  /// Runs on the worker inside the batch's transaction; returns what to do
  /// once the batch committed (may be empty).
  using job = std::function<completion(database&)>;

  /// Starts the thread; it owns `db` from now on.
  explicit db_worker(std::unique_ptr<database> db, size_t max_batch = 512);

  /// Runs the queued jobs, then stops and joins the thread.
  ~db_worker();

  db_worker(const db_worker&) = delete;
  db_worker& operator=(const db_worker&) = delete;

  /// Queues `j` (thread-safe).
  void post(job j);

  /// Jobs queued and not yet started.
  size_t queue_depth() const noexcept {
    return depth_.load(std::memory_order_relaxed);
  }

  /// Jobs done, batches committed (or failed), and the summed time from
  /// queueing to commit, for the metrics.
  uint64_t jobs_done() const noexcept {
    return jobs_.load(std::memory_order_relaxed);
  }

  uint64_t batches() const noexcept {
    return batches_.load(std::memory_order_relaxed);
  }

  uint64_t latency_ns_sum() const noexcept {
    return latency_ns_.load(std::memory_order_relaxed);
  }

  uint64_t latency_ns_max() const noexcept {
    return latency_max_ns_.load(std::memory_order_relaxed);
  }

  /// The error of the last failed commit, "" since the last good one.
  std::string last_error() const;

private:
  struct entry {
    job fn;
    std::chrono::steady_clock::time_point queued;
  };

  void run();

  std::unique_ptr<database> db_;
  size_t max_batch_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<entry> queue_;
  bool stopping_ = false;
  std::string last_error_;
  std::atomic<size_t> depth_{0};
  std::atomic<uint64_t> jobs_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> latency_ns_{0};
  std::atomic<uint64_t> latency_max_ns_{0};
  std::thread thread_;
};

} // namespace zaki
