#define CAF_SUITE admin.scale

#include "caf/test/unit_test.hpp"

#include "tests/fixtures/admin_fixture.hpp"
#include "tests/fixtures/prometheus_check.hpp"

using namespace zaki;

// GET /admin/tree with 1,000 live user actors: every user writes once, so
// the supervisor runs 1,000 user actors (idle, waiting for their next
// message), and the tree walk asks each of them. It must answer, listing
// them all, and /metrics must count them. How long the walk takes is a
// figure of benches/scale_bench.cpp (no timing checks in tests).

CAF_TEST(the admin tree lists 1000 live user actors) {
  constexpr size_t users = 1000;
  test::admin_fixture f{users};
  // Replies must not queue behind Telegram's pacing.
  f.cfg.values.telegram.global_rate = 1e6;
  f.cfg.values.telegram.global_burst = 1000000;
  f.start();
  CAF_REQUIRE(f.chat(users));
  auto metrics = test::parse_prometheus(f.get("/metrics").body);
  CAF_REQUIRE_EQUAL(metrics.error, "");
  CAF_REQUIRE_EQUAL(metrics.value("zaki_active_user_actors"), users);
  auto tree = f.get("/admin/tree");
  CAF_REQUIRE_EQUAL(tree.status, 200);
  size_t listed = 0;
  for (auto pos = tree.body.find("\"name\":\"user:"); pos != std::string::npos;
       pos = tree.body.find("\"name\":\"user:", pos + 1))
    ++listed;
  CAF_CHECK_EQUAL(listed, users);
}
