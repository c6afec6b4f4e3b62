#define CAF_SUITE containers.port_allocator

#include "containers/port_allocator.hpp"

#include "caf/test/unit_test.hpp"

#include <set>

using namespace zaki;

namespace {

/// Every port is free except those in `busy` (another process listens).
port_allocator::probe_fn free_except(std::set<uint16_t> busy) {
  return [busy](uint16_t port) {
    return busy.count(port) == 0;
  };
}

} // namespace

CAF_TEST(hands out the lowest free port and reserves it) {
  port_allocator ports{19001, 19010, free_except({})};
  CAF_CHECK_EQUAL(ports.allocate(), 19001u);
  CAF_CHECK_EQUAL(ports.allocate(), 19002u);
  CAF_CHECK(ports.reserved(19001));
  CAF_CHECK_EQUAL(ports.size(), 2u);
}

CAF_TEST(skips ports recorded for users and ports in use) {
  port_allocator ports{19001, 19010, free_except({19002})};
  ports.reserve(19001);
  ports.reserve(19003);
  ports.reserve(0); // no port recorded: ignored
  CAF_CHECK_EQUAL(ports.size(), 2u);
  CAF_CHECK_EQUAL(ports.allocate(), 19004u);
}

CAF_TEST(a released port is handed out again) {
  port_allocator ports{19001, 19002, free_except({})};
  CAF_CHECK_EQUAL(ports.allocate(), 19001u);
  CAF_CHECK_EQUAL(ports.allocate(), 19002u);
  CAF_CHECK_EQUAL(ports.allocate(), 0u); // exhausted
  ports.release(19001);
  CAF_CHECK_EQUAL(ports.allocate(), 19001u);
}

CAF_TEST(a range up to 65535 ends without wrapping around) {
  port_allocator ports{65534, 65535, free_except({65534})};
  CAF_CHECK_EQUAL(ports.allocate(), 65535u);
  CAF_CHECK_EQUAL(ports.allocate(), 0u);
}

CAF_TEST(a port in use is tried again by the next allocation) {
  std::set<uint16_t> busy{19002};
  port_allocator ports{19001, 19010, [&busy](uint16_t port) {
                         return busy.count(port) == 0;
                       }};
  ports.reserve(19001);
  CAF_CHECK_EQUAL(ports.allocate(), 19003u);
  // The other process let go of 19002: it is the lowest free port now.
  busy.clear();
  CAF_CHECK_EQUAL(ports.allocate(), 19002u);
  CAF_CHECK_EQUAL(ports.allocate(), 19004u);
  // Releasing a low port makes it the next one again.
  ports.release(19001);
  CAF_CHECK_EQUAL(ports.allocate(), 19001u);
  CAF_CHECK_EQUAL(ports.allocate(), 19005u);
}
