#define CAF_SUITE chat.user_session
#include "caf/test/unit_test.hpp"

#include "chat/user_session.hpp"

// The deadlines of one user's session with time passed in: which one the
// actor's single timer is armed for, what a tick does, and that a tick
// does each thing once.

using namespace zaki;
using namespace std::chrono;

namespace {

using moment = user_session::time_point;

const moment t0 = moment{} + hours(1);
const auto idle_timeout = duration_cast<user_session::duration>(minutes(10));

struct fixture {
  user_session s;

  fixture() {
    s.idle_since = t0;
  }

  std::optional<moment> next(bool has_current, bool queue_empty = true) {
    return s.next_deadline(has_current, queue_empty, idle_timeout);
  }

  user_session::due_work tick(moment now, bool has_current,
                              bool queue_empty = true) {
    return s.take_due(now, has_current, queue_empty, idle_timeout);
  }
};

bool nothing(const user_session::due_work& w) {
  return !w.release_lock && !w.idle_stop && !w.start_next && !w.setup_notice
    && !w.lookup_timeout && !w.working_notice && !w.typing;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(user_session_tests, fixture)

CAF_TEST(phase names) {
  CAF_CHECK_EQUAL(to_string(user_phase::idle), "idle");
  CAF_CHECK_EQUAL(to_string(user_phase::calling), "calling");
  CAF_CHECK_EQUAL(to_string(user_phase::backoff), "backoff");
  CAF_CHECK_EQUAL(to_string(user_phase::replying), "replying");
  CAF_CHECK_EQUAL(to_string(user_phase::fetching), "fetching");
}

CAF_TEST(an idle session stops after the idle timeout) {
  CAF_CHECK(next(false) == t0 + idle_timeout);
  CAF_CHECK(nothing(tick(t0 + minutes(9), false)));
  CAF_CHECK(tick(t0 + idle_timeout, false).idle_stop);
  // Queued messages (waiting for the rate) keep it alive.
  CAF_CHECK(!tick(t0 + hours(2), false, false).idle_stop);
  CAF_CHECK(next(false, false) == std::nullopt);
}

CAF_TEST(the rate token starts the front of the queue once) {
  s.rate_due = t0 + seconds(2);
  CAF_CHECK(next(false, false) == t0 + seconds(2));
  CAF_CHECK(nothing(tick(t0 + seconds(1), false, false)));
  auto w = tick(t0 + seconds(2), false, false);
  CAF_CHECK(w.start_next);
  CAF_CHECK(!w.idle_stop);
  CAF_CHECK(!tick(t0 + seconds(2), false, false).start_next);
  CAF_CHECK(!s.rate_due);
}

CAF_TEST(a slow lookup sends the setup notice then gives up) {
  s.lookup_started(t0 + seconds(30), t0 + seconds(3));
  CAF_CHECK_EQUAL(to_string(s.phase), "lookup");
  CAF_CHECK(next(true) == t0 + seconds(3));
  auto w = tick(t0 + seconds(3), true);
  CAF_CHECK(w.setup_notice);
  CAF_CHECK(!w.lookup_timeout);
  // The notice went out once; the deadline is next.
  CAF_CHECK(next(true) == t0 + seconds(30));
  CAF_CHECK(nothing(tick(t0 + seconds(4), true)));
  w = tick(t0 + seconds(30), true);
  CAF_CHECK(w.lookup_timeout);
  CAF_CHECK(!w.setup_notice);
  CAF_CHECK(!s.lookup_pending);
  CAF_CHECK(nothing(tick(t0 + seconds(31), true)));
}

CAF_TEST(a notice and the deadline due together both happen) {
  s.lookup_started(t0 + seconds(2), t0 + seconds(1));
  auto w = tick(t0 + seconds(5), true);
  CAF_CHECK(w.setup_notice);
  CAF_CHECK(w.lookup_timeout);
}

CAF_TEST(typing and the working notice only while the gateway works) {
  s.phase = user_phase::calling;
  s.typing_due = t0 + seconds(1);
  s.working_notice_due = t0 + seconds(20);
  CAF_CHECK(next(true) == t0 + seconds(1));
  auto w = tick(t0 + seconds(1), true);
  CAF_CHECK(w.typing);
  CAF_CHECK(!s.typing_due); // the actor sets the next one
  CAF_CHECK(next(true) == t0 + seconds(20));
  s.typing_due = t0 + seconds(25);
  w = tick(t0 + seconds(20), true);
  CAF_CHECK(w.working_notice);
  CAF_CHECK(!w.typing);
  CAF_CHECK(!tick(t0 + seconds(21), true).working_notice);
  // Replying: the answer is there, nothing more to say meanwhile.
  s.phase = user_phase::replying;
  CAF_CHECK(next(true) == std::nullopt);
  CAF_CHECK(nothing(tick(t0 + seconds(30), true)));
}

CAF_TEST(the lingering lock is released also while idle) {
  s.lock_release_due = t0 + seconds(5);
  CAF_CHECK(next(false) == t0 + seconds(5));
  auto w = tick(t0 + seconds(5), false);
  CAF_CHECK(w.release_lock);
  CAF_CHECK(!w.idle_stop);
  CAF_CHECK(next(false) == t0 + idle_timeout);
}

CAF_TEST(a finished message resets its deadlines) {
  s.lookup_started(t0 + seconds(30), t0 + seconds(3));
  s.phase = user_phase::calling;
  s.typing_due = t0 + seconds(1);
  s.working_notice_due = t0 + seconds(20);
  s.working_notice_sent = true;
  s.message_finished(t0 + seconds(8));
  CAF_CHECK_EQUAL(to_string(s.phase), "idle");
  CAF_CHECK(!s.lookup_pending);
  CAF_CHECK(!s.typing_due);
  CAF_CHECK(!s.working_notice_due);
  CAF_CHECK(!s.working_notice_sent);
  CAF_CHECK(next(false) == t0 + seconds(8) + idle_timeout);
}

CAF_TEST(one timer serves every deadline it precedes) {
  CAF_CHECK(s.needs_timer(t0 + seconds(5)));
  // A later deadline is served by the armed timer (it re-arms).
  CAF_CHECK(!s.needs_timer(t0 + seconds(9)));
  CAF_CHECK(!s.needs_timer(t0 + seconds(5)));
  // An earlier one needs its own.
  CAF_CHECK(s.needs_timer(t0 + seconds(2)));
  s.timer_fired(t0 + seconds(2));
  CAF_CHECK(!s.needs_timer(t0 + seconds(9)));
  s.timer_fired(t0 + seconds(5));
  CAF_CHECK(s.needs_timer(t0 + seconds(9)));
}

CAF_TEST_FIXTURE_SCOPE_END()
