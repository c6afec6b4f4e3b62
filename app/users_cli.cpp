#include "app/users_cli.hpp"

#include <cerrno>
#include <cstring>
#include <unistd.h>

#include <charconv>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>

#include <simdjson.h>

#include "admin/query.hpp"
#include "app/admin_cli.hpp"
#include "json/writer.hpp"
#include "runtime/config.hpp"
#include "runtime/logging.hpp"
#include "storage/database.hpp"
#include "storage/users_import.hpp"

namespace zaki {

namespace {

struct users_args {
  std::string cmd;
  std::vector<std::string> positional;
  std::string status;
  std::string out;
  uint32_t limit = 100;
  int64_t after = 0;
  int64_t id = 0;
};

template <class T>
bool parse_number(const std::string& text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
}

/// The access decisions of issue 23.
bool is_access_cmd(const std::string& cmd) {
  return cmd == "approve" || cmd == "reject" || cmd == "revoke";
}

bool is_access_status(const std::string& status) {
  return status == "pending" || status == "approved" || status == "rejected"
    || status == "revoked";
}

void print_usage(std::ostream& err) {
  err << "usage: zaki-router users <command> [--option=value ...]\n"
         "  list [--status=S] [--limit=N] [--after=ID]  one line per user\n"
         "  show ID        one user (never the gateway token)\n"
         "  remove ID      remove a user (and, when running, the container)\n"
         "  import FILE    upsert the users of a users.json file\n"
         "  export [--out=FILE]  write users.json (default store.users-file)\n"
         "  approve ID     let a user in (access.policy approval/allowlist)\n"
         "  reject ID      turn a user's request down\n"
         "  revoke ID      revoke a user's access (stops the container)\n"
         "The running router is asked through its admin API (token from\n"
         "ZAKI_ADMIN_TOKEN or admin.token-file); when it is not running the\n"
         "database (store.database) is opened directly.\n"
         "exit codes: 0 ok, 1 failed, 2 usage, 3 router unreachable, "
         "4 unknown user\n";
}

std::optional<users_args> parse_args(const std::vector<std::string>& args,
                                     std::ostream& err) {
  users_args a;
  for (auto& arg : args) {
    auto value = [&arg](const char* prefix) -> std::optional<std::string> {
      std::string p = prefix;
      if (arg.rfind(p, 0) == 0)
        return arg.substr(p.size());
      return std::nullopt;
    };
    if (auto v = value("--status=")) {
      a.status = *v;
    } else if (auto v = value("--out=")) {
      a.out = *v;
    } else if (auto v = value("--limit=")) {
      if (!parse_number(*v, a.limit) || a.limit == 0 || a.limit > 1000000) {
        err << "zaki-router users: --limit must be a positive number\n";
        return std::nullopt;
      }
    } else if (auto v = value("--after=")) {
      if (!parse_number(*v, a.after) || a.after < 0) {
        err << "zaki-router users: --after must be a user id\n";
        return std::nullopt;
      }
    } else if (a.cmd.empty()) {
      a.cmd = arg;
    } else {
      a.positional.push_back(arg);
    }
  }
  bool needs_id = a.cmd == "show" || a.cmd == "remove" || is_access_cmd(a.cmd);
  if (needs_id
      && (a.positional.size() != 1 || !parse_number(a.positional[0], a.id)
          || a.id <= 0)) {
    err << "zaki-router users " << a.cmd << ": expects one numeric user id\n";
    return std::nullopt;
  }
  if (a.cmd == "import" && a.positional.size() != 1) {
    err << "zaki-router users import: expects one file\n";
    return std::nullopt;
  }
  if ((a.cmd == "list" || a.cmd == "export") && !a.positional.empty()) {
    err << "zaki-router users " << a.cmd << ": unexpected argument "
        << a.positional[0] << "\n";
    return std::nullopt;
  }
  if (a.cmd != "list" && a.cmd != "show" && a.cmd != "remove"
      && a.cmd != "import" && a.cmd != "export" && !is_access_cmd(a.cmd)) {
    print_usage(err);
    return std::nullopt;
  }
  return a;
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.string();
}

void print_user_line(std::ostream& out, int64_t id, uint64_t port,
                     std::string_view container, std::string_view status,
                     std::string_view created) {
  out << id << '\t' << port << '\t' << container << '\t'
      << (status.empty() ? "-" : status) << '\t'
      << (created.empty() ? "-" : created) << '\n';
}

std::string user_json(const user_record& rec) {
  json_writer w;
  // Never the gateway token.
  w.begin_object().field("user_id", rec.user_id).field("host", rec.host);
  w.field("port", uint64_t{rec.port}).field("container", rec.container);
  w.field("status", rec.status).field("data_dir", rec.data_dir);
  w.field("created_at", rec.created_at);
  return w.end_object().take();
}

std::string error_of(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  std::string_view text;
  if (parser.parse(body).get(obj) == simdjson::SUCCESS
      && obj["error"].get(text) == simdjson::SUCCESS)
    return std::string{text};
  return body.substr(0, 300);
}

/// Works on the database file: the router is not running.
/// approve, reject or revoke on the database (the router is not running:
/// the decision applies to the user's next message after its start).
int decide_offline(database& db, const users_args& a, std::ostream& out,
                   std::ostream& err) {
  std::string e;
  auto rec = db.access_of(a.id, e);
  if (!e.empty()) {
    err << "zaki-router users " << a.cmd << ": " << e << "\n";
    return users_exit::failed;
  }
  std::string status = a.cmd == "approve" ? "approved"
    : a.cmd == "reject"                   ? "rejected"
                                          : "revoked";
  bool approved = rec.status == "approved"
    || (rec.has_container && rec.status != "rejected"
        && rec.status != "revoked");
  if (a.cmd == "approve" && approved) {
    out << "user " << a.id << " is already approved\n";
    return users_exit::ok;
  }
  if (a.cmd == "revoke" && !approved && rec.status != "pending") {
    err << "zaki-router users revoke: unknown user " << a.id << "\n";
    return users_exit::not_found;
  }
  rec.status = status;
  rec.decided_by = 0;
  rec.decided_at = static_cast<int64_t>(std::time(nullptr));
  if (auto werr = db.set_access(rec); !werr.empty()) {
    err << "zaki-router users " << a.cmd << ": " << werr << "\n";
    return users_exit::failed;
  }
  out << "user " << a.id << " " << status << "\n";
  return users_exit::ok;
}

int run_offline(const settings& s, const users_args& a, std::ostream& out,
                std::ostream& err) {
  auto path = database_path(s.store.database, s.store.data_root);
  // An import, or a decision about a user (allowlisting before the first
  // start), creates the database.
  bool creates = a.cmd == "import" || is_access_cmd(a.cmd);
  if (!creates && !std::filesystem::exists(path)) {
    err << "zaki-router users: no database at " << path << "\n";
    return users_exit::failed;
  }
  if (creates) {
    std::error_code ec;
    std::filesystem::create_directories(
      std::filesystem::path{path}.parent_path(), ec);
  }
  std::string open_error;
  auto db = database::open(path, open_error);
  if (!db) {
    err << "zaki-router users: " << open_error << "\n";
    return users_exit::failed;
  }
  if (a.cmd == "list" && is_access_status(a.status)) {
    std::string e;
    auto list = db->list_access(a.status, a.limit, e);
    if (!e.empty()) {
      err << "zaki-router users list: " << e << "\n";
      return users_exit::failed;
    }
    for (auto& rec : list)
      print_user_line(out, rec.user_id, 0, "", rec.status, "");
    return users_exit::ok;
  }
  if (is_access_cmd(a.cmd))
    return decide_offline(*db, a, out, err);
  if (a.cmd == "list") {
    auto after = a.after;
    uint32_t left = a.limit;
    while (left > 0) {
      std::string e;
      auto page = db->list_users(a.status, std::min(left, 1000u), after, e);
      if (!e.empty()) {
        err << "zaki-router users list: " << e << "\n";
        return users_exit::failed;
      }
      for (auto& rec : page)
        print_user_line(out, rec.user_id, rec.port, rec.container, rec.status,
                        rec.created_at);
      if (page.size() < std::min(left, 1000u))
        break;
      left -= static_cast<uint32_t>(page.size());
      after = page.back().user_id;
    }
    return users_exit::ok;
  }
  if (a.cmd == "show") {
    std::string e;
    auto rec = db->find_user(a.id, e);
    if (!e.empty()) {
      err << "zaki-router users show: " << e << "\n";
      return users_exit::failed;
    }
    if (!rec) {
      err << "zaki-router users show: unknown user " << a.id << "\n";
      return users_exit::not_found;
    }
    out << user_json(*rec) << "\n";
    return users_exit::ok;
  }
  if (a.cmd == "remove") {
    bool removed = false;
    auto e = db->exec("BEGIN IMMEDIATE");
    if (e.empty())
      e = db->remove_user(a.id, removed);
    if (e.empty())
      e = db->exec("COMMIT");
    if (!e.empty()) {
      err << "zaki-router users remove: " << e << "\n";
      return users_exit::failed;
    }
    if (!removed) {
      err << "zaki-router users remove: unknown user " << a.id << "\n";
      return users_exit::not_found;
    }
    out << "removed user " << a.id << "\n";
    return users_exit::ok;
  }
  if (a.cmd == "import") {
    auto rep = import_users(*db, a.positional[0], s.backend.kind != "static");
    if (!rep.ok) {
      err << "zaki-router users import: " << rep.error << "\n";
      return users_exit::failed;
    }
    for (auto& w : rep.warnings)
      err << "warning: " << w << "\n";
    if (!rep.shared_note.empty())
      err << "note: users share gateways (static backend): " << rep.shared_note
          << "\n";
    out << "imported " << rep.imported << " users from " << a.positional[0]
        << "\n";
    return users_exit::ok;
  }
  // export
  auto file = a.out.empty() ? s.store.users_file : a.out;
  uint64_t n = 0;
  if (auto e = export_users(*db, file, n); !e.empty()) {
    err << "zaki-router users export: " << e << "\n";
    return users_exit::failed;
  }
  out << "exported " << n << " users to " << file << "\n";
  return users_exit::ok;
}

/// Asks the running router; `handled` is false when nothing listens.
int run_online(const settings& s, const users_args& a, std::ostream& out,
               std::ostream& err, bool& handled) {
  handled = true;
  std::string method = "GET";
  std::string target;
  if (a.cmd == "list") {
    target = "/admin/users?limit=" + std::to_string(std::min(a.limit, 1000u))
      + "&after=" + std::to_string(a.after);
    if (!a.status.empty())
      target += "&status=" + query_encode(a.status);
  } else if (a.cmd == "show") {
    target = "/admin/users/" + std::to_string(a.id);
  } else if (a.cmd == "remove") {
    method = "DELETE";
    target = "/admin/users/" + std::to_string(a.id);
  } else if (is_access_cmd(a.cmd)) {
    method = "POST";
    target = "/admin/users/" + std::to_string(a.id) + "/" + a.cmd;
  } else if (a.cmd == "import") {
    method = "POST";
    target = "/admin/users/import?file="
      + query_encode(absolute(a.positional[0]));
  } else {
    method = "POST";
    target = "/admin/users/export?out="
      + query_encode(absolute(a.out.empty() ? s.store.users_file : a.out));
  }
  uint32_t left = a.limit;
  for (;;) {
    auto res = admin_request(s, method, target);
    if (!res.transport_error.empty()) {
      if (res.refused) {
        handled = false;
        return users_exit::ok;
      }
      err << "zaki-router users: cannot reach the router at " << s.admin.address
          << ": " << res.transport_error << "\n";
      return users_exit::unreachable;
    }
    if (res.status == 401) {
      err << "zaki-router users: unauthorized: set ZAKI_ADMIN_TOKEN or "
             "admin.token-file to the router's admin token\n";
      return users_exit::failed;
    }
    if (res.status == 404
        && (a.cmd == "show" || a.cmd == "remove" || is_access_cmd(a.cmd))) {
      err << "zaki-router users " << a.cmd << ": unknown user " << a.id << "\n";
      return users_exit::not_found;
    }
    if (res.status < 200 || res.status >= 300) {
      err << "zaki-router users " << a.cmd << ": " << res.status << " "
          << error_of(res.body) << "\n";
      return users_exit::failed;
    }
    if (a.cmd != "list") {
      out << res.body << "\n";
      return users_exit::ok;
    }
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    simdjson::dom::array users;
    int64_t next = 0;
    if (parser.parse(res.body).get(obj) != simdjson::SUCCESS
        || obj["users"].get(users) != simdjson::SUCCESS
        || obj["next_after"].get(next) != simdjson::SUCCESS) {
      err << "zaki-router users list: unexpected answer\n";
      return users_exit::failed;
    }
    uint32_t n = 0;
    for (auto u : users) {
      int64_t id = 0;
      uint64_t port = 0;
      std::string_view container, status, created;
      // Fields the answer lacks stay empty.
      if (u["user_id"].get(id) || u["port"].get(port))
        continue;
      if (u["container"].get(container))
        container = {};
      if (u["status"].get(status))
        status = {};
      if (u["created_at"].get(created))
        created = {};
      print_user_line(out, id, port, container, status, created);
      ++n;
    }
    left -= std::min(left, n);
    if (next == 0 || left == 0)
      return users_exit::ok;
    target = "/admin/users?limit=" + std::to_string(std::min(left, 1000u))
      + "&after=" + std::to_string(next);
    if (!a.status.empty())
      target += "&status=" + query_encode(a.status);
  }
}

} // namespace

namespace {

/// Returns whether the database file at `path` can be written, or created
/// when it does not exist yet (errno tells why not).
bool db_writable(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0)
    return ::access(path.c_str(), W_OK) == 0;
  auto dir = std::filesystem::path{path}.parent_path().string();
  return ::access(dir.empty() ? "." : dir.c_str(), W_OK) == 0;
}

} // namespace

