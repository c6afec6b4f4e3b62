#include "runtime/io_clock.hpp"

namespace zaki {

io_clock::io_clock(boost::asio::io_context& ioc) : timer_(ioc) {
  // nop
}

void io_clock::set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                                    caf::atom_value type, uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  super::set_ordinary_timeout(t, self, type, id);
  rearm();
}

void io_clock::set_multi_timeout(time_point t, caf::abstract_actor* self,
                                 caf::atom_value type, uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  super::set_multi_timeout(t, self, type, id);
  rearm();
}

void io_clock::set_request_timeout(time_point t, caf::abstract_actor* self,
                                   caf::message_id id) {
  std::lock_guard<std::mutex> guard{mtx_};
  super::set_request_timeout(t, self, id);
  rearm();
}

// A cancellation never moves the earliest deadline up: a timer that then
// fires early finds nothing expired and re-arms for what is left.

void io_clock::cancel_ordinary_timeout(caf::abstract_actor* self,
                                       caf::atom_value type) {
  std::lock_guard<std::mutex> guard{mtx_};
  super::cancel_ordinary_timeout(self, type);
}

void io_clock::cancel_request_timeout(caf::abstract_actor* self,
                                      caf::message_id id) {
  std::lock_guard<std::mutex> guard{mtx_};
  super::cancel_request_timeout(self, id);
}

void io_clock::cancel_timeouts(caf::abstract_actor* self) {
  std::lock_guard<std::mutex> guard{mtx_};
  super::cancel_timeouts(self);
}

void io_clock::schedule_message(time_point t, caf::strong_actor_ptr receiver,
                                caf::mailbox_element_ptr content) {
  std::lock_guard<std::mutex> guard{mtx_};
  super::schedule_message(t, std::move(receiver), std::move(content));
  rearm();
}

void io_clock::schedule_message(time_point t, caf::group target,
                                caf::strong_actor_ptr sender,
                                caf::message content) {
  std::lock_guard<std::mutex> guard{mtx_};
  super::schedule_message(t, std::move(target), std::move(sender),
                          std::move(content));
  rearm();
}

void io_clock::cancel_all() {
  std::lock_guard<std::mutex> guard{mtx_};
  super::cancel_all();
}

void io_clock::stop() {
  std::lock_guard<std::mutex> guard{mtx_};
  stopped_ = true;
  super::cancel_all();
  timer_.cancel();
  armed_at_ = time_point::max();
}

void io_clock::rearm() {
  if (stopped_ || schedule().empty())
    return;
  auto due = schedule().begin()->first;
  if (due >= armed_at_)
    return;
  armed_at_ = due;
  // Replacing the expiry cancels the pending wait (its handler sees
  // operation_aborted and leaves the timer to this one).
  timer_.expires_at(due);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    on_timer(ec);
  });
}

void io_clock::on_timer(const boost::system::error_code& ec) {
  if (ec == boost::asio::error::operation_aborted)
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  armed_at_ = time_point::max();
  if (stopped_)
    return;
  // Delivering only enqueues messages; no actor runs under the lock.
  trigger_expired_timeouts();
  rearm();
}

} // namespace zaki
