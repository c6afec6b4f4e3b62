#define CAF_SUITE e2e.cli
#include "caf/test/unit_test.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers/spawn_child.hpp"
#include "emulators/fake_gateway.hpp"
#include "emulators/fake_telegram.hpp"
#include "storage/users_file.hpp"

// The zaki-router binary as operators run it: options, the INI file,
// refusals with their exit codes, a real run against the loopback fakes and
// its graceful stop on SIGTERM.

using namespace zaki;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

std::string router_binary() {
  return self_exe_dir() + "/zaki-router";
}

std::string repo_root() {
  std::string file = __FILE__;
  auto pos = file.rfind("/tests/e2e/");
  return pos == std::string::npos ? std::string{"."} : file.substr(0, pos);
}

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

/// A zaki-router child with its output in files of a temp dir.
struct router_process {
  std::string dir;
  pid_t pid = -1;
  int status = -1;

  router_process() {
    static int counter = 0;
    dir = (fs::temp_directory_path()
           / ("zaki-cli-" + std::to_string(::getpid()) + "-"
              + std::to_string(++counter)))
            .string();
    fs::create_directories(dir + "/data");
  }

  ~router_process() {
    if (pid > 0 && status < 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  /// Starts `zaki-router args...`; `token` becomes TELEGRAM_BOT_TOKEN
  /// (unset when empty).
  void start(std::vector<std::string> args, const std::string& token) {
    pid = ::fork();
    if (pid == 0) {
      int out = ::open((dir + "/stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                       0600);
      int err = ::open((dir + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                       0600);
      ::dup2(out, 1);
      ::dup2(err, 2);
      if (token.empty())
        ::unsetenv("TELEGRAM_BOT_TOKEN");
      else
        ::setenv("TELEGRAM_BOT_TOKEN", token.c_str(), 1);
      ::unsetenv("ZAKI_ADMIN_TOKEN");
      auto exe = router_binary();
      std::vector<char*> argv{exe.data()};
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(exe.c_str(), argv.data());
      ::_exit(127);
    }
  }

  /// Waits for the exit; returns the exit code, or -1 on a timeout (the
  /// child is then killed) or a signal.
  int wait(milliseconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid)
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      std::this_thread::sleep_for(milliseconds(20));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
  }

  int run(std::vector<std::string> args, const std::string& token = {}) {
    start(std::move(args), token);
    return wait(seconds(20));
  }

  std::string err() const {
    return slurp(dir + "/stderr");
  }

  std::string out() const {
    return slurp(dir + "/stdout");
  }

  std::vector<std::string> isolated(std::vector<std::string> args) const {
    // Never the default users.json/data of the working directory, never
    // the default admin port (another router may hold it).
    args.push_back("--store.users-file=" + dir + "/users.json");
    args.push_back("--store.data-root=" + dir + "/data");
    args.push_back("--admin.address=127.0.0.1:0");
    return args;
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// The zaki option names ("group.name") that `--long-help` lists.
std::set<std::string> zaki_option_names(const std::string& help) {
  static const std::set<std::string> caf_groups{"global",        "logger",
                                                "middleman",     "opencl",
                                                "openssl",       "stream",
                                                "work-stealing", "scheduler"};
  std::set<std::string> names;
  std::istringstream in{help};
  std::string line;
  while (std::getline(in, line)) {
    auto pos = line.find("--");
    if (pos == std::string::npos)
      continue;
    auto end = line.find_first_of("=: ", pos);
    auto name = line.substr(pos + 2, end - pos - 2);
    auto dot = name.find('.');
    if (dot == std::string::npos || caf_groups.count(name.substr(0, dot)))
      continue;
    names.insert(name);
  }
  return names;
}

} // namespace

CAF_TEST(an unknown option is refused with its name) {
  router_process p;
  CAF_CHECK_EQUAL(p.run({"run", "--telegram.no-such-option=1"}, "1:x"), 2);
  CAF_CHECK(contains(p.err(), "--telegram.no-such-option=1"));
}

CAF_TEST(an unknown scheduler policy is refused) {
  router_process p;
  CAF_CHECK_EQUAL(p.run({"run", "--scheduler.policy=fastest"}, "1:x"), 2);
  CAF_CHECK(contains(p.err(),
                     "scheduler.policy must be io, sharing or "
                     "stealing"));
}

CAF_TEST(a missing bot token is refused with a clear message) {
  router_process p;
  CAF_CHECK_EQUAL(p.run(p.isolated({"run"})), 2);
  CAF_CHECK(contains(p.err(), "TELEGRAM_BOT_TOKEN"));
  router_process q;
  std::ofstream{q.dir + "/empty-token"} << "  \n";
  CAF_CHECK_EQUAL(
    q.run(
      q.isolated({"run", "--telegram.token-file=" + q.dir + "/empty-token"})),
    2);
  CAF_CHECK(contains(q.err(), "is empty"));
}

CAF_TEST(a users file that does not parse names the line and column) {
  router_process p;
  std::ofstream{p.dir + "/users.json"}
    << "{\"users\": {\n  \"1\": {\"port\": 19001, \"token\": \"t\",}\n}}\n";
  CAF_CHECK_EQUAL(p.run(p.isolated({"run"}), "123:secret-bot-token"), 2);
  auto err = p.err();
  CAF_CHECK(contains(err, "line 2, column"));
  CAF_CHECK(!contains(err, "secret-bot-token"));
}

CAF_TEST(dump config shows the effective values of command line and INI) {
  router_process p;
  auto ini = p.dir + "/router.ini";
  std::ofstream{ini} << "[gateway]\ntimeout=7s\nmodel=\"from-ini\"\n"
                        "[backend]\nkind=\"process\"\n";
  auto code = p.run({"run", "--config-file=" + ini,
                     "--telegram.api-root=http://127.0.0.1:9",
                     "--store.users-file=/srv/u.json",
                     "--store.data-root=/srv/data", "--backend.kind=static",
                     "--admin.address=127.0.0.1:8181", "--dump-config"});
  CAF_CHECK_EQUAL(code, 0);
  auto dump = p.err() + p.out();
  CAF_CHECK(contains(dump, "api-root = \"http://127.0.0.1:9\""));
  CAF_CHECK(contains(dump, "users-file = \"/srv/u.json\""));
  CAF_CHECK(contains(dump, "data-root = \"/srv/data\""));
  CAF_CHECK(contains(dump, "kind = \"static\"")); // the command line wins
  CAF_CHECK(contains(dump, "address = \"127.0.0.1:8181\""));
  CAF_CHECK(contains(dump, "timeout = 7s"));
  CAF_CHECK(contains(dump, "model = \"from-ini\""));
}

CAF_TEST(the example INI lists every option and parses) {
  router_process help;
  CAF_CHECK_EQUAL(help.run({"run", "--long-help"}), 0);
  auto names = zaki_option_names(help.err() + help.out());
  CAF_REQUIRE_GREATER(names.size(), 40u);
  auto ini_path = repo_root() + "/configs/zaki-router.ini";
  auto ini = slurp(ini_path);
  std::string group;
  std::set<std::string> listed;
  std::istringstream in{ini};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    if (line[0] == '[') {
      group = line.substr(1, line.find(']') - 1);
      continue;
    }
    // Options appear as "name=value" or commented out as "; name=value".
    auto start = line.find_first_not_of("; #");
    auto eq = line.find('=');
    if (start == std::string::npos || eq == std::string::npos || eq < start)
      continue;
    auto key = line.substr(start, eq - start);
    key.erase(key.find_last_not_of(' ') + 1);
    if (key.find(' ') == std::string::npos)
      listed.insert(group + "." + key);
  }
  for (auto& name : names)
    if (listed.count(name) == 0)
      CAF_FAIL("configs/zaki-router.ini does not list " << name);
  router_process p;
  CAF_CHECK_EQUAL(p.run({"run", "--config-file=" + ini_path, "--dump-config"}),
                  0);
  CAF_CHECK(
    contains(p.err() + p.out(), "api-root = \"https://api.telegram.org\""));
}

CAF_TEST(long help without a command lists every option) {
  router_process help;
  CAF_CHECK_EQUAL(help.run({"--long-help"}), 0);
  auto text = help.err() + help.out();
  CAF_CHECK(!contains(text, "unknown command"));
  CAF_CHECK_GREATER(zaki_option_names(text).size(), 40u);
  CAF_CHECK(contains(text, "telegram.max-wait"));
}

CAF_TEST(an invalid bot token stops the router with exit code 2) {
  fakes::fake_telegram tg;
  tg.start();
  router_process p;
  auto code = p.run(p.isolated({"run", "--telegram.api-root=" + tg.api_root()}),
                    "999:wrong-token");
  CAF_CHECK_EQUAL(code, 2);
  auto err = p.err();
  CAF_CHECK(contains(err, "invalid"));
  CAF_CHECK(!contains(err, "wrong-token"));
}

CAF_TEST(run routes a message and stops gracefully on a TERM signal) {
  fakes::fake_telegram tg;
  tg.start();
  fakes::fake_gateway_options gopts;
  gopts.token = "gw-secret-cli";
  fakes::fake_gateway gw{gopts};
  auto port = gw.start();
  router_process p;
  user_map users;
  user_record rec;
  rec.user_id = 5000000123;
  rec.port = port;
  rec.token = gopts.token;
  rec.container = "zaki-user-5000000123";
  users[rec.user_id] = rec;
  CAF_REQUIRE_EQUAL(save_users_file(p.dir + "/users.json", users), "");
  p.start(p.isolated({"run", "--telegram.api-root=" + tg.api_root(),
                      "--telegram.poll-timeout=1s"}),
          tg.token());
  auto last = tg.push_text(rec.user_id, "hello through the binary");
  CAF_CHECK(tg.wait_for_sent_to(rec.user_id, 1, seconds(15)));
  auto sent = tg.sent_to(rec.user_id);
  CAF_REQUIRE_EQUAL(sent.size(), 1u);
  CAF_CHECK(contains(sent[0].text, "hello through the binary"));
  ::kill(p.pid, SIGTERM);
  CAF_CHECK_EQUAL(p.wait(seconds(15)), 0);
  CAF_CHECK_EQUAL(tg.confirmed_offset(), last + 1);
  auto err = p.err();
  CAF_CHECK(contains(err, "Message from 5000000123"));
  CAF_CHECK(!contains(err, tg.token()));
  CAF_CHECK(!contains(err, gopts.token));
}
