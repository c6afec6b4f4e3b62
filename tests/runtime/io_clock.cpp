#define CAF_SUITE runtime.io_clock
#include "caf/test/unit_test.hpp"

#include "runtime/io_clock.hpp"
#include "runtime/io_scheduler.hpp"

#include <algorithm>
#include <future>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include <caf/all.hpp>

// CAF's clock on one Asio timer (runtime/io_clock.hpp), through the actor
// system that uses it: delayed messages arrive in deadline order, request
// timeouts fire, a late answer is dropped, timers of a dead actor harm
// nothing, and threads other than the I/O thread set timers safely. No
// assertion is on elapsed time.

using namespace zaki;

namespace {

struct fixture {
  config cfg;
  io_runtime io{1};
  std::unique_ptr<caf::actor_system> sys;

  fixture() {
    sys = make_actor_system(cfg, io);
  }

  ~fixture() {
    sys.reset();
    io.stop();
  }
};

using order = std::vector<int>;

struct collector_state {
  order got;
};

/// Sends itself `delays[i]` ms later the number i, for each i; reports the
/// order of arrival once all are in.
caf::behavior collector(caf::stateful_actor<collector_state>* self,
                        std::vector<int> delays,
                        std::shared_ptr<std::promise<order>> done) {
  for (size_t i = 0; i < delays.size(); ++i)
    self->delayed_send(self, std::chrono::milliseconds(delays[i]),
                       static_cast<int>(i));
  auto n = delays.size();
  return {
    [=](int i) {
      self->state.got.push_back(i);
      if (self->state.got.size() == n) {
        done->set_value(self->state.got);
        self->quit();
      }
    },
  };
}

struct silent_state {
  /// Promises kept unfulfilled: the callers' timeouts must fire.
  std::vector<caf::response_promise> pending;
};

/// Never answers an int; answers `get` at once.
caf::behavior silent(caf::stateful_actor<silent_state>* self) {
  return {
    [self](int) {
      self->state.pending.push_back(self->make_response_promise());
    },
    [](caf::get_atom) {
      return 1;
    },
  };
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(io_clock_tests, fixture)

CAF_TEST(the io scheduler brings its own clock) {
  CAF_CHECK(dynamic_cast<io_clock*>(&sys->clock()) != nullptr);
}

CAF_TEST(delayed messages arrive in deadline order) {
  // 60 distinct delays in random order; the earliest deadline first,
  // however they were set.
  std::vector<int> delays(60);
  std::iota(delays.begin(), delays.end(), 0);
  std::mt19937 rng{7};
  std::shuffle(delays.begin(), delays.end(), rng);
  for (auto& d : delays)
    d *= 2;
  auto done = std::make_shared<std::promise<order>>();
  auto got = done->get_future();
  sys->spawn(collector, delays, done);
  CAF_REQUIRE(got.wait_for(std::chrono::seconds(30))
              == std::future_status::ready);
  auto arrival = got.get();
  CAF_REQUIRE_EQUAL(arrival.size(), delays.size());
  std::vector<int> arrival_delays;
  for (auto i : arrival)
    arrival_delays.push_back(delays[static_cast<size_t>(i)]);
  CAF_CHECK(std::is_sorted(arrival_delays.begin(), arrival_delays.end()));
}

CAF_TEST(request timeouts fire and later answers still flow) {
  caf::scoped_actor self{*sys};
  auto s = sys->spawn(silent);
  bool timed_out = false;
  self->request(s, std::chrono::milliseconds(20), 1)
    .receive(
      [](int) {
        CAF_FAIL("silent actor answered");
      },
      [&](caf::error& err) {
        timed_out = err == caf::sec::request_timeout;
      });
  CAF_CHECK(timed_out);
  // The clock keeps serving: a second timeout, then a real answer.
  timed_out = false;
  self->request(s, std::chrono::milliseconds(5), 2)
    .receive(
      [](int) {
        CAF_FAIL("silent actor answered");
      },
      [&](caf::error& err) {
        timed_out = err == caf::sec::request_timeout;
      });
  CAF_CHECK(timed_out);
  self->request(s, std::chrono::seconds(30), caf::get_atom_v)
    .receive(
      [](int x) {
        CAF_CHECK_EQUAL(x, 1);
      },
      [&](caf::error& err) {
        CAF_FAIL(sys->render(err));
      });
  self->send_exit(s, caf::exit_reason::user_shutdown);
}

CAF_TEST(answered requests leave no timeout behind) {
  // A thousand requests answered in time: none may later come back as a
  // timeout error (a cancelled timeout that still fired). An event-based
  // asker, as in the router: it cancels each timeout when the answer comes.
  auto s = sys->spawn(silent);
  auto done = std::make_shared<std::promise<std::pair<int, int>>>();
  auto got = done->get_future();
  sys->spawn([=](caf::event_based_actor* self) -> caf::behavior {
    auto answers = std::make_shared<int>(0);
    auto errors = std::make_shared<int>(0);
    for (int i = 0; i < 1000; ++i)
      self->request(s, std::chrono::milliseconds(50), caf::get_atom_v)
        .then(
          [=](int) {
            ++*answers;
          },
          [=](caf::error&) {
            ++*errors;
          });
    // Well past every deadline: a timeout that fired would have counted.
    self->delayed_send(self, std::chrono::milliseconds(200), caf::ok_atom_v);
    return {
      [=](caf::ok_atom) {
        done->set_value({*answers, *errors});
        self->send_exit(s, caf::exit_reason::user_shutdown);
        self->quit();
      },
    };
  });
  CAF_REQUIRE(got.wait_for(std::chrono::seconds(60))
              == std::future_status::ready);
  auto [answers, errors] = got.get();
  CAF_CHECK_EQUAL(answers, 1000);
  CAF_CHECK_EQUAL(errors, 0);
}

CAF_TEST(timers of a dead actor are harmless) {
  // Each actor sets a timer and dies before it fires; the clock must drop
  // the message (or deliver it to nobody) and go on.
  for (int i = 0; i < 100; ++i)
    sys->spawn([](caf::event_based_actor* self) -> caf::behavior {
      self->delayed_send(self, std::chrono::milliseconds(5), caf::ok_atom_v);
      self->quit();
      return {[](caf::ok_atom) {}};
    });
  auto done = std::make_shared<std::promise<order>>();
  auto got = done->get_future();
  sys->spawn(collector, std::vector<int>{10, 1}, done);
  CAF_REQUIRE(got.wait_for(std::chrono::seconds(30))
              == std::future_status::ready);
  CAF_CHECK_EQUAL(got.get(), (order{1, 0}));
}

CAF_TEST(threads other than the io thread set timers) {
  // scoped_actors on four threads send delayed messages at once; every one
  // of them arrives.
  constexpr int threads = 4;
  constexpr int per_thread = 50;
  auto done = std::make_shared<std::promise<int>>();
  auto total = done->get_future();
  auto sink = sys->spawn([done](caf::event_based_actor* self) {
    auto count = std::make_shared<int>(0);
    return caf::behavior{
      [=](int) {
        if (++*count == threads * per_thread) {
          done->set_value(*count);
          self->quit();
        }
      },
    };
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      caf::scoped_actor self{*sys};
      for (int i = 0; i < per_thread; ++i)
        self->delayed_send(sink, std::chrono::milliseconds(i % 7), t);
    });
  for (auto& w : workers)
    w.join();
  CAF_REQUIRE(total.wait_for(std::chrono::seconds(30))
              == std::future_status::ready);
  CAF_CHECK_EQUAL(total.get(), threads * per_thread);
}

CAF_TEST_FIXTURE_SCOPE_END()
