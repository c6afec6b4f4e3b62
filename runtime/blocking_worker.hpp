#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace zaki {

/// Runs blocking work (fdatasync, file creation and renames) on a thread of
/// its own, so that it never blocks an actor or the I/O thread. Tasks run
/// in the order they were posted; `stop` runs the queued ones first, and a
/// task posted after `stop` runs at once on the caller's thread.
class blocking_worker {
public:
  blocking_worker();
  ~blocking_worker();

  blocking_worker(const blocking_worker&) = delete;
  blocking_worker& operator=(const blocking_worker&) = delete;

  /// Queues a task.
  void post(std::function<void()> task);

  /// Runs the queued tasks and joins the thread.
  void stop();

private:
  void run();

  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace zaki
