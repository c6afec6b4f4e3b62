#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "access/policy.hpp"
#include "messages/interfaces.hpp"
#include "runtime/context.hpp"

namespace zaki {

/// A stranger waiting for an admin's decision.
struct access_request {
  /// Names this request in the Approve/Reject buttons.
  std::string nonce;
  int64_t chat_id = 0;
  int64_t requested_at = 0;
  /// The approval messages sent to the admins: (admin chat, message id),
  /// edited once the request is decided.
  std::vector<std::pair<int64_t, int64_t>> notices;
};

/// State of the ACCESS actor: the policy, the admins and the pending list.
/// Decisions live in the store; this keeps only what is waiting.
struct access_state {
  static inline const char* name = "access";
  context_ptr ctx;
  access_policy policy = access_policy::approval;
  std::vector<int64_t> admins;
  /// Pending users (bounded by `access.max-pending`).
  std::unordered_map<int64_t, access_request> pending;
  /// Open button nonces, by nonce.
  std::unordered_map<std::string, int64_t> nonces;
  /// Nonces decided already, with what happened (a second press says so).
  std::unordered_map<std::string, std::string> used;
  /// Rejected users told so already (they are told once).
  std::unordered_set<int64_t> told_rejected;
  uint64_t admitted = 0;
  uint64_t held = 0;
  uint64_t refused = 0;
  uint64_t decisions = 0;
  uint64_t forged = 0;
};

/// Returns whether `user_id` is one of the admins.
bool is_admin(const access_state& st, int64_t user_id);

/// Spawns the access actor (registered as names::access by the root).
access_actor::behavior_type
access(access_actor::stateful_pointer<access_state> self, context_ptr ctx);

} // namespace zaki
