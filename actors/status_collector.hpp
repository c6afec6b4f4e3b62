#pragma once

#include <memory>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "messages/interfaces.hpp"

namespace zaki {

/// A child to report in a status tree: a live actor to ask, or a node
/// synthesized by the supervisor (restarting or stopped children).
struct status_child {
  status_client_actor handle;
  uint32_t restarts = 0;
  status_node fallback;
};

/// Asks every live child for its status (in parallel, 5 s each) and
/// answers `node` with the children's nodes attached, in the given order.
/// A child that does not answer appears as "unresponsive".
template <class Self>
caf::typed_response_promise<status_node>
collect_status(Self* self, status_node node, std::vector<status_child> kids) {
  struct pending {
    caf::typed_response_promise<status_node> rp;
    status_node node;
    size_t missing = 0;
  };
  auto state = std::make_shared<pending>();
  state->rp = self->template make_response_promise<status_node>();
  state->node = std::move(node);
  state->node.children.resize(kids.size());
  for (size_t i = 0; i < kids.size(); ++i)
    if (!kids[i].handle)
      state->node.children[i] = std::move(kids[i].fallback);
    else
      ++state->missing;
  if (state->missing == 0) {
    state->rp.deliver(state->node);
    return state->rp;
  }
  for (size_t i = 0; i < kids.size(); ++i) {
    if (!kids[i].handle)
      continue;
    auto restarts = kids[i].restarts;
    auto fallback_name = std::move(kids[i].fallback.name);
    self->request(kids[i].handle, std::chrono::seconds(5), status_atom_v)
      .then(
        [state, i, restarts](status_node child) {
          child.restarts = std::max(child.restarts, restarts);
          state->node.children[i] = std::move(child);
          if (--state->missing == 0)
            state->rp.deliver(state->node);
        },
        [state, i, restarts, fallback_name](caf::error&) {
          auto& child = state->node.children[i];
          child.name = fallback_name.empty() ? "unknown" : fallback_name;
          child.state = "unresponsive";
          child.restarts = restarts;
          if (--state->missing == 0)
            state->rp.deliver(state->node);
        });
  }
  return state->rp;
}

} // namespace zaki
