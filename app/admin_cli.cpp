#include "app/admin_cli.hpp"

#include <chrono>
#include <cstdio>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <simdjson.h>

#include "http/sync_get.hpp"
#include "http/url.hpp"
#include "json/parse.hpp"
#include "runtime/config.hpp"
#include "runtime/settings.hpp"

namespace zaki {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto deadline = std::chrono::seconds(10);

const char* const reset = "\033[0m";
const char* const bold = "\033[1m";
const char* const dim = "\033[2m";
const char* const green = "\033[32m";
const char* const yellow = "\033[33m";
const char* const red = "\033[31m";

const char* state_color(std::string_view state) {
  if (state == "running" || state == "idle" || state == "polling"
      || state == "ok" || state == "ready")
    return green;
  if (state == "failed" || state == "unresponsive" || state == "fatal"
      || state == "degraded" || state == "down" || state == "crashed")
    return red;
  return yellow;
}

/// One exchange with the admin server.
struct exchange_result {
  /// Set when no HTTP answer arrived.
  std::string transport_error;
  bool refused = false;
  int status = 0;
  std::string body;
};

exchange_result call(const std::string& host, uint16_t port, http::verb method,
                     const std::string& target, const std::string& token) {
  exchange_result result;
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  if (ec) {
    result.transport_error = "admin.address must name a numeric host";
    return result;
  }
  auto res = sync_request(host, port, method, target, deadline, token,
                          "zaki-router-admin");
  if (!res.error.empty()) {
    result.refused = res.refused;
    result.transport_error = res.timed_out ? "no answer within 10 s"
                                           : std::move(res.error);
    return result;
  }
  result.status = res.status;
  result.body = std::move(res.body);
  return result;
}

std::string error_field(const std::string& body) {
  auto& parser = thread_dom_parser();
  simdjson::dom::object obj;
  std::string_view text;
  if (parser.parse(body).get(obj) == simdjson::SUCCESS
      && obj["error"].get(text) == simdjson::SUCCESS)
    return std::string{text};
  return body.substr(0, 200);
}

/// Appends the scalar detail fields of a node as `key=value`.
void append_details(std::string& line, simdjson::dom::object obj) {
  for (auto field : obj) {
    auto key = field.key;
    if (key == "name" || key == "id" || key == "state" || key == "children"
        || key == "mailbox_size" || key == "restarts")
      continue;
    auto v = field.value;
    std::string text;
    switch (v.type()) {
      case simdjson::dom::element_type::STRING:
        text = std::string{v.get_string().value_unsafe()};
        if (text.empty())
          continue;
        break;
      case simdjson::dom::element_type::INT64:
      case simdjson::dom::element_type::UINT64:
      case simdjson::dom::element_type::BOOL: text = simdjson::minify(v); break;
      case simdjson::dom::element_type::DOUBLE: {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.1f", v.get_double().value_unsafe());
        text = buf;
        break;
      }
      case simdjson::dom::element_type::OBJECT: {
        // The in-flight request of a user actor: show its request id.
        std::string_view rid;
        if (v["request_id"].get(rid) != simdjson::SUCCESS)
          continue;
        text = std::string{rid};
        break;
      }
      default: continue;
    }
    line += ' ';
    line += key;
    line += '=';
    line += text;
  }
}

void render_node(simdjson::dom::object node, bool color,
                 const std::string& prefix, bool root, bool last,
                 std::string& out) {
  std::string_view name = "?";
  std::string_view state = "?";
  uint64_t mailbox = 0;
  uint64_t restarts = 0;
  if (node["name"].get(name) != simdjson::SUCCESS)
    name = "?";
  if (node["state"].get(state) != simdjson::SUCCESS)
    state = "?";
  if (node["mailbox_size"].get(mailbox) != simdjson::SUCCESS)
    mailbox = 0;
  if (node["restarts"].get(restarts) != simdjson::SUCCESS)
    restarts = 0;
  std::string line = prefix;
  if (!root)
    line += last ? "└── " : "├── ";
  line += color ? std::string{bold} + std::string{name} + reset
                : std::string{name};
  line += "  ";
  line += color ? std::string{state_color(state)} + std::string{state} + reset
                : std::string{state};
  std::string extra;
  if (mailbox > 0)
    extra += " mailbox=" + std::to_string(mailbox);
  if (restarts > 0)
    extra += " restarts=" + std::to_string(restarts);
  append_details(extra, node);
  if (!extra.empty())
    line += color ? std::string{dim} + extra + reset : extra;
  out += line;
  out += '\n';
  simdjson::dom::array children;
  bool has_children = node["children"].get(children) == simdjson::SUCCESS
    && children.size() > 0;
  auto child_prefix = root ? prefix : prefix + (last ? "    " : "│   ");
  // Lists of records in a node's detail (the provisioner's and the health
  // supervisor's containers) as one dim line per record under the node.
  for (auto field : node) {
    simdjson::dom::array items;
    if (field.key == "children" || field.value.get(items) != simdjson::SUCCESS)
      continue;
    for (auto item : items) {
      simdjson::dom::object rec;
      if (item.get(rec) != simdjson::SUCCESS)
        continue;
      std::string sub;
      append_details(sub, rec);
      std::string_view rec_state;
      if (rec["state"].get(rec_state) == simdjson::SUCCESS)
        sub = " state=" + std::string{rec_state} + sub;
      auto text = child_prefix + (has_children ? "│ " : "  ") + "· "
        + std::string{field.key} + ":" + sub;
      out += color ? std::string{dim} + text + reset : text;
      out += '\n';
    }
  }
  if (!has_children)
    return;
  size_t n = children.size();
  size_t i = 0;
  for (auto child : children) {
    simdjson::dom::object obj;
    if (child.get(obj) == simdjson::SUCCESS)
      render_node(obj, color, child_prefix, false, ++i == n, out);
  }
}

bool parse_id(const std::string& text) {
  if (text.empty() || text.size() > 18)
    return false;
  for (char c : text)
    if (c < '0' || c > '9')
      return false;
  return text != "0";
}

void print_usage(std::ostream& err) {
  err << "usage: zaki-router admin tree | health | user <id> | restart <id> "
         "| stop <id> [--config-file=FILE] [--admin.address=HOST:PORT]\n";
}

} // namespace

