#include "containers/port_allocator.hpp"

#include "containers/ports.hpp"

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
  reserved_.erase(port);
}

uint16_t port_allocator::allocate() {
  for (uint32_t p = first_; p <= last_ && p != 0; ++p) {
    auto port = static_cast<uint16_t>(p);
    if (reserved_.count(port) == 0 && probe_(port)) {
      reserved_.insert(port);
      return port;
    }
  }
  return 0;
}

} // namespace zaki
