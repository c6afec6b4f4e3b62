#define CAF_SUITE admin.failures

#include "caf/test/unit_test.hpp"

#include <atomic>

#include "tests/fixtures/admin_fixture.hpp"

using namespace zaki;
using namespace std::chrono;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// Polls `target` until it answers `status`; returns the last answer.
test::http_reply wait_for_status(test::admin_fixture& f,
                                 const std::string& target, int status,
                                 milliseconds timeout = seconds(10)) {
  auto until = steady_clock::now() + timeout;
  test::http_reply last;
  while (steady_clock::now() < until) {
    last = f.get(target);
    if (last.status == status)
      break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return last;
}

/// A readiness check whose answer the test flips.
struct flag_state {
  std::shared_ptr<std::atomic<bool>> ready;
};

readiness_check_actor::behavior_type
flag_check(readiness_check_actor::stateful_pointer<flag_state> self,
           std::shared_ptr<std::atomic<bool>> ready) {
  self->state.ready = ready;
  return {
    [self](ready_atom) -> std::tuple<bool, std::string> {
      if (*self->state.ready)
        return {true, "warmed up"};
      return {false, "still warming up"};
    },
  };
}

} // namespace

CAF_TEST(a failing Bot API makes the router not ready) {
  test::admin_fixture f;
  f.start();
  CAF_REQUIRE_EQUAL(wait_for_status(f, "/health/ready", 200).status, 200);
  f.telegram.fail_next("getUpdates", 500, 100000);
  auto ready = wait_for_status(f, "/health/ready", 503);
  CAF_CHECK_EQUAL(ready.status, 503);
  CAF_CHECK(contains(ready.body, R"("name":"poller","state":"failing")"));
  // Liveness is unaffected: restarting the pod would not help.
  CAF_CHECK_EQUAL(f.get("/health/live").status, 200);
  CAF_CHECK_EQUAL(f.get("/health").status, 503);
}

CAF_TEST(a blocked root supervisor makes the router not live) {
  test::admin_fixture f;
  auto starts = std::make_shared<std::atomic<int>>(0);
  child_spec blocker{
    "blocker", caf::atom("blocker"), [starts](root_self self) {
      if (++*starts == 2) {
        // Runs inside the root: its mailbox stalls now.
        std::this_thread::sleep_for(seconds(4));
      }
      return self->spawn<caf::linked>(
        [starts](caf::event_based_actor* child) -> caf::behavior {
          if (*starts == 1)
            child->delayed_send(child, milliseconds(300), caf::timeout_atom_v);
          return {[child](caf::timeout_atom) {
            child->quit(caf::sec::runtime_error);
          }};
        });
    }};
  f.start({blocker});
  CAF_REQUIRE_EQUAL(f.get("/health/live").status, 200);
  // The child fails at 0.3 s; the root restarts it 0.2 s later and blocks.
  std::this_thread::sleep_for(milliseconds(900));
  auto started = steady_clock::now();
  auto live = f.get("/health/live");
  auto took = steady_clock::now() - started;
  CAF_CHECK_EQUAL(live.status, 503);
  CAF_CHECK(contains(live.body, "did not answer"));
  CAF_CHECK(took < milliseconds(2900));
  CAF_MESSAGE("/health/live answered 503 after "
              << duration_cast<milliseconds>(took).count() << " ms");
  CAF_CHECK_EQUAL(wait_for_status(f, "/health/live", 200).status, 200);
}

CAF_TEST(starved scheduler threads still get a 503 from the I / O side) {
  test::admin_fixture f;
  // CAF's worker threads; with the io scheduler the actors have one thread,
  // which "a blocked root supervisor" wedges.
  f.cfg.set("scheduler.policy", caf::atom("sharing"));
  f.start();
  CAF_REQUIRE_EQUAL(f.get("/health/live").status, 200);
  // Occupy every scheduler thread (the fixture runs three).
  for (int i = 0; i < 3; ++i) {
    auto sleeper = f.sys->spawn([](caf::event_based_actor*) -> caf::behavior {
      return {[](caf::ok_atom) {
        std::this_thread::sleep_for(seconds(4));
      }};
    });
    caf::anon_send(sleeper, caf::ok_atom_v);
  }
  std::this_thread::sleep_for(milliseconds(200));
  auto started = steady_clock::now();
  auto live = f.get("/health/live");
  auto took = steady_clock::now() - started;
  CAF_CHECK_EQUAL(live.status, 503);
  CAF_CHECK(contains(live.body, "did not answer in time"));
  CAF_CHECK(took < milliseconds(3500));
  CAF_CHECK_EQUAL(wait_for_status(f, "/health/live", 200).status, 200);
}

CAF_TEST(registered readiness checks gate readiness) {
  test::admin_fixture f;
  f.start();
  CAF_REQUIRE_EQUAL(wait_for_status(f, "/health/ready", 200).status, 200);
  auto ready = std::make_shared<std::atomic<bool>>(false);
  auto check = f.sys->spawn(flag_check, ready);
  auto adm = f.sys->registry().get<admin_actor>(names::admin);
  CAF_REQUIRE(adm);
  caf::anon_send(adm, register_atom_v, std::string{"cache"}, check);
  auto not_ready = wait_for_status(f, "/health/ready", 503);
  CAF_CHECK_EQUAL(not_ready.status, 503);
  CAF_CHECK(contains(not_ready.body, "still warming up"));
  *ready = true;
  CAF_CHECK_EQUAL(wait_for_status(f, "/health/ready", 200).status, 200);
  *ready = false;
  CAF_REQUIRE_EQUAL(wait_for_status(f, "/health/ready", 503).status, 503);
  // A check that terminates is forgotten.
  caf::anon_send_exit(check, caf::exit_reason::user_shutdown);
  CAF_CHECK_EQUAL(wait_for_status(f, "/health/ready", 200).status, 200);
}

CAF_TEST(the tree reflects a user actor crash and restart) {
  test::admin_fixture f;
  f.start();
  CAF_REQUIRE(f.chat(1));
  auto before = f.get("/admin/users/7000001");
  CAF_REQUIRE_EQUAL(before.status, 200);
  CAF_CHECK(contains(before.body, R"("restarts":0)"));
  auto sup
    = f.sys->registry().get<user_supervisor_actor>(names::user_supervisor);
  CAF_REQUIRE(sup);
  caf::scoped_actor self{*f.sys};
  bool crashed = false;
  self->request(sup, seconds(2), crash_atom_v, int64_t{7000001})
    .receive(
      [&](bool ok) {
        crashed = ok;
      },
      [](caf::error&) {});
  CAF_REQUIRE(crashed);
  test::http_reply after;
  for (int i = 0; i < 50; ++i) {
    after = f.get("/admin/users/7000001");
    if (contains(after.body, R"("restarts":1)")
        && contains(after.body, R"("state":"idle")"))
      break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  CAF_CHECK(contains(after.body, R"("restarts":1)"));
  CAF_CHECK(contains(after.body, R"("state":"idle")"));
  auto tree = f.get("/admin/tree");
  CAF_CHECK(contains(tree.body, R"("name":"user:7000001")"));
  CAF_CHECK(contains(tree.body, R"("detail_restarts":1)"));
  CAF_CHECK(f.chat(1, "still there?"));
}
