#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zaki {

/// Where a user's current message is (the user actor's phase; the admin
/// API and the logs show it by name).
enum class user_phase : uint8_t {
  /// Nothing in progress.
  idle,
  /// Asking the access actor whether the user may use the bot.
  access,
  /// Held until an admin decides (approval policy).
  held,
  /// Looking the user's gateway up (provisioner or store).
  lookup,
  /// Downloading the photo or file of the message.
  fetching,
  /// Telling the user that the day's token budget is spent.
  budget,
  /// Waiting for the session lock.
  locking,
  /// The gateway is answering.
  calling,
  /// Waiting before the next gateway attempt.
  backoff,
  /// Sending the answer to the chat.
  replying,
};

/// Returns the phase's name ("idle", "calling", ...).
std::string to_string(user_phase phase);

/// The deadlines of one user's session: those of the current message (the
/// setup notice and the lookup's deadline, "typing" and the "still
/// working" notice while the gateway works), the lingering session lock,
/// the rate limit's next token for the front of the queue and the idle
/// stop. The user actor keeps one and arms a single timer for the earliest
/// deadline (`next_deadline`); when it fires, `take_due` says what to do.
///
/// Pure: time is passed in (the actor clock, the test coordinator's in
/// tests), so every deadline is tested without waiting.
class user_session {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  /// What a tick must do, in the order of the fields. Only the first of
  /// `idle_stop` and `start_next` can be set, and `lookup_timeout`
  /// excludes the notices and "typing" after it (the message fails).
  struct due_work {
    /// Release the session lock kept since the last exchange.
    bool release_lock = false;
    /// Stop the actor: nothing in flight nor queued for the idle timeout.
    bool idle_stop = false;
    /// A rate token for the message at the front of the queue.
    bool start_next = false;
    /// Tell the user their assistant is being set up (a slow lookup).
    bool setup_notice = false;
    /// The lookup gave up: the message fails as on a request timeout.
    bool lookup_timeout = false;
    /// Tell the user the assistant is still working.
    bool working_notice = false;
    /// Send "typing" (and set the next one with `typing_sent`).
    bool typing = false;
  };

  user_phase phase = user_phase::idle;

  /// When the session lock, kept after an exchange for `lock.linger`, is
  /// released unless the next exchange took it over.
  std::optional<time_point> lock_release_due;
  /// The lookup of the current message is pending; when it gives up, and
  /// when the setup notice goes out (only with a provisioner).
  bool lookup_pending = false;
  time_point lookup_deadline;
  std::optional<time_point> notice_due;
  bool setup_notice_sent = false;
  /// Next "typing" while the gateway works (calling, backoff).
  std::optional<time_point> typing_due;
  /// When the "still working" notice goes out, and whether it went out for
  /// the current message.
  std::optional<time_point> working_notice_due;
  bool working_notice_sent = false;
  /// When the next rate token lets the front of the queue go; empty while
  /// nothing waits for the rate.
  std::optional<time_point> rate_due;
  /// Since when nothing is in flight nor queued.
  time_point idle_since;

  /// Returns whether the gateway works on the current message (the phases
  /// in which "typing" and the "still working" notice are due).
  bool gateway_working() const {
    return phase == user_phase::calling || phase == user_phase::backoff;
  }

  /// Starts a lookup at `now` that gives up at `deadline`, with the setup
  /// notice due at `notice` if set.
  void lookup_started(time_point deadline, std::optional<time_point> notice);

  /// The current message is done (handled, failed or dropped) at `now`:
  /// back to idle, its deadlines cleared.
  void message_finished(time_point now);

  /// Returns the earliest deadline ahead that needs a timer, if any.
  /// `has_current`: a message is in progress; `queue_empty`: none waits.
  std::optional<time_point> next_deadline(bool has_current, bool queue_empty,
                                          duration idle_timeout) const;

  /// Returns what is due at `now` and marks it done (notices sent, fired
  /// deadlines cleared), so a second call at the same time returns nothing.
  due_work take_due(time_point now, bool has_current, bool queue_empty,
                    duration idle_timeout);

  /// Returns whether a timer must be armed for `due`: false when one armed
  /// already fires by then (it asks `next_deadline` again when it fires).
  /// A true answer records the timer.
  bool needs_timer(time_point due);

  /// Forgets the timer armed for `due` (it fired).
  void timer_fired(time_point due);

private:
  /// Due times of the timers armed and not fired yet.
  std::vector<time_point> timers_;
};

} // namespace zaki