std::string prepare_store(const settings& s) {
  auto log = logger("store");
  auto path = database_path(s.store.database, s.store.data_root);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path{path}.parent_path(),
                                      ec);
  // A data root that cannot be written (a read-only mount, a full disk at
  // the wrong moment) is no reason to turn every user away: the store then
  // runs on an in-memory copy of users.json and readiness fails with the
  // reason. A corrupt or newer database still refuses the start.
  if (!db_writable(path)) {
    log->error("event=db_unavailable database={} error=\"not writable: {}\"",
               log_value(path), std::strerror(errno));
    return {};
  }
  std::string err;
  auto db = database::open(path, err);
  if (!db)
    return err;
  auto loaded = [&] {
    std::string e;
    log->info("event=users_loaded file={} users={} database={}",
              log_value(s.store.users_file), db->count_users(e),
              log_value(path));
  };
  if (!users_file_is_newer(*db, s.store.users_file)) {
    loaded();
    return {};
  }
  auto rep = import_users(*db, s.store.users_file, s.backend.kind != "static");
  if (!rep.ok)
    return s.store.users_file + ": " + rep.error;
  for (auto& w : rep.warnings)
    log->warn("event=users_entry_skipped detail={}", log_value(w));
  if (!rep.shared_note.empty())
    log->info("event=users_share_gateways detail={}",
              log_value(rep.shared_note, 300));
  log->info("event=users_imported file={} database={} users={}",
            log_value(s.store.users_file), log_value(path), rep.imported);
  loaded();
  return {};
}

int run_users_command(const settings& s, const std::vector<std::string>& args,
                      std::ostream& out, std::ostream& err) {
  auto a = parse_args(args, err);
  if (!a)
    return users_exit::usage;
  bool handled = false;
  auto code = run_online(s, *a, out, err, handled);
  if (handled)
    return code;
  return run_offline(s, *a, out, err);
}

int users_main(std::vector<std::string> args) {
  std::vector<std::string> caf_args;
  std::vector<std::string> own;
  for (auto& arg : args) {
    bool mine = arg.rfind("--status=", 0) == 0 || arg.rfind("--out=", 0) == 0
      || arg.rfind("--limit=", 0) == 0 || arg.rfind("--after=", 0) == 0
      || arg.rfind("--", 0) != 0;
    (mine ? own : caf_args).push_back(arg);
  }
  config cfg;
  std::vector<std::string> positional;
  int exit_code = 0;
  if (!parse_command_line(cfg, std::move(caf_args), positional, exit_code))
    return exit_code;
  return run_users_command(cfg.values, own, std::cout, std::cerr);
}

} // namespace zaki
