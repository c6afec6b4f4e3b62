#define CAF_SUITE actors.user_supervisor
#include "admin/http.hpp"
#include "caf/test/dsl.hpp"

#include <future>

#include "actors/user_supervisor.hpp"

#include "actors/user.hpp"
#include "runtime/config.hpp"
#include "tests/fixtures/peers.hpp"

// The user supervisor with real user actors on the deterministic scheduler:
// lazy spawning, routing by user id, duplicate suppression, restart with
// replay of unfinished messages, restart intensity, drain and stop. Gateway
// completions are injected into the user actors.

using namespace zaki;
using namespace zaki::test;
using namespace std::chrono;

namespace {

using sup_impl
  = caf::stateful_actor<user_supervisor_state, user_supervisor_actor::base>;
using user_impl = caf::stateful_actor<user_state, user_actor::base>;

struct fixture : test_coordinator_fixture<config>, frozen_context {
  /// `journal`: with the inbox journal, whose writes run on a thread of
  /// their own (a test stalls and joins it to order them).
  explicit fixture(bool journal = false) : p(std::make_shared<peers_state>()) {
    ctx->cfg.store.inbox_journal = journal;
    ctx->cfg.supervisor.max_restarts = 3;
    ctx->cfg.supervisor.restart_window = seconds(60);
    ctx->cfg.supervisor.backoff_initial = milliseconds(50);
    ctx->cfg.supervisor.backoff_max = seconds(1);
    ctx->cfg.user.idle_timeout = seconds(600);
    p->users[7001] = record_of(7001, 19001);
    p->users[7002] = record_of(7002, 19002);
    store = sys.spawn(fake_store, p);
    tg = sys.spawn(fake_telegram_actor, p);
    sys.registry().put(names::store, store);
    sys.registry().put(names::telegram, tg);
    sup = sys.spawn(user_supervisor, ctx);
    sys.registry().put(names::user_supervisor, sup);
    sched.run();
  }

  ~fixture() override {
    for (auto name : {names::store, names::telegram, names::user_supervisor})
      sys.registry().erase(name);
    self->send_exit(sup, caf::exit_reason::kill);
    self->send_exit(store, caf::exit_reason::kill);
    self->send_exit(tg, caf::exit_reason::kill);
    sched.run();
  }

  user_supervisor_state& state() {
    return deref<sup_impl>(sup).state;
  }

  user_actor user_of(int64_t id) {
    auto i = state().users.find(id);
    if (i == state().users.end())
      return user_actor{};
    return i->second.handle;
  }

  user_state& user_state_of(int64_t id) {
    auto hdl = user_of(id);
    CAF_REQUIRE(hdl != nullptr);
    return deref<user_impl>(hdl).state;
  }

  void route(inbound_batch batch) {
    auto rh = self->request(sup, caf::infinite, route_atom_v, std::move(batch));
    sched.run();
    bool acked = false;
    rh.receive(
      [&](ok_atom) {
        acked = true;
      },
      [&](caf::error& e) {
        CAF_FAIL(sys.render(e));
      });
    CAF_CHECK(acked);
  }

  /// Answers the gateway call of `id`'s actor with `content`.
  void answer(int64_t id, const std::string& content) {
    auto hdl = user_of(id);
    CAF_REQUIRE(hdl != nullptr);
    auto seq = user_state_of(id).seq;
    CAF_REQUIRE_EQUAL(to_string(user_state_of(id).session.phase), "calling");
    self->send(hdl, internal_atom_v, http_done_atom_v, seq,
               completion(content));
    sched.run();
  }

  bool crash(int64_t id) {
    auto rh = self->request(sup, caf::infinite, crash_atom_v, id);
    sched.run();
    bool result = false;
    rh.receive(
      [&](bool x) {
        result = x;
      },
      [&](caf::error& e) {
        CAF_FAIL(sys.render(e));
      });
    sched.run();
    return result;
  }

