#define CAF_SUITE actors.root
#include "caf/test/dsl.hpp"

#include "actors/root.hpp"

#include "runtime/config.hpp"
#include "tests/fixtures/peers.hpp"

// The root supervisor over stand-in children on the deterministic
// scheduler: a failed child comes back after root.restart-delay, and more
// than root.max-restarts failures within root.restart-window stop the
// router with exit code 3.

using namespace zaki;
using namespace zaki::test;
using namespace std::chrono;

namespace {

using root_impl = caf::stateful_actor<root_state, root_actor::base>;

caf::behavior stand_in(caf::event_based_actor*) {
  return {
    [](int32_t x) {
      return x;
    },
  };
}

struct fixture : test_coordinator_fixture<config>, frozen_context {
  fixture() {
    ctx->cfg.root.max_restarts = 2;
    ctx->cfg.root.restart_window = seconds(60);
    ctx->cfg.root.restart_delay = milliseconds(100);
    std::vector<child_spec> specs;
    for (auto key : {names::store, names::telegram})
      specs.push_back({caf::to_string(key), key, [](root_self self) {
                         return self->spawn<caf::linked>(stand_in);
                       }});
    root_hdl = sys.spawn(root, ctx, std::move(specs));
    sched.run();
  }

  ~fixture() override {
    for (auto name : {names::root, names::store, names::telegram})
      sys.registry().erase(name);
    self->send_exit(root_hdl, caf::exit_reason::kill);
    sched.run();
  }

  caf::actor registered(caf::atom_value name) {
    return caf::actor_cast<caf::actor>(sys.registry().get(name));
  }

  root_state& state() {
    return deref<root_impl>(root_hdl).state;
  }

  /// Kills the running child `index` (a crash the root did not ask for).
  void crash(size_t index) {
    auto child = state().running[index];
    CAF_REQUIRE(child != nullptr);
    // Not `kill`: an exit_msg with that reason cannot be trapped, so the
    // root would die with its child.
    self->send_exit(child, caf::exit_reason::unknown);
    sched.run();
  }

  root_actor root_hdl;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(root_tests, fixture)

CAF_TEST(children start in order and are registered by name) {
  CAF_REQUIRE_EQUAL(state().running.size(), 2u);
  CAF_CHECK(state().running[0] != nullptr);
  CAF_CHECK(state().running[1] != nullptr);
  CAF_CHECK(registered(names::store) == state().running[0]);
  CAF_CHECK(registered(names::telegram) == state().running[1]);
}

CAF_TEST(a failed child comes back after the restart delay) {
  auto before = state().running[1];
  crash(1);
  CAF_CHECK(state().running[1] == nullptr);
  CAF_CHECK(state().running[0] == registered(names::store));
  advance_time(milliseconds(99));
  sched.run();
  CAF_CHECK(state().running[1] == nullptr);
  advance_time(milliseconds(1));
  sched.run();
  CAF_REQUIRE(state().running[1] != nullptr);
  CAF_CHECK(state().running[1] != before);
  // Peers find the new incarnation by name, not the dead one.
  CAF_CHECK(registered(names::telegram) == state().running[1]);
  CAF_CHECK_EQUAL(state().restarts[1], 1u);
  CAF_CHECK_EQUAL(ctx->exit_code.load(), 0);
}

CAF_TEST(more than max restarts within the window stops the router) {
  self->monitor(root_hdl);
  for (int i = 0; i < 2; ++i) {
    crash(i % 2);
    advance_time(milliseconds(100));
    sched.run();
  }
  CAF_CHECK_EQUAL(ctx->exit_code.load(), 0);
  crash(0);
  CAF_CHECK_EQUAL(ctx->exit_code.load(), 3);
  bool down = false;
  self->receive(
    [&](caf::down_msg& msg) {
      down = msg.source == root_hdl;
    },
    caf::after(seconds(0)) >> [] {});
  CAF_CHECK(down);
}

CAF_TEST(failures spread beyond the window never stop the router) {
  for (int i = 0; i < 5; ++i) {
    crash(0);
    advance_time(seconds(61));
    sched.run();
    CAF_REQUIRE(state().running[0] != nullptr);
  }
  CAF_CHECK_EQUAL(state().restarts[0], 5u);
  CAF_CHECK_EQUAL(ctx->exit_code.load(), 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
