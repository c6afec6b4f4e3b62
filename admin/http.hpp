#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/server.hpp"
#include "json/writer.hpp"
#include "messages/types.hpp"

// The pure side of the admin endpoint: which route a request names, who may
// call it, and how the status tree becomes JSON. No actors here, so all of
// it is tested without an actor system.

namespace zaki {

struct settings;

/// The endpoints of the admin server.
enum class admin_endpoint : uint8_t {
  health_live,
  health_ready,
  health_startup,
  health,
  metrics,
  tree,
  user,
  user_restart,
  user_stop,
  locks_clean,
  users_list,
  user_remove,
  user_transcript,
  users_import,
  users_export,
  /// POST /admin/users/{id}/approve|reject|revoke (issue 23).
  user_access,
  /// POST /admin/broadcast (issue 23).
  broadcast,
  unknown,
};

/// Returns the path pattern of an endpoint, e.g. "/admin/users/{id}".
const char* to_string(admin_endpoint x);

/// The outcome of matching a request line against the admin routes.
struct admin_route {
  admin_endpoint endpoint = admin_endpoint::unknown;
  /// approve, reject or revoke for `user_access`.
  std::string access_action;
  /// The user of /admin/users/{id}/...; 0 otherwise.
  int64_t user_id = 0;
  /// The path named a known endpoint with a method it does not accept.
  bool method_allowed = true;
  /// The methods the endpoint accepts, for 405's Allow header.
  const char* allow = "GET";
  /// The {id} segment was not a positive decimal number.
  bool bad_user_id = false;
  /// The query string after '?', undecoded (paging, import and export).
  std::string query;
};

/// Matches `method` and `target` (path plus optional query, which is
/// ignored). Only exact paths match: no normalisation, no percent-decoding,
/// so `/admin/users/..%2f..` is a bad id and never a different path.
admin_route match_admin_route(std::string_view method, std::string_view target);

/// Matches the path of `target` only (the query is left out).
admin_route match_admin_path(std::string_view method, std::string_view target);

/// Returns whether `endpoint` needs the bearer token when the server is
/// bound beyond loopback: /admin/* and /metrics do, the probes never.
bool endpoint_needs_token(admin_endpoint endpoint);

/// Returns whether the `Authorization` header value carries `token` as a
/// bearer token. The comparison takes the same time wherever the first
/// difference is (CRYPTO_memcmp over equal-length digests).
bool bearer_token_matches(std::string_view authorization,
                          const std::string& token);

/// How the admin server decides about tokens.
struct admin_access {
  /// Numeric host to bind ("localhost" becomes 127.0.0.1).
  std::string host;
  uint16_t port = 0;
  /// Bound beyond loopback: /admin/* and /metrics need the token.
  bool require_token = false;
  /// The admin token (a secret: never logged); may be empty on loopback.
  std::string token;
  /// Why the router must not start; empty when everything is fine.
  std::string problem;
};

/// Decides the access policy for `admin.address` and `token`. Bound beyond
/// loopback without a token is a `problem`: main refuses to start.
admin_access admin_access_policy(const settings& s, const std::string& token);

/// Reads the admin token (ZAKI_ADMIN_TOKEN, else admin.token-file) and
/// returns the access policy; a token file that cannot be read is a
/// `problem` too. main calls this before starting and exits with status 2
/// and `problem` on stderr when it is not empty.
admin_access check_admin_access(const settings& s);

/// Writes `node` and its subtree as JSON: name, id, state, mailbox_size,
/// restarts, the actor's detail fields merged in (a detail key that clashes
/// with one of those is written as `detail_<key>`), and children.
void write_status_json(json_writer& w, const status_node& node,
                       bool with_children = true);

/// Returns `write_status_json` of `node` as text.
std::string status_to_json(const status_node& node, bool with_children = true);

/// Encodes an actor's status detail as one JSON object (logs and tests).
std::string detail_to_json(const caf::settings& detail);

/// One request on its way from the I/O threads to the admin actor: the
/// matched route and the responder of the connection.
struct admin_exchange {
  admin_route route;
  std::shared_ptr<http_responder> res;
  std::chrono::steady_clock::time_point received;
  /// The request body (POST /admin/broadcast); bounded by admin.max-body.
  std::string body;

  /// Answers with `status` and `body`; counts the answer in the metrics.
  /// Returns false when the request was answered already (e.g. by the I/O
  /// side's deadline).
  bool reply(boost::beast::http::status status, std::string body,
             std::string_view content_type = "application/json");

  /// Answers with `{"error": message}`.
  bool fail(boost::beast::http::status status, std::string_view message);
};

} // namespace zaki
