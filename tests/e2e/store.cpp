#define CAF_SUITE e2e.store
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers/spawn_child.hpp"
#include "emulators/fake_gateway.hpp"
#include "emulators/fake_telegram.hpp"
#include "storage/database.hpp"
#include "storage/users_file.hpp"

// The store as operators meet it, with real processes: the users CLI on
// the database file and through a running router's admin API, SIGHUP
// re-imports (a missing users.json keeps the users), usage and the
// transcript of a routed message, and kill -9 in the middle of imports and
// usage updates leaves a database that opens, passes integrity_check and
// holds every acknowledged change.

using namespace zaki;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

uint16_t free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acc{
    ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return acc.local_endpoint().port();
}

/// A temp dir with users.json and data/, and zaki-router children on it.
struct world {
  std::string dir;
  std::string admin = "127.0.0.1:" + std::to_string(free_port());
  pid_t router = -1;

  world() {
    static int counter = 0;
    dir = (fs::temp_directory_path()
           / ("zaki-e2e-store-" + std::to_string(::getpid()) + "-"
              + std::to_string(++counter)))
            .string();
    fs::create_directories(dir + "/data");
  }

  ~world() {
    if (router > 0) {
      ::kill(router, SIGKILL);
      ::waitpid(router, nullptr, 0);
    }
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  std::string db_path() const {
    return dir + "/data/zaki.db";
  }

  std::vector<std::string> options() const {
    return {"--store.users-file=" + dir + "/users.json",
            "--store.data-root=" + dir + "/data", "--admin.address=" + admin};
  }

  pid_t spawn(std::vector<std::string> args, const std::string& out,
              const std::string& err, const std::string& token) {
    auto pid = ::fork();
    if (pid == 0) {
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(o, 1);
      ::dup2(e, 2);
      if (!token.empty())
        ::setenv("TELEGRAM_BOT_TOKEN", token.c_str(), 1);
      ::unsetenv("ZAKI_ADMIN_TOKEN");
      auto exe = self_exe_dir() + "/zaki-router";
      std::vector<char*> argv{exe.data()};
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(exe.c_str(), argv.data());
      ::_exit(127);
    }
    return pid;
  }

  struct result {
    int code = -1;
    std::string out;
    std::string err;
  };

  /// Runs `zaki-router users args...` to its end.
  result users(std::vector<std::string> args) {
    args.insert(args.begin(), "users");
    for (auto& o : options())
      args.push_back(o);
    auto pid = spawn(args, dir + "/cli.out", dir + "/cli.err.tmp", "");
    int status = 0;
    ::waitpid(pid, &status, 0);
    result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir + "/cli.out");
    r.err = slurp(dir + "/cli.err.tmp");
    fs::remove(dir + "/cli.err.tmp");
    return r;
  }

  void start_router(const std::string& api_root, const std::string& token) {
    auto args = options();
    args.insert(args.begin(), "run");
    args.push_back("--telegram.api-root=" + api_root);
    args.push_back("--telegram.poll-timeout=1s");
    router = spawn(args, dir + "/router.out", dir + "/router.err", token);
    // Ready once the admin server listens (the users CLI then goes online).
    for (int i = 0; i < 300; ++i) {
      std::this_thread::sleep_for(milliseconds(50));
      if (contains(router_log(), "event=admin_listening"))
        break;
    }
  }

