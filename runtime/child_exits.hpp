#pragma once

#include <utility>

#include <caf/exit_reason.hpp>
#include <caf/system_messages.hpp>

namespace zaki {

/// Installs the exit handler of a supervisor whose state maps its children's
/// addresses to keys in `by_addr`: the exit of a child is taken out of the
/// map and goes to `on_child_exit(key, reason)`; any other exit (the
/// parent's, an operator's) stops the supervisor with the same reason, and
/// its linked children go with it.
template <class Self, class OnChildExit>
void set_child_exit_handler(Self self, OnChildExit on_child_exit) {
  self->set_exit_handler(
    [self, f = std::move(on_child_exit)](caf::exit_msg& msg) {
      auto& children = self->state.by_addr;
      auto i = children.find(msg.source);
      if (i == children.end()) {
        self->quit(msg.reason);
        return;
      }
      auto key = i->second;
      children.erase(i);
      f(key, msg.reason);
    });
}

} // namespace zaki
