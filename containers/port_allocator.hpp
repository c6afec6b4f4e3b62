#pragma once

#include <cstdint>
#include <functional>
#include <set>

namespace zaki {

/// Hands out the host ports of the users' gateways from a range. Knows the
/// ports recorded for users (reserved even while their containers are
/// stopped) and skips ports some other process listens on, so a new user
/// never gets a port that is taken.
class port_allocator {
public:
  /// Tells whether a port can be bound now (tests pass their own).
  using probe_fn = std::function<bool(uint16_t)>;

  /// Allocates from [first, last]; `probe` defaults to `port_is_free`.
  port_allocator(uint16_t first, uint16_t last, probe_fn probe = nullptr);

  /// Marks `port` as recorded for a user (0 is ignored).
  void reserve(uint16_t port);

  /// Frees `port` (its user was removed).
  void release(uint16_t port);

  /// Returns whether `port` is recorded for a user.
  bool reserved(uint16_t port) const {
    return reserved_.count(port) != 0;
  }

  /// Returns the lowest free port of the range and reserves it, or 0 when
  /// none is left.
  uint16_t allocate();

  /// Returns the number of reserved ports.
  size_t size() const {
    return reserved_.size();
  }

  uint16_t first() const {
    return first_;
  }

  uint16_t last() const {
    return last_;
  }

private:
  uint16_t first_;
  uint16_t last_;
  probe_fn probe_;
  std::set<uint16_t> reserved_;
  /// No port of [first_, lowest_unreserved_) is free of a user's record.
  uint32_t lowest_unreserved_ = 0;
};

} // namespace zaki
