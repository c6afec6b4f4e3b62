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
  caf::anon_send(store, usage_atom_v, u);
  if (!transcripts)
    return;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  transcript_entry in{user_id, now, "in", question, request_id};
  caf::anon_send(store, transcript_atom_v, std::move(in));
  transcript_entry out{user_id, now, "out", answer.content, request_id};
  caf::anon_send(store, transcript_atom_v, std::move(out));
}

} // namespace zaki
