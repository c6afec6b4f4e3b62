#define CAF_SUITE runtime.io_scheduler
#include "caf/test/unit_test.hpp"

#include "runtime/io_scheduler.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>

#include <boost/asio/post.hpp>
#include <caf/all.hpp>

// The scheduler that runs CAF actors on the io_runtime's threads
// (runtime/io_scheduler.hpp): actors run on an I/O thread, one at a time
// even with several I/O threads, socket handlers get their turn while
// actors keep each other busy, and the system ends with its actors. No
// assertion is on elapsed time; every wait is bounded.

using namespace zaki;
using namespace std::chrono;

namespace {

struct fixture {
  config cfg;
  std::unique_ptr<io_runtime> io;
  std::unique_ptr<caf::actor_system> sys;

  void start(size_t threads) {
    io = std::make_unique<io_runtime>(threads);
    sys = make_actor_system(cfg, *io);
  }

  ~fixture() {
    sys.reset();
    if (io)
      io->stop();
  }
};

template <class T>
bool ready_within(std::future<T>& f, seconds limit) {
  return f.wait_for(limit) == std::future_status::ready;
}

/// Counts how many of its kind run at once; reports the largest count after
/// `n` messages.
struct overlap_probe {
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::atomic<int> left;
  std::promise<int> done;

  explicit overlap_probe(int n) : left(n) {
    // nop
  }
};

caf::behavior overlapping(caf::event_based_actor* self,
                          std::shared_ptr<overlap_probe> p, int messages) {
  auto seen = std::make_shared<int>(0);
  return {
    [=](int) {
      auto now = ++p->running;
      auto most = p->most.load();
      while (now > most && !p->most.compare_exchange_weak(most, now)) {
        // retry
      }
      // Long enough for a second thread to pick up another actor.
      auto until = steady_clock::now() + microseconds(20);
      while (steady_clock::now() < until) {
        // spin
      }
      --p->running;
      if (--p->left == 0)
        p->done.set_value(p->most.load());
      if (++*seen == messages)
        self->quit();
    },
  };
}

/// Two of these keep each other busy until `stop` is set; then the one
/// that sees it takes the other down with it.
caf::behavior ping_pong(caf::event_based_actor* self,
                        std::shared_ptr<std::atomic<bool>> stop) {
  return {
    [=](caf::ok_atom, caf::actor other) {
      if (!*stop)
        self->send(other, caf::ok_atom_v, caf::actor_cast<caf::actor>(self));
      else {
        self->send_exit(other, caf::exit_reason::user_shutdown);
        self->quit();
      }
    },
  };
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(io_scheduler_tests, fixture)

CAF_TEST(the default policy runs actors on the io threads) {
  CAF_REQUIRE(uses_io_scheduler(cfg));
  start(1);
  CAF_CHECK(dynamic_cast<io_scheduler*>(&sys->scheduler()) != nullptr);
  auto on_io = std::make_shared<std::promise<bool>>();
  auto got = on_io->get_future();
  auto ctx = &io->context();
  sys->spawn([=](caf::event_based_actor* self) {
    on_io->set_value(ctx->get_executor().running_in_this_thread());
    self->quit();
  });
  CAF_REQUIRE(ready_within(got, seconds(30)));
  CAF_CHECK(got.get());
}

CAF_TEST(actors run one at a time on two io threads) {
  start(2);
  constexpr int actors = 8;
  constexpr int per_actor = 200;
  auto probe = std::make_shared<overlap_probe>(actors * per_actor);
  auto most = probe->done.get_future();
  for (int a = 0; a < actors; ++a) {
    auto x = sys->spawn(overlapping, probe, per_actor);
    for (int i = 0; i < per_actor; ++i)
      caf::anon_send(x, i);
  }
  CAF_REQUIRE(ready_within(most, seconds(60)));
  CAF_CHECK_EQUAL(most.get(), 1);
}

CAF_TEST(io handlers get their turn while actors keep each other busy) {
  // One I/O thread: if a turn ran every actor it woke, the ping-pong below
  // would never give the thread back to the handler.
  start(1);
  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto a = sys->spawn(ping_pong, stop);
  auto b = sys->spawn(ping_pong, stop);
  caf::anon_send(a, caf::ok_atom_v, b);
  std::promise<void> ran;
  auto handler_ran = ran.get_future();
  boost::asio::post(io->context(), [&ran] {
    ran.set_value();
  });
  auto ok = ready_within(handler_ran, seconds(30));
  *stop = true;
  CAF_CHECK(ok);
  if (!ok)
    handler_ran.wait();
}

CAF_TEST(the system ends with its actors and stops the io threads) {
  start(2);
  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto a = sys->spawn(ping_pong, stop);
  auto b = sys->spawn(ping_pong, stop);
  caf::anon_send(a, caf::ok_atom_v, b);
  *stop = true;
  a = nullptr;
  b = nullptr;
  // Both quit at their next message; the destructor awaits them, then the
  // scheduler stops the I/O threads it kept running (a hang here ends the
  // suite through its watchdog).
  sys.reset();
  io->stop();
  CAF_CHECK(io->context().stopped());
}

CAF_TEST_FIXTURE_SCOPE_END()
