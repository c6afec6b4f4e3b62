#include "admin/http.hpp"

#include <cctype>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "http/url.hpp"
#include "messages/status_detail.hpp"
#include "runtime/config.hpp"
#include "runtime/metrics.hpp"

namespace zaki {

namespace http = boost::beast::http;

const char* to_string(admin_endpoint x) {
  switch (x) {
    case admin_endpoint::health_live: return "/health/live";
    case admin_endpoint::health_ready: return "/health/ready";
    case admin_endpoint::health_startup: return "/health/startup";
    case admin_endpoint::health: return "/health";
    case admin_endpoint::metrics: return "/metrics";
    case admin_endpoint::tree: return "/admin/tree";
    case admin_endpoint::user: return "/admin/users/{id}";
    case admin_endpoint::user_restart: return "/admin/users/{id}/restart";
    case admin_endpoint::user_stop: return "/admin/users/{id}/stop";
    case admin_endpoint::locks_clean: return "/admin/locks/clean";
    case admin_endpoint::users_list: return "/admin/users";
    case admin_endpoint::user_remove: return "/admin/users/{id} (DELETE)";
    case admin_endpoint::user_transcript: return "/admin/users/{id}/transcript";
    case admin_endpoint::users_import: return "/admin/users/import";
    case admin_endpoint::users_export: return "/admin/users/export";
    case admin_endpoint::user_access:
      return "/admin/users/{id}/approve|reject|revoke";
    case admin_endpoint::broadcast: return "/admin/broadcast";
    default: return "unknown";
  }
}

namespace {

/// Parses a positive decimal user id without sign, spaces or escapes.
bool parse_user_id(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 18)
    return false;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + (c - '0');
  }
  if (value <= 0)
    return false;
  out = value;
  return true;
}

admin_route make_route(admin_endpoint endpoint, std::string_view method,
                       const char* allow) {
  admin_route result;
  result.endpoint = endpoint;
  result.allow = allow;
  result.method_allowed = method == allow;
  return result;
}

} // namespace

admin_route match_admin_route(std::string_view method,
                              std::string_view target) {
  auto result = match_admin_path(method, target);
  if (auto q = target.find('?'); q != std::string_view::npos)
    result.query = std::string{target.substr(q + 1)};
  return result;
}

admin_route match_admin_path(std::string_view method, std::string_view target) {
  auto path = target.substr(0, target.find('?'));
  // The store's routes (users paging, removal, transcripts, import and
  // export) come first: "import" and "export" are no user ids.
  if (path == "/admin/users")
    return make_route(admin_endpoint::users_list, method, "GET");
  if (path == "/admin/users/import")
    return make_route(admin_endpoint::users_import, method, "POST");
  if (path == "/admin/users/export")
    return make_route(admin_endpoint::users_export, method, "POST");
  if (path.rfind("/admin/users/", 0) == 0) {
    auto rest = path.substr(13);
    auto slash = rest.find('/');
    int64_t id = 0;
    bool transcript = slash != std::string_view::npos
      && rest.substr(slash + 1) == "transcript";
    if (parse_user_id(rest.substr(0, slash), id)
        && (transcript
            || (slash == std::string_view::npos && method == "DELETE"))) {
      auto r = transcript
        ? make_route(admin_endpoint::user_transcript, method, "DELETE")
        : make_route(admin_endpoint::user_remove, method, "DELETE");
      r.user_id = id;
      return r;
    }
  }
  struct fixed {
    std::string_view path;
    admin_endpoint endpoint;
    const char* allow;
  };
  static constexpr fixed table[] = {
    {"/health/live", admin_endpoint::health_live, "GET"},
    {"/health/ready", admin_endpoint::health_ready, "GET"},
    {"/health/startup", admin_endpoint::health_startup, "GET"},
    {"/health", admin_endpoint::health, "GET"},
    {"/metrics", admin_endpoint::metrics, "GET"},
    {"/admin/tree", admin_endpoint::tree, "GET"},
    {"/admin/locks/clean", admin_endpoint::locks_clean, "POST"},
    {"/admin/broadcast", admin_endpoint::broadcast, "POST"},
  };
  for (auto& entry : table)
    if (path == entry.path)
      return make_route(entry.endpoint, method, entry.allow);
  constexpr std::string_view users = "/admin/users/";
  if (path.rfind(users, 0) != 0)
    return {};
  auto rest = path.substr(users.size());
  auto slash = rest.find('/');
  auto id_text = rest.substr(0, slash);
  auto action = slash == std::string_view::npos ? std::string_view{}
                                                : rest.substr(slash + 1);
  admin_route result;
  if (slash == std::string_view::npos)
    result = make_route(admin_endpoint::user, method, "GET");
  else if (action == "restart")
    result = make_route(admin_endpoint::user_restart, method, "POST");
  else if (action == "stop")
    result = make_route(admin_endpoint::user_stop, method, "POST");
  else if (action == "approve" || action == "reject" || action == "revoke") {
    result = make_route(admin_endpoint::user_access, method, "POST");
    result.access_action = std::string{action};
  } else
    result = make_route(admin_endpoint::user, method, "GET");
  // Anything but a plain number in the id position (dots, escapes, more
  // segments) is a bad id: there is nothing to traverse to.
  if (!parse_user_id(id_text, result.user_id)
      || (slash != std::string_view::npos && action != "restart"
          && action != "stop" && result.access_action.empty())) {
    result.user_id = 0;
    result.bad_user_id = true;
  }
  return result;
}

