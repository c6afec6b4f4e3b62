#define CAF_SUITE admin.scale

#include "caf/test/unit_test.hpp"

#include <algorithm>

#include "tests/fixtures/admin_fixture.hpp"
#include "tests/fixtures/prometheus_check.hpp"

using namespace zaki;
using namespace std::chrono;

// GET /admin/tree with 1,000 live user actors: every user writes once, so
// the supervisor runs 1,000 user actors (idle, waiting for their next
// message), and the tree walk asks each of them. It must answer, listing
// them all; how long it takes is printed, not asserted (no timing checks in
// tests: benches/README.md).

CAF_TEST(admin tree latency with 1000 live user actors) {
  constexpr size_t users = 1000;
  test::admin_fixture f{users};
  // Replies must not queue behind Telegram's pacing in this measurement.
  f.cfg.values.telegram.global_rate = 1e6;
  f.cfg.values.telegram.global_burst = 1000000;
  f.start();
  CAF_REQUIRE(f.chat(users));
  auto metrics = test::parse_prometheus(f.get("/metrics").body);
  CAF_REQUIRE_EQUAL(metrics.error, "");
  CAF_REQUIRE_EQUAL(metrics.value("zaki_active_user_actors"), users);
  std::vector<double> ms;
  size_t bytes = 0;
  for (int i = 0; i < 20; ++i) {
    auto started = steady_clock::now();
    auto tree = f.get("/admin/tree");
    using fms = duration<double, std::milli>;
    ms.push_back(fms(steady_clock::now() - started).count());
    CAF_REQUIRE_EQUAL(tree.status, 200);
    bytes = tree.body.size();
  }
  std::sort(ms.begin(), ms.end());
  CAF_MESSAGE("GET /admin/tree with " << users << " live user actors: median "
                                      << ms[ms.size() / 2] << " ms, p95 "
                                      << ms[ms.size() * 95 / 100]
                                      << " ms, max " << ms.back() << " ms, "
                                      << bytes << " bytes");
  auto started = steady_clock::now();
  CAF_CHECK_EQUAL(f.get("/metrics").status, 200);
  using fms = duration<double, std::milli>;
  auto scrape_ms = fms(steady_clock::now() - started).count();
  CAF_MESSAGE("GET /metrics with the same tree: " << scrape_ms << " ms");
  auto tree = f.get("/admin/tree").body;
  size_t listed = 0;
  for (auto pos = tree.find("\"name\":\"user:"); pos != std::string::npos;
       pos = tree.find("\"name\":\"user:", pos + 1))
    ++listed;
  CAF_MESSAGE(listed << " user actors in the tree");
  CAF_CHECK_GREATER_OR_EQUAL(listed, users);
}
