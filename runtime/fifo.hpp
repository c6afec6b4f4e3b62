#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace zaki {

/// A first-in first-out queue on a vector with a read index, for the many
/// small queues kept per user or per chat. libstdc++'s `std::deque`
/// allocates a 512-byte block and its map even while empty: with 10,000
/// active users, one per gateway client and one per chat came to 11 MB.
/// This queue allocates nothing until the first push. Once it runs empty,
/// a queue that held a few elements at most gives its storage back (most of
/// these queues hold one element at a time, and 10,000 idle users kept
/// 15 MB of storage for their next message: one allocation per message is
/// the cheaper side), and a larger one keeps it for the next burst.
template <class T>
class fifo {
public:
  fifo() = default;

  fifo(fifo&& other) noexcept
    : items_(std::move(other.items_)), head_(std::exchange(other.head_, 0)) {
    other.items_.clear();
  }

  fifo& operator=(fifo&& other) noexcept {
    items_ = std::move(other.items_);
    head_ = std::exchange(other.head_, 0);
    other.items_.clear();
    return *this;
  }

  bool empty() const noexcept {
    return head_ == items_.size();
  }

  size_t size() const noexcept {
    return items_.size() - head_;
  }

  /// Elements the storage holds without growing.
  size_t capacity() const noexcept {
    return items_.capacity();
  }

  T& front() {
    return items_[head_];
  }

  void push_back(T x) {
    items_.push_back(std::move(x));
  }

  /// Puts `x` first (a retry goes ahead of what queued meanwhile).
  void push_front(T x) {
    if (head_ > 0) {
      items_[--head_] = std::move(x);
      return;
    }
    items_.insert(items_.begin(), std::move(x));
  }

  void pop_front() {
    items_[head_] = T{}; // releases what the element owns now
    if (++head_ == items_.size()) {
      if (items_.capacity() <= keep_capacity)
        std::vector<T>{}.swap(items_);
      clear();
      return;
    }
    // Keeps the consumed prefix from growing without bound under a queue
    // that never runs empty: moves the rest down once it is half the size.
    if (head_ >= 32 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + head_);
      head_ = 0;
    }
  }

  /// Drops every queued element for which `pred` holds, keeping the order.
  template <class Predicate>
  void remove_if(Predicate pred) {
    items_.erase(std::remove_if(begin(), end(), pred), items_.end());
    if (empty())
      clear();
  }

  void clear() noexcept {
    items_.clear();
    head_ = 0;
  }

  auto begin() {
    return items_.begin() + head_;
  }

  auto end() {
    return items_.end();
  }

private:
  /// Storage of at most this many elements is released when the queue runs
  /// empty.
  static constexpr size_t keep_capacity = 4;

  std::vector<T> items_;
  size_t head_ = 0;
};

} // namespace zaki
