#include "runtime/io_scheduler.hpp"

#include <boost/asio/post.hpp>
#include <caf/resumable.hpp>
#include <caf/settings.hpp>

namespace zaki {

io_scheduler::io_scheduler(caf::actor_system& sys, io_runtime& io)
  : super(sys), io_(io), unit_(&sys, this), clock_(io.context()) {
  io_.host_actors();
}

io_scheduler::~io_scheduler() {
  // A system that never started (or a stop that did not run) must not leave
  // the I/O threads waiting for a release.
  io_.release_actors();
  for (auto* job : ready_)
    cleanup_and_release(job);
}

void io_scheduler::enqueue(caf::resumable* job) {
  bool post = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!stopped_) {
      ready_.push_back(job);
      post = !draining_;
      draining_ = true;
      job = nullptr;
    }
  }
  if (job != nullptr) {
    // Late message after stop: nobody will run the actor again.
    cleanup_and_release(job);
    return;
  }
  if (post)
    post_drain();
}

void io_scheduler::post_drain() {
  boost::asio::post(io_.context(), [this] {
    drain();
  });
}

void io_scheduler::drain() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    turn_.swap(ready_);
  }
  for (auto* job : turn_)
    run(job);
  turn_.clear();
  bool again = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    again = !ready_.empty() && !stopped_;
    draining_ = again;
  }
  if (again)
    post_drain();
}

void io_scheduler::run(caf::resumable* job) {
  switch (job->resume(&unit_, max_throughput_)) {
    case caf::resumable::resume_later:
      // Its mailbox still has messages: it keeps its reference and queues
      // behind the actors that are ready now.
      enqueue(job);
      break;
    case caf::resumable::awaiting_message:
    case caf::resumable::done:
    case caf::resumable::shutdown_execution_unit:
      intrusive_ptr_release(job);
      break;
  }
}

void io_scheduler::stop() {
  // The actor system has no actor left (it waited for them), so no timeout
  // is needed any more.
  clock_.stop();
  stop_actors();
  io_.release_actors();
  std::vector<caf::resumable*> left;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopped_ = true;
    left.swap(ready_);
  }
  for (auto* job : left)
    cleanup_and_release(job);
}

bool uses_io_scheduler(const config& cfg) {
  return caf::get_or(cfg, "scheduler.policy", caf::atom("stealing"))
    == caf::atom("io");
}

std::unique_ptr<caf::actor_system> make_actor_system(config& cfg,
                                                     io_runtime& io) {
  if (!uses_io_scheduler(cfg))
    return std::make_unique<caf::actor_system>(cfg);
  cfg.module_factories.push_back(
    [&io](caf::actor_system& sys) -> caf::actor_system::module* {
      return new io_scheduler(sys, io);
    });
  std::unique_ptr<caf::actor_system> sys;
  try {
    sys = std::make_unique<caf::actor_system>(cfg);
  } catch (...) {
    cfg.module_factories.pop_back();
    throw;
  }
  // The factory captured `io`; a later system of the same config decides
  // for itself.
  cfg.module_factories.pop_back();
  return sys;
}

} // namespace zaki
