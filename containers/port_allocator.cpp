#include "containers/port_allocator.hpp"

#include "containers/ports.hpp"

#include <algorithm>

namespace zaki {

port_allocator::port_allocator(uint16_t first, uint16_t last, probe_fn probe)
  : first_(first), last_(last), probe_(std::move(probe)) {
  if (!probe_)
    probe_ = port_is_free;
}

void port_allocator::reserve(uint16_t port) {
  if (port != 0)
    reserved_.insert(port);
}

void port_allocator::release(uint16_t port) {
  if (reserved_.erase(port) != 0 && port < lowest_unreserved_)
    lowest_unreserved_ = port;
}

uint16_t port_allocator::allocate() {
  // Every port below lowest_unreserved_ is recorded for a user, so the scan
  // starts there and walks the reserved set alongside (no lookup per port):
  // with 40,000 users, a new user no longer costs a pass over all of them.
  uint32_t p = std::max<uint32_t>(first_, lowest_unreserved_);
  auto next_reserved = reserved_.lower_bound(static_cast<uint16_t>(p));
  bool all_reserved_so_far = true;
  for (; p <= last_ && p != 0; ++p) {
    auto port = static_cast<uint16_t>(p);
    if (next_reserved != reserved_.end() && *next_reserved == port) {
      ++next_reserved;
      continue;
    }
    if (all_reserved_so_far) {
      lowest_unreserved_ = port;
      all_reserved_so_far = false;
    }
    if (probe_(port)) {
      reserved_.insert(port);
      return port;
    }
  }
  return 0;
}

} // namespace zaki
