#pragma once

#include <cstdint>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "http/client.hpp"
#include "messages/atoms.hpp"

namespace zaki {

/// Returns an HTTP completion callback that sends `(internal, httpDone, seq,
/// result)` to the actor behind `self`. It holds only the actor's address,
/// so a finished actor is not kept alive and the result is dropped; it never
/// touches actor state (it runs on an I/O thread).
template <class Handle, class Self>
http_client::callback reply_to(Self* self, uint64_t seq) {
  auto addr = self->address();
  return [addr, seq](http_result res) {
    if (auto hdl = caf::actor_cast<Handle>(addr))
      caf::anon_send(hdl, internal_atom_v, http_done_atom_v, seq,
                     std::move(res));
  };
}

} // namespace zaki
