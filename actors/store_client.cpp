#include "actors/store_client.hpp"

#include <algorithm>
#include <chrono>

#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "messages/interfaces.hpp"

namespace zaki {

void record_answer(caf::actor_system& sys, bool transcripts, int64_t user_id,
                   const std::string& request_id, const std::string& question,
                   const gateway_answer& answer) {
  auto store = sys.registry().get<store_actor>(names::store);
  if (!store)
    return;
  usage_record u;
  u.user_id = user_id;
  u.requests = 1;
  u.prompt_tokens = std::max<int64_t>(answer.prompt_tokens, 0);
  u.completion_tokens = std::max<int64_t>(answer.completion_tokens, 0);
  if (!transcripts) {
    caf::anon_send(store, usage_atom_v, u);
    return;
  }
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  // One message for the three records: each message to the store actor may
  // wake a scheduler thread.
  caf::anon_send(store, usage_atom_v, u,
                 transcript_entry{user_id, now, "in", question, request_id},
                 transcript_entry{user_id, now, "out", answer.content,
                                  request_id});
}

} // namespace zaki
