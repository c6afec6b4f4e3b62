#pragma once

#include <utility>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/spawn_options.hpp>

namespace zaki {

/// Runs `work` on a thread of its own and hands its result to `then`
/// inside `self`, so that file system work (removing a user's data, a
/// sweep, a reload) never blocks the threads the actors run on. Each call
/// is one short-lived detached actor: meant for rare work, not for every
/// message. `work` must return a type CAF can put into a message and must
/// not touch `self`.
template <class Self, class Work, class Then>
void off_thread(Self* self, Work work, Then then) {
  using result_type = decltype(work());
  auto worker = self->system().template spawn<caf::detached>(
    [work = std::move(work)](caf::event_based_actor* w) -> caf::behavior {
      return {
        [w, work](caf::get_atom) -> result_type {
          w->quit();
          return work();
        },
      };
    });
  // The worker only fails if the system goes down; then nobody waits.
  self->request(worker, caf::infinite, caf::get_atom_v)
    .then(std::move(then), [](caf::error&) {});
}

} // namespace zaki
