#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>

namespace zaki {

/// Bounds how many containers start at once (`containers.max-provisioning`):
/// a burst of new users would otherwise start hundreds of containers
/// together and time all of them out. Starts beyond the bound wait in
/// arrival order.
class provisioning_queue {
public:
  /// What `admit` decided.
  enum class admission : uint8_t {
    /// A slot was free and is now taken: launch.
    launch,
    /// All slots are taken: the user waits in the queue.
    queued,
  };

  explicit provisioning_queue(size_t max_in_flight)
    : max_in_flight_(max_in_flight) {
    // nop
  }

  /// Takes a slot for `user`, or queues them.
  admission admit(int64_t user);

  /// Frees the slot of a launch that ended (success or failure).
  void finished();

  /// Returns the next queued user whose start is still wanted and takes a
  /// slot for them, or nothing when no slot is free or nobody waits.
  /// Users for whom `wanted` is false (stopped or removed meanwhile) leave
  /// the queue.
  std::optional<int64_t> next(const std::function<bool(int64_t)>& wanted);

  size_t in_flight() const {
    return in_flight_;
  }

  size_t queued() const {
    return queue_.size();
  }

private:
  size_t max_in_flight_;
  size_t in_flight_ = 0;
  std::deque<int64_t> queue_;
};

} // namespace zaki
