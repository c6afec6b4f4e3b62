#include "storage/db_worker.hpp"

#include <chrono>
#include <vector>

namespace zaki {

db_worker::db_worker(std::unique_ptr<database> db, size_t max_batch)
  : db_(std::move(db)), max_batch_(max_batch) {
  thread_ = std::thread{[this] {
    run();
  }};
}

db_worker::~db_worker() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void db_worker::post(job j) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    queue_.push_back({std::move(j), std::chrono::steady_clock::now()});
    depth_.store(queue_.size(), std::memory_order_relaxed);
  }
  cv_.notify_one();
}

std::string db_worker::last_error() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return last_error_;
}

void db_worker::run() {
  std::vector<entry> batch;
  std::vector<completion> done;
  for (;;) {
    {
      std::unique_lock<std::mutex> guard{mtx_};
      cv_.wait(guard, [this] {
        return stopping_ || !queue_.empty();
      });
      if (queue_.empty())
        return; // stopping, and everything queued ran
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      depth_.store(queue_.size(), std::memory_order_relaxed);
    }
    auto err = db_->exec("BEGIN IMMEDIATE");
    bool open = err.empty();
    for (auto& e : batch) {
      // Jobs report their own statement errors; the batch commits what
      // succeeded (each job keeps its writes consistent with a savepoint
      // where it needs one).
      if (auto k = e.fn(*db_))
        done.push_back(std::move(k));
    }
    if (open) {
      err = db_->exec("COMMIT");
      if (!err.empty())
        db_->exec("ROLLBACK");
    }
    {
      std::lock_guard<std::mutex> guard{mtx_};
      last_error_ = err;
    }
    for (auto& k : done)
      k(err);
    auto now = std::chrono::steady_clock::now();
    for (auto& e : batch) {
      auto ns = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - e.queued)
          .count());
      latency_ns_.fetch_add(ns, std::memory_order_relaxed);
      if (ns > latency_max_ns_.load(std::memory_order_relaxed))
        latency_max_ns_.store(ns, std::memory_order_relaxed);
    }
    jobs_.fetch_add(batch.size(), std::memory_order_relaxed);
    batches_.fetch_add(1, std::memory_order_relaxed);
    batch.clear();
    done.clear();
  }
}

} // namespace zaki
