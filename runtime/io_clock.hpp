#pragma once

#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <caf/detail/simple_actor_clock.hpp>

namespace zaki {

/// CAF's actor clock (timeouts, delayed messages) on one Asio timer of the
/// io_context, for the io_scheduler. CAF's own clock runs a thread that
/// every new timeout wakes up, and whose 64-slot queue makes the setter
/// wait for that thread when a burst of users arms their timers at once.
/// Here a timeout costs a map insert under a mutex; the Asio timer is only
/// re-armed when the earliest deadline moves up, and expired timeouts are
/// delivered from the io_context, as any other completion.
///
/// Thread-safe: actors on I/O threads and blocking actors on other threads
/// (scoped_actor) set timeouts alike.
class io_clock : public caf::detail::simple_actor_clock {
public:
  using super = caf::detail::simple_actor_clock;

  explicit io_clock(boost::asio::io_context& ioc);

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                            caf::atom_value type, uint64_t id) override;

  void set_multi_timeout(time_point t, caf::abstract_actor* self,
                         caf::atom_value type, uint64_t id) override;

  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override;

  void cancel_ordinary_timeout(caf::abstract_actor* self,
                               caf::atom_value type) override;

  void cancel_request_timeout(caf::abstract_actor* self,
                              caf::message_id id) override;

  void cancel_timeouts(caf::abstract_actor* self) override;

  void schedule_message(time_point t, caf::strong_actor_ptr receiver,
                        caf::mailbox_element_ptr content) override;

  void schedule_message(time_point t, caf::group target,
                        caf::strong_actor_ptr sender,
                        caf::message content) override;

  void cancel_all() override;

  /// Drops every pending timeout and stops the timer (shutdown).
  void stop();

private:
  /// Arms the timer for the earliest deadline if it would fire later.
  /// Requires `mtx_`.
  void rearm();

  void on_timer(const boost::system::error_code& ec);

  std::mutex mtx_;
  boost::asio::steady_timer timer_;
  /// Expiry of the pending wait; time_point::max() when none is pending.
  time_point armed_at_ = time_point::max();
  bool stopped_ = false;
};

} // namespace zaki