  int stop_router(int sig) {
    ::kill(router, sig);
    int status = 0;
    ::waitpid(router, &status, 0);
    router = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string router_log() const {
    return slurp(dir + "/router.err");
  }

  void write_users(int64_t first, int64_t count, uint16_t port,
                   const std::string& token) {
    user_map users;
    for (int64_t id = first; id < first + count; ++id) {
      user_record rec;
      rec.user_id = id;
      rec.port = port;
      rec.token = token;
      rec.container = "zaki-user-" + std::to_string(id);
      users[id] = rec;
    }
    CAF_REQUIRE_EQUAL(save_users_file(dir + "/users.json", users), "");
  }
};

size_t count_lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// Waits up to 3 s for `text` in the router's log: info lines reach stderr
/// in batches, at least once a second.
bool log_shows(world& w, const std::string& text) {
  for (int i = 0; i < 60; ++i) {
    if (contains(w.router_log(), text))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

/// Returns the users committed to the database at `path`, read through a
/// connection of its own (WAL: a reader never waits for the router's
/// writer), or -1.
int64_t committed_users(const std::string& path) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr)
      == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM users", -1, &st, nullptr)
          == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

} // namespace

CAF_TEST(the users CLI works on the database with the router stopped) {
  world w;
  w.write_users(100, 30, 19001, "secret-gw-token");
  auto r = w.users({"import", w.dir + "/users.json"});
  CAF_CHECK_EQUAL(r.code, 0);
  CAF_CHECK(contains(r.out, "imported 30 users"));
  r = w.users({"list", "--limit=10"});
  CAF_CHECK_EQUAL(r.code, 0);
  CAF_CHECK_EQUAL(count_lines(r.out), 10u);
  CAF_CHECK(contains(r.out, "100\t19001\tzaki-user-100"));
  r = w.users({"list", "--after=125"});
  CAF_CHECK_EQUAL(count_lines(r.out), 4u);
  r = w.users({"show", "105"});
  CAF_CHECK_EQUAL(r.code, 0);
  CAF_CHECK(contains(r.out, "\"container\":\"zaki-user-105\""));
  CAF_CHECK(!contains(r.out, "secret-gw-token"));
  CAF_CHECK_EQUAL(w.users({"show", "999"}).code, 4);
  CAF_CHECK_EQUAL(w.users({"remove", "105"}).code, 0);
  CAF_CHECK_EQUAL(w.users({"remove", "105"}).code, 4);
  CAF_CHECK_EQUAL(w.users({"show", "abc"}).code, 2);
  r = w.users({"export", "--out=" + w.dir + "/out.json"});
  CAF_CHECK_EQUAL(r.code, 0);
  auto exported = load_users_file(w.dir + "/out.json");
  CAF_REQUIRE(exported.ok);
  CAF_CHECK_EQUAL(exported.users.size(), 29u);
  // A file that does not parse: nothing imported, line and column named.
  std::ofstream{w.dir + "/bad.json"} << "{\"users\": {\n\"1\": {\"port\": }}}";
  r = w.users({"import", w.dir + "/bad.json"});
  CAF_CHECK_EQUAL(r.code, 1);
  CAF_CHECK(contains(r.err, "line 2, column"));
  CAF_CHECK_EQUAL(count_lines(w.users({"list"}).out), 29u);
}

CAF_TEST(a running router answers the CLI and reimports on SIGHUP) {
  fakes::fake_telegram tg;
  tg.start();
  fakes::fake_gateway_options gopts;
  gopts.token = "gw-secret-store";
  fakes::fake_gateway gw{gopts};
  auto port = gw.start();
  world w;
  w.write_users(5000000001, 3, port, gopts.token);
  w.start_router(tg.api_root(), tg.token());
  CAF_CHECK(log_shows(w, "event=users_imported"));
  // A message: answered, its usage and transcript recorded.
  tg.push_text(5000000001, "remember '); DROP TABLE users;--");
  CAF_CHECK(tg.wait_for_sent_to(5000000001, 1, seconds(15)));
  // Online: the running router does the import (its log says so).
  w.write_users(6000000001, 2, port, gopts.token);
  auto r = w.users({"import", w.dir + "/users.json"});
  CAF_CHECK_EQUAL(r.code, 0);
  CAF_CHECK(contains(r.out, "\"imported\":2"));
  CAF_CHECK(log_shows(w, "event=imported"));
  r = w.users({"list"});
  CAF_CHECK_EQUAL(r.code, 0);
  CAF_CHECK_EQUAL(count_lines(r.out), 5u);
  CAF_CHECK_EQUAL(w.users({"show", "6000000002"}).code, 0);
  // SIGHUP re-imports; a deleted users.json keeps every user (issue 24).
  w.write_users(7000000001, 1, port, gopts.token);
  ::kill(w.router, SIGHUP);
  for (int i = 0; i < 100 && w.users({"show", "7000000001"}).code != 0; ++i)
    std::this_thread::sleep_for(milliseconds(50));
  CAF_CHECK_EQUAL(w.users({"show", "7000000001"}).code, 0);
  fs::remove(w.dir + "/users.json");
  ::kill(w.router, SIGHUP);
  for (int i = 0; i < 100 && !contains(w.router_log(), "does not exist"); ++i)
    std::this_thread::sleep_for(milliseconds(50));
  CAF_CHECK(log_shows(w, "reload_failed"));
  CAF_CHECK_EQUAL(count_lines(w.users({"list"}).out), 6u);
  CAF_CHECK_EQUAL(w.stop_router(SIGTERM), 0);
  // After the stop, the database holds the usage and the transcript.
  std::string err;
  auto db = database::open(w.db_path(), err);
  CAF_REQUIRE(db != nullptr);
  auto u = db->usage_of(5000000001, utc_day(), err);
  CAF_CHECK_EQUAL(u.requests, 1);
  CAF_CHECK_GREATER(u.prompt_tokens, 0);
  CAF_CHECK_GREATER(u.completion_tokens, 0);
  auto t = db->transcript_of(5000000001, err);
  CAF_REQUIRE_EQUAL(t.size(), 2u);
  CAF_CHECK_EQUAL(t[0].direction, "in");
  CAF_CHECK_EQUAL(t[0].text, "remember '); DROP TABLE users;--");
  CAF_CHECK_EQUAL(t[1].direction, "out");
  CAF_CHECK(db->transcript_of(5000000002, err).empty());
  CAF_CHECK(!contains(w.router_log(), gopts.token));
  CAF_CHECK(!contains(w.router_log(), tg.token()));
}

CAF_TEST(kill - 9 during imports and usage updates loses nothing committed) {
  fakes::fake_telegram tg;
  tg.start();
  fakes::fake_gateway_options gopts;
  gopts.token = "gw-secret-crash";
  fakes::fake_gateway gw{gopts};
  auto port = gw.start();
  world w;
  w.write_users(1, 20, port, gopts.token);
  w.start_router(tg.api_root(), tg.token());
  // A stream of messages (usage and transcript writes) while the CLI
  // imports batches of new users through the running router.
  int64_t acknowledged = 0;
  for (int round = 0; round < 8; ++round) {
    for (int64_t u = 1; u <= 20; ++u)
      tg.push_text(u, "message " + std::to_string(round));
    w.write_users(1000 + round * 100, 100, port, gopts.token);
    auto r = w.users({"import", w.dir + "/users.json"});
    if (r.code == 0)
      acknowledged = 1000 + round * 100 + 99;
  }
  CAF_CHECK_GREATER(acknowledged, 0);
  w.stop_router(SIGKILL);
  std::string err;
  auto db = database::open(w.db_path(), err);
  CAF_REQUIRE(db != nullptr);
  CAF_CHECK_EQUAL(db->integrity_check(), "ok");
  for (int64_t id = 1000; id <= acknowledged; ++id)
    if (!db->find_user(id, err))
      CAF_FAIL("acknowledged user " << id << " is missing");
  CAF_CHECK_EQUAL(db->count_users(err), 20u + 800u);
}

CAF_TEST(routing goes on while 100000 users are imported) {
  fakes::fake_telegram tg;
  tg.start();
  fakes::fake_gateway_options gopts;
  gopts.token = "gw-secret-import";
  fakes::fake_gateway gw{gopts};
  auto port = gw.start();
  world w;
  w.write_users(1, 20, port, gopts.token);
  w.start_router(tg.api_root(), tg.token());
  CAF_CHECK(log_shows(w, "event=users_imported"));
  for (int64_t u = 1; u <= 20; ++u)
    tg.push_text(u, "hello");
  for (int64_t u = 1; u <= 20; ++u)
    CAF_REQUIRE(tg.wait_for_sent_to(u, 1, seconds(15)));
  // The import runs on the store's worker, in one transaction; the users
  // chat meanwhile and are answered before it commits.
  w.write_users(1, 100000, port, gopts.token);
  ::kill(w.router, SIGHUP);
  std::this_thread::sleep_for(milliseconds(20));
  for (int64_t u = 1; u <= 20; ++u)
    tg.push_text(u, "while importing");
  for (int64_t u = 1; u <= 20; ++u)
    CAF_CHECK(tg.wait_for_sent_to(u, 2, seconds(15)));
  auto during = committed_users(w.db_path());
  CAF_MESSAGE("users committed when the last reply arrived: " << during);
  CAF_CHECK_LESS(during, 100000);
  // The import itself takes seconds in a sanitizer or -O0 build.
  for (int i = 0; i < 1200 && committed_users(w.db_path()) < 100000; ++i)
    std::this_thread::sleep_for(milliseconds(50));
  CAF_CHECK_EQUAL(committed_users(w.db_path()), 100000);
  CAF_CHECK(log_shows(w, "event=reloaded"));
  CAF_CHECK_EQUAL(w.stop_router(SIGTERM), 0);
}

CAF_TEST(forget deletes the transcript of the user who asks) {
  fakes::fake_telegram tg;
  tg.start();
  fakes::fake_gateway_options gopts;
  gopts.token = "gw-secret-forget";
  fakes::fake_gateway gw{gopts};
  auto port = gw.start();
  world w;
  w.write_users(5000000001, 2, port, gopts.token);
  w.start_router(tg.api_root(), tg.token());
  tg.push_text(5000000001, "remember this");
  tg.push_text(5000000002, "and this");
  CAF_REQUIRE(tg.wait_for_sent_to(5000000001, 1, seconds(15)));
  CAF_REQUIRE(tg.wait_for_sent_to(5000000002, 1, seconds(15)));
  tg.push_text(5000000001, "/forget");
  CAF_REQUIRE(tg.wait_for_sent_to(5000000001, 2, seconds(15)));
  auto reply = tg.sent_to(5000000001).at(1).text;
  CAF_MESSAGE("reply: " << reply);
  CAF_CHECK(contains(reply, "deleted the 2 messages"));
  CAF_CHECK_EQUAL(w.stop_router(SIGTERM), 0);
  std::string err;
  auto db = database::open(w.db_path(), err);
  CAF_REQUIRE(db != nullptr);
  CAF_CHECK(db->transcript_of(5000000001, err).empty());
  CAF_CHECK_EQUAL(db->transcript_of(5000000002, err).size(), 2u);
}
