#define CAF_SUITE runtime.io_scheduler
#include "caf/test/unit_test.hpp"

#include "runtime/io_scheduler.hpp"

#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>
#include <caf/all.hpp>

// The scheduler that runs the actors on the io_runtime's threads
// (`scheduler.policy=io`, the default): that it is the one chosen, that
// actors run on the I/O thread and nowhere else, that messages between many
// actors all arrive in order, and that the system shuts down with actors
// still busy.

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

  /// Returns the I/O thread, asked on the I/O thread itself.
  uint64_t io_thread() {
    std::promise<uint64_t> p;
    boost::asio::post(io.context(), [&p] {
      p.set_value(this_thread());
    });
    return p.get_future().get();
  }

  /// Returns an id of the calling thread that can go into a message.
  static uint64_t this_thread() {
    return std::hash<std::thread::id>{}(std::this_thread::get_id());
  }
};

caf::behavior echo(caf::event_based_actor*) {
  return {
    [](int x) {
      return x;
    },
    [](caf::get_atom) {
      return fixture::this_thread();
    },
  };
}

/// Forwards `n` numbers to `sink` one message at a time.
caf::behavior counter(caf::event_based_actor* self, caf::actor sink) {
  return {
    [self, sink](int id, int n) {
      for (int i = 0; i < n; ++i)
        self->send(sink, id, i);
    },
  };
}

struct sink_state {
  std::vector<int> next;
  int received = 0;
  int out_of_order = 0;
};

caf::behavior sink(caf::stateful_actor<sink_state>* self, int senders,
                   int per_sender, std::shared_ptr<std::promise<int>> done) {
  self->state.next.resize(static_cast<size_t>(senders));
  return {
    [=](int id, int i) {
      auto& st = self->state;
      if (st.next[static_cast<size_t>(id)] != i)
        ++st.out_of_order;
      st.next[static_cast<size_t>(id)] = i + 1;
      if (++st.received == senders * per_sender) {
        done->set_value(st.out_of_order);
        self->quit();
      }
    },
  };
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(io_scheduler_tests, fixture)

CAF_TEST(the default policy is io) {
  CAF_CHECK(uses_io_scheduler(cfg));
  CAF_CHECK(dynamic_cast<io_scheduler*>(&sys->scheduler()) != nullptr);
  config other;
  other.set("scheduler.policy", caf::atom("sharing"));
  CAF_CHECK(!uses_io_scheduler(other));
}

CAF_TEST(actors run on the io thread) {
  auto io_id = io_thread();
  CAF_CHECK_NOT_EQUAL(io_id, this_thread());
  caf::scoped_actor self{*sys};
  std::vector<caf::actor> actors;
  for (int i = 0; i < 10; ++i)
    actors.push_back(sys->spawn(echo));
  for (auto& a : actors) {
    self->request(a, caf::infinite, caf::get_atom_v)
      .receive(
        [&](uint64_t ran_on) {
          CAF_CHECK_EQUAL(ran_on, io_id);
        },
        [&](caf::error& err) {
          CAF_FAIL(sys->render(err));
        });
    self->request(a, caf::infinite, 42)
      .receive(
        [](int x) {
          CAF_CHECK_EQUAL(x, 42);
        },
        [&](caf::error& err) {
          CAF_FAIL(sys->render(err));
        });
  }
  for (auto& a : actors)
    self->send_exit(a, caf::exit_reason::user_shutdown);
}

CAF_TEST(messages of many senders all arrive in order) {
  // 50 senders of 200 messages each: more than one turn of the ready queue
  // and more than one mailbox batch per actor.
  constexpr int senders = 50;
  constexpr int per_sender = 200;
  auto done = std::make_shared<std::promise<int>>();
  auto result = done->get_future();
  auto s = sys->spawn(sink, senders, per_sender, done);
  std::vector<caf::actor> counters;
  for (int i = 0; i < senders; ++i)
    counters.push_back(sys->spawn(counter, s));
  caf::scoped_actor self{*sys};
  for (int i = 0; i < senders; ++i)
    self->send(counters[static_cast<size_t>(i)], i, per_sender);
  CAF_REQUIRE(result.wait_for(std::chrono::seconds(30))
              == std::future_status::ready);
  CAF_CHECK_EQUAL(result.get(), 0);
  for (auto& c : counters)
    self->send_exit(c, caf::exit_reason::user_shutdown);
}

CAF_TEST(the system shuts down with busy actors) {
  // Actors that keep messaging themselves until they are told to exit, as
  // the root tells its children: the system's end must wait for them and
  // release them, and the I/O threads must stop afterwards.
  std::vector<caf::actor> busy;
  auto spins = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < 20; ++i)
    busy.push_back(
      sys->spawn([spins](caf::event_based_actor* self) -> caf::behavior {
        self->send(self, caf::ok_atom_v);
        return {
          [self, spins](caf::ok_atom) {
            ++*spins;
            self->send(self, caf::ok_atom_v);
          },
        };
      }));
  {
    caf::scoped_actor self{*sys};
    auto e = sys->spawn(echo);
    // The echo gets its turn although 20 actors are always ready.
    self->request(e, caf::infinite, 7)
      .receive(
        [](int x) {
          CAF_CHECK_EQUAL(x, 7);
        },
        [&](caf::error& err) {
          CAF_FAIL(sys->render(err));
        });
    CAF_CHECK_GREATER(spins->load(), 0);
    for (auto& a : busy)
      self->send_exit(a, caf::exit_reason::user_shutdown);
    self->send_exit(e, caf::exit_reason::user_shutdown);
    busy.clear();
  }
  sys.reset();
  io.stop();
  CAF_MESSAGE(spins->load() << " self-sends before the exit");
}

CAF_TEST_FIXTURE_SCOPE_END()