  /// Lets the restart backoff elapse (50 ms doubling, with jitter).
  void wait(milliseconds d) {
    for (auto t = milliseconds(0); t < d; t += milliseconds(10)) {
      advance_time(milliseconds(10));
      sched.run();
    }
  }

  std::vector<std::string> sent_texts() const {
    std::vector<std::string> out;
    for (auto& x : p->sent)
      out.push_back(x.text);
    return out;
  }

  peers_ptr p;
  caf::actor store;
  caf::actor tg;
  user_supervisor_actor sup;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(user_supervisor_tests, fixture)

CAF_TEST(routes by user and spawns actors lazily) {
  CAF_CHECK(state().users.empty());
  route({text_message(1, 7001, "a1"), text_message(2, 7002, "b1"),
         text_message(3, 7001, "a2")});
  CAF_CHECK_EQUAL(state().spawned, 2u);
  CAF_CHECK_EQUAL(state().routed, 3u);
  CAF_CHECK_EQUAL(state().unacked_total, 3u);
  CAF_CHECK_EQUAL(user_state_of(7001).current->update_id, 1);
  CAF_CHECK_EQUAL(user_state_of(7001).queue.size(), 1u);
  CAF_CHECK_EQUAL(user_state_of(7002).current->update_id, 2);
  // Request ids are assigned on arrival.
  CAF_CHECK(!user_state_of(7001).current->request_id.empty());
  answer(7002, "B1");
  answer(7001, "A1");
  answer(7001, "A2");
  CAF_CHECK_EQUAL(sent_texts(), (std::vector<std::string>{"B1", "A1", "A2"}));
  CAF_CHECK_EQUAL(state().unacked_total, 0u);
  // Still two actors: a later message reuses the running one.
  auto first = user_of(7001);
  route({text_message(4, 7001, "a3")});
  CAF_CHECK(user_of(7001) == first);
  CAF_CHECK_EQUAL(state().spawned, 2u);
}

CAF_TEST(duplicate updates are dropped) {
  inbound_batch batch{text_message(1, 7001, "a1"), text_message(2, 7001, "a2")};
  route(batch);
  route(batch);
  route({text_message(2, 7001, "a2"), text_message(3, 7001, "a3")});
  CAF_CHECK_EQUAL(state().routed, 3u);
  CAF_CHECK_EQUAL(state().duplicates, 3u);
  CAF_CHECK_EQUAL(state().unacked_total, 3u);
  CAF_CHECK_EQUAL(user_state_of(7001).queue.size(), 2u);
}

CAF_TEST(a crashed actor is restarted and its messages replayed in order) {
  route({text_message(1, 7001, "a1"), text_message(2, 7002, "b1"),
         text_message(3, 7001, "a2"), text_message(4, 7001, "a3")});
  auto other = user_of(7002);
  auto before = user_of(7001);
  CAF_CHECK(crash(7001));
  CAF_CHECK(user_of(7001) == nullptr);
  CAF_CHECK(state().users.at(7001).restarting);
  CAF_CHECK_EQUAL(state().users.at(7001).unacked.size(), 3u);
  // Messages for a restarting user wait in the supervisor.
  route({text_message(5, 7001, "a4")});
  CAF_CHECK(user_of(7001) == nullptr);
  wait(milliseconds(100));
  auto after = user_of(7001);
  CAF_REQUIRE(after != nullptr);
  CAF_CHECK(after != before);
  CAF_CHECK_EQUAL(state().restarts, 1u);
  auto& us = user_state_of(7001);
  CAF_CHECK_EQUAL(us.current->update_id, 1);
  CAF_CHECK_EQUAL(us.current->delivery, 1u);
  CAF_REQUIRE_EQUAL(us.queue.size(), 3u);
  CAF_CHECK_EQUAL(us.queue[0].update_id, 3);
  CAF_CHECK_EQUAL(us.queue[1].update_id, 4);
  CAF_CHECK_EQUAL(us.queue[2].update_id, 5);
  // The other user's actor was not touched.
  CAF_CHECK(user_of(7002) == other);
  CAF_CHECK_EQUAL(user_state_of(7002).current->update_id, 2);
  for (auto text : {"A1", "A2", "A3", "A4"})
    answer(7001, text);
  answer(7002, "B1");
  CAF_CHECK_EQUAL(sent_texts(),
                  (std::vector<std::string>{"A1", "A2", "A3", "A4", "B1"}));
  CAF_CHECK_EQUAL(state().unacked_total, 0u);
}

CAF_TEST(finished messages are not replayed) {
  route({text_message(1, 7001, "a1"), text_message(2, 7001, "a2")});
  answer(7001, "A1");
  CAF_CHECK_EQUAL(state().unacked_total, 1u);
  CAF_CHECK(crash(7001));
  wait(milliseconds(100));
  CAF_CHECK_EQUAL(user_state_of(7001).current->update_id, 2);
  CAF_CHECK(user_state_of(7001).queue.empty());
  answer(7001, "A2");
  CAF_CHECK_EQUAL(sent_texts(), (std::vector<std::string>{"A1", "A2"}));
}

CAF_TEST(restart intensity exceeded gives up with a message per pending) {
  route({text_message(1, 7001, "a1"), text_message(2, 7001, "a2")});
  for (int i = 0; i < 3; ++i) {
    CAF_CHECK(crash(7001));
    wait(milliseconds(1500));
    CAF_REQUIRE(user_of(7001) != nullptr);
  }
  CAF_CHECK_EQUAL(state().restarts, 3u);
  CAF_CHECK(p->sent.empty());
  CAF_CHECK(crash(7001));
  CAF_CHECK_EQUAL(state().given_up, 1u);
  CAF_CHECK_EQUAL(state().users.count(7001), 0u);
  CAF_CHECK_EQUAL(state().unacked_total, 0u);
  CAF_REQUIRE_EQUAL(p->sent.size(), 2u);
  for (auto& x : p->sent) {
    CAF_CHECK(x.text.find("ZR-ROUTER-INTERNAL") != std::string::npos);
    CAF_CHECK(x.text.find(x.request_id) != std::string::npos);
    CAF_CHECK_EQUAL(x.chat_id, 7001);
  }
  // The user is not locked out: the next message starts afresh.
  route({text_message(3, 7001, "a3")});
  CAF_REQUIRE(user_of(7001) != nullptr);
  answer(7001, "A3");
  CAF_CHECK_EQUAL(p->sent.back().text, "A3");
}

// The restart governor's backoff: 50 ms, then 100 ms (each +-20 % jitter).
CAF_TEST(restart delays double with each crash in the window) {
  route({text_message(1, 7001, "a1")});
  CAF_CHECK(crash(7001));
  wait(milliseconds(30));
  CAF_CHECK(user_of(7001) == nullptr);
  wait(milliseconds(40));
  CAF_REQUIRE(user_of(7001) != nullptr);
  CAF_CHECK(crash(7001));
  wait(milliseconds(70));
  CAF_CHECK(user_of(7001) == nullptr);
  wait(milliseconds(60));
  CAF_REQUIRE(user_of(7001) != nullptr);
  CAF_CHECK_EQUAL(state().users.at(7001).governor.backoff_step(), 2u);
  CAF_CHECK_EQUAL(state().restarts, 2u);
}

CAF_TEST(a stopped busy actor is started again with its messages) {
  route({text_message(1, 7001, "a1"), text_message(2, 7001, "a2")});
  auto before = user_of(7001);
  self->monitor(before);
  auto rh = self->request(sup, caf::infinite, stop_atom_v, int64_t{7001});
  sched.run();
  rh.receive(
    [](bool ok) {
      CAF_CHECK(ok);
    },
    [&](caf::error& e) {
      CAF_FAIL(sys.render(e));
    });
  bool down = false;
  self->receive(
    [&](const caf::down_msg& dm) {
      down = true;
      CAF_MESSAGE("stopped with " << sys.render(dm.reason));
    },
    caf::after(milliseconds(10)) >> [] {});
  CAF_CHECK(down);
  // A normal exit with unfinished messages: respawned at once.
  auto after = user_of(7001);
  CAF_REQUIRE(after != nullptr);
  CAF_CHECK(after != before);
  CAF_CHECK_EQUAL(state().restarts, 0u);
  answer(7001, "A1");
  answer(7001, "A2");
  CAF_CHECK_EQUAL(sent_texts(), (std::vector<std::string>{"A1", "A2"}));
  // Stopping an idle actor removes it; the next message spawns a new one.
  rh = self->request(sup, caf::infinite, stop_atom_v, int64_t{7001});
  sched.run();
  rh.receive(
    [](bool ok) {
      CAF_CHECK(ok);
    },
    [&](caf::error& e) {
      CAF_FAIL(sys.render(e));
    });
  CAF_CHECK_EQUAL(state().users.count(7001), 0u);
  route({text_message(3, 7001, "a3")});
  CAF_CHECK(user_of(7001) != nullptr);
}

CAF_TEST(drain waits for pending messages) {
  route({text_message(1, 7001, "a1")});
  auto rh = self->request(sup, caf::infinite, drain_atom_v,
                          caf::timespan{seconds(5)});
  sched.run();
  CAF_CHECK(state().draining);
  answer(7001, "A1");
  int64_t lowest = -1;
  rh.receive(
    [&](int64_t x) {
      lowest = x;
    },
    [&](caf::error& e) {
      CAF_FAIL(sys.render(e));
    });
  CAF_CHECK_EQUAL(lowest, 0);
}

CAF_TEST(drain answers the lowest unfinished update after the grace) {
  route({text_message(7, 7001, "a1"), text_message(5, 7002, "b1"),
         text_message(9, 7001, "a2")});
  answer(7002, "B1");
  auto rh = self->request(sup, caf::infinite, drain_atom_v,
                          caf::timespan{seconds(2)});
  sched.run();
  advance_time(seconds(2));
  sched.run();
  int64_t lowest = -1;
  rh.receive(
    [&](int64_t x) {
      lowest = x;
    },
    [&](caf::error& e) {
      CAF_FAIL(sys.render(e));
    });
  CAF_CHECK_EQUAL(lowest, 7);
}

CAF_TEST(status lists the user actors) {
  route({text_message(1, 7001, "a1"), text_message(2, 7002, "b1")});
  auto rh = self->request(sup, caf::infinite, status_atom_v);
  sched.run();
  status_node node;
  rh.receive(
    [&](status_node& x) {
      node = std::move(x);
    },
    [&](caf::error& e) {
      CAF_FAIL(sys.render(e));
    });
  CAF_CHECK_EQUAL(node.name, "user_supervisor");
  CAF_CHECK_EQUAL(node.children.size(), 2u);
  CAF_CHECK(detail_to_json(node.detail).find(R"("pending":2)")
            != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

struct journal_fixture : fixture {
  journal_fixture() : fixture(true) {
    // nop
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(user_supervisor_journal_tests, journal_fixture)

// The batch is confirmed (the poller may advance its offset) only once its
// journal write is done, but its users get their messages at once: the
// fdatasync is not on each message's way. A drain (shutdown) waits for the
// write too, so that the offset confirmed then covers every answered
// message.
CAF_TEST(users get their messages while the journal write is under way) {
  CAF_REQUIRE(state().inbox.durable());
  std::promise<void> release;
  auto released = release.get_future().share();
  state().inbox.worker()->post([released] {
    released.wait();
  });
  auto rh = self->request(sup, caf::infinite, route_atom_v,
                          inbound_batch{text_message(1, 7001, "a1"),
                                        text_message(2, 7002, "b1")});
  sched.run();
  CAF_CHECK_EQUAL(state().writing.count(1), 1u);
  CAF_REQUIRE(user_of(7001) != nullptr);
  CAF_REQUIRE(user_of(7002) != nullptr);
  CAF_CHECK_EQUAL(user_state_of(7001).current->text, "a1");
  CAF_CHECK_EQUAL(user_state_of(7002).current->text, "b1");
  // Answered before the write: the answers are recorded in the journal
  // before they go to Telegram, behind the append (one thread runs the
  // journal's tasks in order), and so are the done marks.
  answer(7001, "A1");
  answer(7002, "B1");
  CAF_CHECK(sent_texts().empty());
  CAF_CHECK_EQUAL(state().unacked_total, 2u);
  auto drain = self->request(sup, caf::infinite, drain_atom_v,
                             caf::timespan{seconds(5)});
  sched.run();
  CAF_CHECK(self->mailbox().empty()); // neither confirmed nor drained yet
  // Let the write finish and join the thread, so its acknowledgement is in
  // the mailbox before the deterministic scheduler runs again.
  release.set_value();
  state().inbox.worker()->stop();
  sched.run();
  CAF_CHECK_EQUAL(sent_texts(), (std::vector<std::string>{"A1", "B1"}));
  CAF_CHECK_EQUAL(state().unacked_total, 0u);
  bool acked = false;
  rh.receive(
    [&](ok_atom) {
      acked = true;
    },
    [&](caf::error& e) {
      CAF_FAIL(sys.render(e));
    });
  CAF_CHECK(acked);
  int64_t lowest = -1;
  drain.receive(
    [&](int64_t x) {
      lowest = x;
    },
    [&](caf::error& e) {
      CAF_FAIL(sys.render(e));
    });
  CAF_CHECK_EQUAL(lowest, 0);
  CAF_CHECK(state().writing.empty());
  CAF_CHECK_EQUAL(state().inbox.journal()->pending_count(), 2u);
}

CAF_TEST(a replay after a crash resends the recorded answer) {
  // Hold the journal, so the actor waits for its answer's record (released
  // on every way out of the test, or the worker's join would hang).
  std::promise<void> release;
  auto released = release.get_future().share();
  state().inbox.worker()->post([released] {
    released.wait();
  });
  struct releaser {
    std::promise<void>& p;
    bool done = false;
    void operator()() {
      if (!done)
        p.set_value();
      done = true;
    }
    ~releaser() {
      (*this)();
    }
  } unblock{release};
  self->request(sup, caf::infinite, route_atom_v,
                inbound_batch{text_message(1, 7001, "a1")});
  sched.run();
  answer(7001, "A1");
  CAF_CHECK(sent_texts().empty());
  CAF_REQUIRE_EQUAL(state().users.at(7001).unacked.size(), 1u);
  auto& copy = state().users.at(7001).unacked.at(0);
  CAF_CHECK(copy.answered);
  CAF_CHECK_EQUAL(copy.answer, "A1");
  // The actor dies before Telegram got the answer.
  CAF_CHECK(crash(7001));
  wait(milliseconds(100));
  // The restarted actor sends the recorded answer, without a gateway call.
  auto& us = user_state_of(7001);
  CAF_CHECK(!us.current);
  CAF_CHECK_EQUAL(us.attempt, 0u);
  CAF_CHECK_EQUAL(sent_texts(), (std::vector<std::string>{"A1"}));
  CAF_CHECK_EQUAL(state().unacked_total, 0u);
  unblock();
  state().inbox.worker()->stop();
  sched.run();
  CAF_CHECK_EQUAL(sent_texts(), (std::vector<std::string>{"A1"}));
}

CAF_TEST_FIXTURE_SCOPE_END()
