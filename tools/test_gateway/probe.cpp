// The --probe mode of zaki-test-gateway: one GET with a deadline, for
// Docker's HEALTHCHECK, which has no curl in a one-file image.

#include "probe.hpp"

#include <chrono>
#include <cstdio>

#include "http/sync_get.hpp"

namespace zaki::test_gateway {

bool probe(const std::string& addr, uint16_t port, const std::string& path) {
  auto res = sync_get(addr, port, path, std::chrono::seconds(2));
  if (res.error.rfind("bad address", 0) == 0) {
    std::fprintf(stderr, "probe: bad address %s\n", addr.c_str());
    return false;
  }
  if (!res.error.empty()) {
    std::fprintf(stderr, "probe: %s\n", res.error.c_str());
    return false;
  }
  std::printf("probe: %d %s\n", res.status, res.body.c_str());
  return res.status == 200;
}

} // namespace zaki::test_gateway
