#define CAF_SUITE actors.off_thread

#include "actors/off_thread.hpp"

#include "caf/test/unit_test.hpp"

#include <sstream>
#include <thread>

#include <caf/all.hpp>

// off_thread on the real scheduler: the work runs on a thread other than
// the calling actor's, and its result comes back into the actor.

using namespace zaki;

namespace {

using thread_id_text = std::string;

thread_id_text this_thread() {
  std::ostringstream out;
  out << std::this_thread::get_id();
  return out.str();
}

caf::behavior caller(caf::event_based_actor* self, caf::actor reply_to) {
  return {
    [self, reply_to](caf::get_atom) {
      auto mine = this_thread();
      off_thread(
        self,
        [] {
          return this_thread();
        },
        [self, reply_to, mine](const std::string& theirs) {
          // Back in the actor: its own thread, and the state is reachable.
          self->send(reply_to, mine, theirs, this_thread());
        });
    },
  };
}

} // namespace

CAF_TEST(work runs on a thread of its own and reports back to the actor) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto a = sys.spawn(caller, caf::actor{self});
  self->send(a, caf::get_atom_v);
  bool received = false;
  self->receive(
    [&](const std::string& caller_thread, const std::string& worker_thread,
        const std::string& callback_thread) {
      received = true;
      CAF_CHECK_NOT_EQUAL(worker_thread, caller_thread);
      CAF_CHECK_NOT_EQUAL(worker_thread, callback_thread);
    },
    caf::after(std::chrono::seconds(30)) >> [] {});
  CAF_CHECK(received);
  self->send_exit(a, caf::exit_reason::user_shutdown);
}