bool endpoint_needs_token(admin_endpoint endpoint) {
  switch (endpoint) {
    case admin_endpoint::health_live:
    case admin_endpoint::health_ready:
    case admin_endpoint::health_startup:
    case admin_endpoint::health: return false;
    default: return true;
  }
}

bool bearer_token_matches(std::string_view authorization,
                          const std::string& token) {
  if (token.empty())
    return false;
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size())
    return false;
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i])
      return false;
  auto given = authorization.substr(scheme.size());
  while (!given.empty() && given.front() == ' ')
    given.remove_prefix(1);
  while (!given.empty() && given.back() == ' ')
    given.remove_suffix(1);
  // Comparing digests keeps the time independent of where the strings
  // differ and of their lengths.
  unsigned char a[SHA256_DIGEST_LENGTH];
  unsigned char b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), b);
  return CRYPTO_memcmp(a, b, SHA256_DIGEST_LENGTH) == 0;
}

admin_access admin_access_policy(const settings& s, const std::string& token) {
  admin_access result;
  result.token = token;
  auto hp = parse_host_port(s.admin.address);
  if (!hp) {
    result.problem = "admin.address must be HOST:PORT, got " + s.admin.address;
    return result;
  }
  result.host = hp->first == "localhost" ? "127.0.0.1" : hp->first;
  result.port = hp->second;
  result.require_token = !is_loopback_host(result.host);
  if (result.require_token && token.empty())
    result.problem = "the admin server would listen on " + s.admin.address
      + ", beyond loopback, without a token: set "
        "ZAKI_ADMIN_TOKEN or admin.token-file, or bind "
        "admin.address to 127.0.0.1";
  return result;
}

admin_access check_admin_access(const settings& s) {
  std::string error;
  auto token = read_secret("ZAKI_ADMIN_TOKEN", s.admin.token_file, error);
  auto result = admin_access_policy(s, token);
  if (!error.empty() && result.problem.empty())
    result.problem = "admin token: " + error;
  return result;
}

namespace {

/// Writes one detail value as JSON (see `status_detail`).
void write_detail_value(json_writer& w, const caf::config_value& x) {
  auto& data = x.get_data();
  if (auto i = caf::get_if<caf::config_value::integer>(&data)) {
    w.value(int64_t{*i});
  } else if (auto b = caf::get_if<bool>(&data)) {
    w.value(*b);
  } else if (auto d = caf::get_if<double>(&data)) {
    w.value(*d);
  } else if (auto text = caf::get_if<std::string>(&data)) {
    w.value(std::string_view{*text});
  } else if (auto list = caf::get_if<caf::config_value::list>(&data)) {
    w.begin_array();
    for (auto& element : *list)
      write_detail_value(w, element);
    w.end_array();
  } else if (auto dict = caf::get_if<caf::settings>(&data)) {
    w.begin_object();
    for (auto& [key, value] : *dict) {
      w.key(key);
      write_detail_value(w, value);
    }
    w.end_object();
  } else if (is_null(x)) {
    w.null();
  } else {
    w.value(caf::to_string(x));
  }
}

} // namespace

void write_status_json(json_writer& w, const status_node& node,
                       bool with_children) {
  w.begin_object();
  w.field("name", node.name).field("id", node.id).field("state", node.state);
  w.field("mailbox_size", node.mailbox_size);
  w.field("restarts", uint64_t{node.restarts});
  // The actor's own fields sit beside the common ones; a name they share is
  // prefixed so that neither hides the other.
  for (auto& [key, value] : node.detail) {
    bool clash = key == "name" || key == "id" || key == "state"
      || key == "mailbox_size" || key == "restarts" || key == "children";
    if (clash)
      w.key("detail_" + key);
    else
      w.key(key);
    write_detail_value(w, value);
  }
  if (with_children) {
    w.key("children").begin_array();
    for (auto& child : node.children)
      write_status_json(w, child, true);
    w.end_array();
  }
  w.end_object();
}

std::string detail_to_json(const caf::settings& detail) {
  json_writer w;
  w.begin_object();
  for (auto& [key, value] : detail) {
    w.key(key);
    write_detail_value(w, value);
  }
  w.end_object();
  return w.take();
}

std::string status_to_json(const status_node& node, bool with_children) {
  json_writer w;
  write_status_json(w, node, with_children);
  return w.take();
}

bool admin_exchange::reply(http::status status, std::string body,
                           std::string_view content_type) {
  auto response = make_http_response(status, std::move(body), content_type);
  response.set(http::field::cache_control, "no-store");
  if (!res || !res->send(std::move(response)))
    return false;
  metric::admin_request(static_cast<unsigned>(status));
  return true;
}

bool admin_exchange::fail(http::status status, std::string_view message) {
  json_writer w;
  w.begin_object().field("error", message).end_object();
  return reply(status, w.take());
}

} // namespace zaki
