#pragma once

#include <cstdint>
#include <string>

#include <caf/fwd.hpp>

#include "gateway/codec.hpp"

namespace zaki {

/// Tells the store about one answered message: one request and the token
/// usage the gateway reported, and (when `transcripts`) the user's text and
/// the final answer. Fire and forget: the user actor never waits for the
/// database.
void record_answer(caf::actor_system& sys, bool transcripts, int64_t user_id,
                   const std::string& request_id, const std::string& question,
                   const gateway_answer& answer);

} // namespace zaki
