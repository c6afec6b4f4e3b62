// Figures of the supervisor tree at scale, moved out of the test suites
// (no timing or resource figure is asserted by a test; the suites check
// the behaviour, this bench prints the numbers):
// - GET /admin/tree and GET /metrics with 1,000 live user actors (median,
//   p95 and max of 20 walks);
// - the router's memory per supervised container: 30 process-backend
//   gateways provisioned, probed for a few rounds, RSS before and after.
// Usage: zaki-scale-bench [--users=N] [--containers=N]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tests/fixtures/admin_fixture.hpp"
#include "tests/fixtures/container_world.hpp"

using namespace zaki;
using namespace std::chrono;

namespace {

using fms = duration<double, std::milli>;

/// Returns VmRSS of this process in KiB.
long rss_kib() {
  std::ifstream in{"/proc/self/status"};
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(4096, '\n');
  }
  return 0;
}

/// Walks the tree 20 times with `users` live user actors; false on failure.
bool admin_tree(size_t users) {
  test::admin_fixture f{users};
  // Replies must not queue behind Telegram's pacing in this measurement.
  f.cfg.values.telegram.global_rate = 1e6;
  f.cfg.values.telegram.global_burst = 1000000;
  f.start();
  if (!f.chat(users)) {
    std::fprintf(stderr, "admin tree: the users were not all answered\n");
    return false;
  }
  std::vector<double> ms;
  size_t bytes = 0;
  for (int i = 0; i < 20; ++i) {
    auto started = steady_clock::now();
    auto tree = f.get("/admin/tree");
    ms.push_back(fms(steady_clock::now() - started).count());
    if (tree.status != 200) {
      std::fprintf(stderr, "admin tree: HTTP %d\n", tree.status);
      return false;
    }
    bytes = tree.body.size();
  }
  std::sort(ms.begin(), ms.end());
  auto started = steady_clock::now();
  auto metrics = f.get("/metrics");
  auto scrape_ms = fms(steady_clock::now() - started).count();
  std::printf("GET /admin/tree, %zu live user actors: median %.1f ms, p95 "
              "%.1f ms, max %.1f ms (%zu bytes)\n",
              users, ms[ms.size() / 2], ms[ms.size() * 95 / 100], ms.back(),
              bytes);
  std::printf("GET /metrics with the same tree: %.1f ms (HTTP %d)\n", scrape_ms,
              metrics.status);
  return metrics.status == 200;
}

/// Provisions `n` process-backend gateways after a first one; prints the
/// RSS growth per supervised container.
bool memory_per_container(int n) {
  test::container_world w{[](settings& s) {
    s.containers.max_provisioning = 4;
    s.health.period = 500ms;
  }};
  w.start();
  // Warm up: the first container allocates the shared machinery.
  if (!w.ensure(10000)) {
    std::fprintf(stderr, "containers: the first gateway did not start\n");
    return false;
  }
  auto before = rss_kib();
  auto t0 = steady_clock::now();
  for (int i = 1; i <= n; ++i)
    if (!w.ensure(10000 + i)) {
      std::fprintf(stderr, "containers: gateway %d did not start\n", i);
      return false;
    }
  auto took = fms(steady_clock::now() - t0).count();
  // A few probe rounds, so that every probe connection exists.
  std::this_thread::sleep_for(1500ms);
  auto after = rss_kib();
  std::printf("%d more containers: provisioned in %.0f ms; router RSS %ld -> "
              "%ld KiB, about %ld KiB per supervised container\n",
              n, took, before, after, (after - before) / n);
  return true;
}

} // namespace

int main(int argc, char** argv) {
  size_t users = 1000;
  int containers = 30;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--users=", 0) == 0)
      users = std::strtoul(arg.c_str() + 8, nullptr, 10);
    else if (arg.rfind("--containers=", 0) == 0)
      containers = std::atoi(arg.c_str() + 13);
    else {
      std::fprintf(stderr,
                   "usage: zaki-scale-bench [--users=N] "
                   "[--containers=N]\n");
      return 2;
    }
  }
  bool ok = admin_tree(users);
  ok = memory_per_container(containers) && ok;
  return ok ? 0 : 1;
}
