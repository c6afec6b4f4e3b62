#include "chat/user_session.hpp"

#include <algorithm>

namespace zaki {

std::string to_string(user_phase phase) {
  switch (phase) {
    case user_phase::idle: return "idle";
    case user_phase::access: return "access";
    case user_phase::held: return "held";
    case user_phase::lookup: return "lookup";
    case user_phase::fetching: return "fetching";
    case user_phase::budget: return "budget";
    case user_phase::locking: return "locking";
    case user_phase::calling: return "calling";
    case user_phase::backoff: return "backoff";
    case user_phase::replying: return "replying";
  }
  return "unknown";
}

void user_session::lookup_started(time_point deadline,
                                  std::optional<time_point> notice) {
  phase = user_phase::lookup;
  lookup_pending = true;
  lookup_deadline = deadline;
  notice_due = notice;
  setup_notice_sent = false;
  typing_due.reset();
}

void user_session::message_finished(time_point now) {
  phase = user_phase::idle;
  lookup_pending = false;
  notice_due.reset();
  typing_due.reset();
  working_notice_due.reset();
  working_notice_sent = false;
  idle_since = now;
}

std::optional<user_session::time_point>
user_session::next_deadline(bool has_current, bool queue_empty,
                            duration idle_timeout) const {
  std::optional<time_point> need;
  auto consider = [&need](time_point t) {
    if (!need || t < *need)
      need = t;
  };
  if (lock_release_due)
    consider(*lock_release_due);
  if (has_current) {
    if (lookup_pending) {
      consider(lookup_deadline);
      if (notice_due && !setup_notice_sent)
        consider(*notice_due);
    }
    if (gateway_working()) {
      if (typing_due)
        consider(*typing_due);
      if (working_notice_due && !working_notice_sent)
        consider(*working_notice_due);
    }
  } else if (queue_empty) {
    consider(idle_since + idle_timeout);
  } else if (rate_due) {
    consider(*rate_due);
  }
  return need;
}

user_session::due_work user_session::take_due(time_point now, bool has_current,
                                              bool queue_empty,
                                              duration idle_timeout) {
  due_work work;
  if (lock_release_due && now >= *lock_release_due) {
    lock_release_due.reset();
    work.release_lock = true;
  }
  if (!has_current) {
    if (rate_due && now >= *rate_due) {
      rate_due.reset();
      work.start_next = true;
    } else if (queue_empty && now - idle_since >= idle_timeout) {
      work.idle_stop = true;
    }
    return work;
  }
  if (lookup_pending) {
    if (notice_due && !setup_notice_sent && now >= *notice_due) {
      setup_notice_sent = true;
      work.setup_notice = true;
    }
    if (now >= lookup_deadline) {
      // As a request timeout would: the late answer is ignored.
      lookup_pending = false;
      work.lookup_timeout = true;
      return work;
    }
  }
  if (!gateway_working())
    return work;
  if (working_notice_due && !working_notice_sent
      && now >= *working_notice_due) {
    working_notice_sent = true;
    work.working_notice = true;
  }
  if (typing_due && now >= *typing_due) {
    typing_due.reset();
    work.typing = true;
  }
  return work;
}

bool user_session::needs_timer(time_point due) {
  if (std::any_of(timers_.begin(), timers_.end(), [due](time_point t) {
        return t <= due;
      }))
    return false;
  timers_.push_back(due);
  return true;
}

void user_session::timer_fired(time_point due) {
  if (auto i = std::find(timers_.begin(), timers_.end(), due);
      i != timers_.end())
    timers_.erase(i);
}

} // namespace zaki