bool render_tree_text(std::string_view json, bool color, std::string& text,
                      std::string& error) {
  auto& parser = thread_dom_parser();
  simdjson::dom::object root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    error = "the answer is not a JSON object";
    return false;
  }
  std::string_view name;
  if (root["name"].get(name) != simdjson::SUCCESS) {
    error = "the answer is not a status tree";
    return false;
  }
  render_node(root, color, "", true, true, text);
  return true;
}

int run_admin_command(const settings& s, const std::vector<std::string>& args,
                      std::ostream& out, std::ostream& err, bool color) {
  if (args.empty()) {
    print_usage(err);
    return admin_exit::usage;
  }
  auto& cmd = args[0];
  std::string target;
  auto method = http::verb::get;
  bool needs_id = cmd == "user" || cmd == "restart" || cmd == "stop";
  if (needs_id && (args.size() != 2 || !parse_id(args[1]))) {
    err << "zaki-router admin " << cmd
        << ": expects one numeric Telegram user id\n";
    return admin_exit::usage;
  }
  if (cmd == "tree" && args.size() == 1) {
    target = "/admin/tree";
  } else if (cmd == "health" && args.size() == 1) {
    target = "/health";
  } else if (cmd == "user") {
    target = "/admin/users/" + args[1];
  } else if (cmd == "restart" || cmd == "stop") {
    target = "/admin/users/" + args[1] + "/" + cmd;
    method = http::verb::post;
  } else {
    print_usage(err);
    return admin_exit::usage;
  }
  auto hp = parse_host_port(s.admin.address);
  if (!hp) {
    err << "zaki-router admin: admin.address must be HOST:PORT\n";
    return admin_exit::usage;
  }
  // A server bound to every interface is reached on loopback.
  auto host = hp->first;
  if (host == "localhost" || host == "0.0.0.0" || host.empty())
    host = "127.0.0.1";
  else if (host == "::")
    host = "::1";
  std::string token_error;
  auto token = read_secret("ZAKI_ADMIN_TOKEN", s.admin.token_file, token_error);
  auto where = host + ":" + std::to_string(hp->second);
  auto res = call(host, hp->second, method, target, token);
  if (!res.transport_error.empty()) {
    if (res.refused)
      err << "zaki-router admin: the router is not running at " << where
          << " (connection refused)\n";
    else
      err << "zaki-router admin: cannot reach the router at " << where << ": "
          << res.transport_error << "\n";
    return admin_exit::unreachable;
  }
  if (res.status == 401) {
    err << "zaki-router admin: unauthorized: set ZAKI_ADMIN_TOKEN or "
           "admin.token-file to the router's admin token\n";
    return admin_exit::failed;
  }
  if (cmd == "health") {
    out << res.body << "\n";
    return res.status == 200 ? admin_exit::ok : admin_exit::failed;
  }
  if (res.status < 200 || res.status >= 300) {
    err << "zaki-router admin " << cmd << ": " << res.status << " "
        << error_field(res.body) << "\n";
    return admin_exit::failed;
  }
  if (cmd == "restart" || cmd == "stop") {
    out << res.body << "\n";
    return admin_exit::ok;
  }
  std::string text;
  std::string error;
  if (!render_tree_text(res.body, color, text, error)) {
    err << "zaki-router admin " << cmd << ": " << error << "\n";
    return admin_exit::failed;
  }
  out << text;
  return admin_exit::ok;
}

admin_reply admin_request(const settings& s, std::string_view method,
                          const std::string& target) {
  admin_reply out;
  auto hp = parse_host_port(s.admin.address);
  if (!hp) {
    out.transport_error = "admin.address must be HOST:PORT";
    return out;
  }
  auto host = hp->first;
  if (host == "localhost" || host == "0.0.0.0" || host.empty())
    host = "127.0.0.1";
  else if (host == "::")
    host = "::1";
  std::string token_error;
  auto token = read_secret("ZAKI_ADMIN_TOKEN", s.admin.token_file, token_error);
  auto res = call(host, hp->second, http::string_to_verb(method), target,
                  token);
  out.transport_error = std::move(res.transport_error);
  out.refused = res.refused;
  out.status = res.status;
  out.body = std::move(res.body);
  return out;
}

} // namespace zaki
