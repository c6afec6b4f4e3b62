#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/execution_unit.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include "runtime/config.hpp"
#include "runtime/io_clock.hpp"
#include "runtime/io_runtime.hpp"

namespace zaki {

/// A CAF scheduler that runs the actors on the io_runtime's threads
/// (`scheduler.policy=io`, the default). A message then goes from a socket
/// through its actor and back to a socket on one thread: no hand-off to a
/// CAF worker that has to be woken up and no wake-up of the I/O thread when
/// the actor starts the next operation. On a 2-core machine these wake-ups
/// were most of the router's cost per message (benches/README.md).
///
/// Actors still never touch sockets and I/O handlers still only send
/// messages (ARCHITECTURE.md, "Threads and I/O"); what changes is only
/// which thread runs a ready actor. Ready actors wait in one queue that one
/// posted handler at a time drains, so actors run one at a time even with
/// several I/O threads. A turn runs the actors that were ready when it
/// began; actors they wake up wait for the next turn, so sockets get theirs
/// in between. Timeouts and delayed messages run on an Asio timer of the
/// same threads (io_clock), not on a clock thread of their own.
///
/// The scheduler owns the end of the I/O threads: while it runs,
/// io_runtime::stop() leaves them running so the actors can finish, and the
/// scheduler stops them once the actor system has no actor left.
class io_scheduler : public caf::scheduler::abstract_coordinator {
public:
  using super = caf::scheduler::abstract_coordinator;

  io_scheduler(caf::actor_system& sys, io_runtime& io);

  ~io_scheduler() override;

  /// Queues a ready actor (any thread).
  void enqueue(caf::resumable* job) override;

  /// The printer must not depend on the I/O threads (it prints while the
  /// scheduler stops).
  bool detaches_utility_actors() const override {
    return true;
  }

  io_clock& clock() noexcept override {
    return clock_;
  }

protected:
  void stop() override;

private:
  /// What a running actor sees as its execution unit: actors it wakes up
  /// join the same queue.
  class unit : public caf::execution_unit {
  public:
    unit(caf::actor_system* sys, io_scheduler* parent)
      : caf::execution_unit(sys), parent_(parent) {
      // nop
    }

    void exec_later(caf::resumable* job) override {
      parent_->enqueue(job);
    }

  private:
    io_scheduler* parent_;
  };

  /// One turn on an I/O thread: runs the actors that are ready now.
  void drain();

  /// Resumes one actor and keeps or drops its reference.
  void run(caf::resumable* job);

  void post_drain();

  io_runtime& io_;
  unit unit_;
  io_clock clock_;
  std::mutex mtx_;
  /// Ready actors, each holding the reference its enqueuer added.
  std::vector<caf::resumable*> ready_;
  /// The turn being run (touched by the draining thread only).
  std::vector<caf::resumable*> turn_;
  /// A drain is posted or running.
  bool draining_ = false;
  /// Set by stop(): nothing runs any more, late jobs are released at once.
  bool stopped_ = false;
};

/// Returns whether `cfg` asks for the io scheduler.
bool uses_io_scheduler(const config& cfg);

/// Creates the actor system of `cfg`, with the io scheduler on `io` when
/// `scheduler.policy` is `io`. `io` must outlive the system.
std::unique_ptr<caf::actor_system> make_actor_system(config& cfg,
                                                     io_runtime& io);

} // namespace zaki
