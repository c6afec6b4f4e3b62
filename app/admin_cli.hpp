#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace zaki {

struct settings;

/// Exit codes of `zaki-router admin`.
namespace admin_exit {
constexpr int ok = 0;
/// The router answered with an error (404, 401, 503, ...).
constexpr int failed = 1;
constexpr int usage = 2;
/// The router could not be reached (not running, wrong address).
constexpr int unreachable = 3;
} // namespace admin_exit

/// Runs `zaki-router admin tree | user <id> | restart <id> | stop <id> |
/// health` against the admin server of `s.admin.address`, with the token
/// of ZAKI_ADMIN_TOKEN or admin.token-file when set. A plain synchronous
/// client with a 10 s deadline: this is a CLI, not an actor. Returns an
/// `admin_exit` code.
int run_admin_command(const settings& s, const std::vector<std::string>& args,
                      std::ostream& out, std::ostream& err, bool color);

/// One request to the running router's admin server (users CLI).
struct admin_reply {
  /// Set when no HTTP answer arrived; `refused` when nothing listens.
  std::string transport_error;
  bool refused = false;
  int status = 0;
  std::string body;
};

/// Sends `method` (GET, POST, DELETE) `target` to `s.admin.address` with
/// the admin token of the environment or token file, as the admin command
/// does. A bad address is a transport error.
admin_reply admin_request(const settings& s, std::string_view method,
                          const std::string& target);

/// Renders the JSON of /admin/tree (or of one node) as an indented text
/// tree, with ANSI colours when `color`. Returns false and sets `error`
/// when the JSON is not a status tree.
bool render_tree_text(std::string_view json, bool color, std::string& text,
                      std::string& error);

} // namespace zaki
