#define CAF_SUITE e2e.storage
#include "caf/test/unit_test.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>

#include "containers/spawn_child.hpp"
#include "emulators/fake_gateway.hpp"
#include "emulators/fake_telegram.hpp"
#include "emulators/sync_client.hpp"
#include "storage/users_file.hpp"

// The binary with a read-only data root: /health/ready fails and names it,
// and a user's message gets the storage error (ZR-STORAGE-READ-ONLY), not
// "something went wrong on our side". As root the child makes the data root
// a read-only bind mount in a mount namespace of its own (permission bits
// do not stop root); otherwise it drops the write permission.

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

uint16_t free_port() {
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::acceptor acc{ioc, {net::ip::make_address("127.0.0.1"), 0}};
  return acc.local_endpoint().port();
}

/// Makes `dir` read-only for this (single-threaded, forked) process.
bool make_read_only(const std::string& dir) {
  if (::geteuid() != 0)
    return ::chmod(dir.c_str(), 0555) == 0;
  return ::unshare(CLONE_NEWNS) == 0
    && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0
    && ::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) == 0
    && ::mount(nullptr, dir.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY,
               nullptr)
    == 0;
}

} // namespace

CAF_TEST(a read only data root fails readiness and tells the user) {
  fakes::fake_telegram tg;
  tg.start();
  fakes::fake_gateway_options gopts;
  gopts.token = "gw-secret-storage";
  fakes::fake_gateway gw{gopts};
  auto gw_port = gw.start();
  auto dir = (fs::temp_directory_path()
              / ("zaki-storage-" + std::to_string(::getpid())))
               .string();
  fs::create_directories(dir + "/data");
  user_record rec;
  rec.user_id = 5000000321;
  rec.port = gw_port;
  rec.token = gopts.token;
  rec.container = "zaki-user-5000000321";
  user_map users{{rec.user_id, rec}};
  CAF_REQUIRE_EQUAL(save_users_file(dir + "/users.json", users), "");
  auto admin_port = free_port();
  std::vector<std::string> args{"run",
                                "--telegram.api-root=" + tg.api_root(),
                                "--telegram.poll-timeout=1s",
                                "--store.users-file=" + dir + "/users.json",
                                "--store.data-root=" + dir + "/data",
                                "--admin.address=127.0.0.1:"
                                  + std::to_string(admin_port)};
  auto exe = self_exe_dir() + "/zaki-router";
  auto pid = ::fork();
  if (pid == 0) {
    int err = ::open((dir + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                     0600);
    ::dup2(err, 2);
    ::dup2(err, 1);
    if (!make_read_only(dir + "/data"))
      ::_exit(126);
    ::setenv("TELEGRAM_BOT_TOKEN", tg.token().c_str(), 1);
    ::unsetenv("ZAKI_ADMIN_TOKEN");
    std::vector<char*> argv{exe.data()};
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  CAF_REQUIRE(pid > 0);
  tg.push_text(rec.user_id, "hello on a read-only disk");
  CAF_CHECK(tg.wait_for_sent_to(rec.user_id, 1, seconds(15)));
  auto sent = tg.sent_to(rec.user_id);
  CAF_REQUIRE_EQUAL(sent.size(), 1u);
  CAF_CHECK(sent[0].text.find("ZR-STORAGE-READ-ONLY") != std::string::npos);
  CAF_CHECK(sent[0].text.find("went wrong on our side") == std::string::npos);
  CAF_CHECK_EQUAL(gw.stats().chat_requests, 0u);
  int status = 0;
  std::string body;
  for (int i = 0; i < 50 && status == 0; ++i) {
    fakes::sync_client c{admin_port, seconds(5)};
    if (auto res = c.call(boost::beast::http::verb::get, "/health/ready", {},
                          {})) {
      status = static_cast<int>(res->result_int());
      body = res->body();
    } else {
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
  CAF_CHECK_EQUAL(status, 503);
  CAF_CHECK(body.find("\"storage\"") != std::string::npos);
  CAF_CHECK(body.find("not writable") != std::string::npos);
  ::kill(pid, SIGTERM);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  CAF_CHECK(WIFEXITED(wstatus));
  auto log = slurp(dir + "/stderr");
  CAF_CHECK(log.find("event=storage_unwritable") != std::string::npos);
  CAF_CHECK(log.find(tg.token()) == std::string::npos);
  ::chmod((dir + "/data").c_str(), 0755);
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}
