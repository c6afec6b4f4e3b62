#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zaki {

// Who may use the bot (issue 23). The decision is pure: the access actor
// feeds it what the store knows of a user and acts on the verdict, so every
// rule is tested without actors.

/// `access.policy`: how strangers are treated.
enum class access_policy : uint8_t {
  /// Everyone gets an assistant (the behaviour before issue 23).
  open,
  /// A stranger's first message asks the admins; later ones are held.
  approval,
  /// Only users an admin approved (or that have a container) may write.
  allowlist,
  /// Only users approved already; nobody new.
  closed,
};

/// Parses "open", "approval", "allowlist" or "closed".
std::optional<access_policy> parse_access_policy(std::string_view text);

/// Returns the option text of `x`.
const char* to_string(access_policy x);

/// What the store knows of a user's access.
enum class access_status : uint8_t {
  /// No decision and no container: a stranger.
  unknown,
  /// Asked, waiting for an admin.
  pending,
  approved,
  rejected,
  /// Approved once, then revoked by an admin (container stopped, data kept).
  revoked,
};

/// Parses a status as stored ("pending", ...); anything else is unknown.
access_status parse_access_status(std::string_view text);

/// Returns the stored text of `x` ("" for unknown).
const char* to_string(access_status x);

/// Parses `access.admins`: Telegram user ids separated by commas (blanks
/// allowed, empty list allowed). Returns nullopt and sets `bad` to the
/// offending item for anything that is not a positive id.
std::optional<std::vector<int64_t>> parse_admin_ids(std::string_view text,
                                                    std::string& bad);

/// What happens to a message of a user.
enum class admission : uint8_t {
  /// Goes on to the container and gateway.
  admit,
  /// A stranger under `approval`: registered as pending, admins asked,
  /// message held.
  ask_admins,
  /// Pending already: message held.
  hold,
  /// The pending list is full: "try later", nothing is kept.
  try_later,
  /// Refused: not on the allowlist.
  not_allowed,
  /// Refused: the bot takes no new users.
  closed,
  /// Refused: an admin rejected this user.
  rejected,
  /// Refused: an admin revoked this user's access.
  revoked,
};

/// Returns the stable name of `x` for logs and tests.
const char* to_string(admission x);

/// What the decision needs to know about one user.
struct access_facts {
  bool is_admin = false;
  /// users.json (or an import, or an earlier approval) lists a container.
  bool has_container = false;
  access_status status = access_status::unknown;
  /// Users pending now, and the bound `access.max-pending`.
  size_t pending = 0;
  size_t max_pending = 0;
};

/// Decides about one message. Admins are always admitted; so is a user with
/// a container unless an admin rejected or revoked them explicitly, so
/// existing deployments keep working under every policy.
admission decide(access_policy policy, const access_facts& facts);

/// Returns whether messages of a user with this verdict are kept for later.
inline bool holds(admission x) {
  return x == admission::ask_admins || x == admission::hold;
}

} // namespace zaki
