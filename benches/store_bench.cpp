// The store's figures against the targets of issue 21: importing users.json
// of 100,000 users (target <= 1.5 s) and of 1,000,000 (<= 15 s, peak RSS
// <= 200 MB), each in a child process of its own so that its peak RSS is
// the import's alone; then the start of the real router on the database of
// the largest import to its first getUpdates (target <= 1 s: users are
// looked up on demand, never loaded whole).
// Usage: zaki-store-bench [--quick] (100,000 and 10,000 users only)

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers/spawn_child.hpp"
#include "emulators/fake_telegram.hpp"
#include "storage/database.hpp"
#include "storage/users_import.hpp"

using namespace std::chrono;
using namespace zaki;
namespace fakes = zaki::fakes;
namespace fs = std::filesystem;

namespace {

/// Writes a users.json of `n` users sharing one gateway, as the load
/// benches do (the static backend), streaming.
void write_users_json(const std::string& path, int64_t n) {
  auto f = std::fopen(path.c_str(), "w");
  std::fputs("{\"users\": {\n", f);
  for (int64_t i = 1; i <= n; ++i)
    std::fprintf(f,
                 "  \"%lld\": {\"port\": 19001, \"token\": "
                 "\"0123456789abcdef0123456789abcdef\", \"container\": "
                 "\"zaki-user-%lld\"}%s\n",
                 static_cast<long long>(i), static_cast<long long>(i),
                 i == n ? "" : ",");
  std::fputs("}}\n", f);
  std::fclose(f);
}

struct import_figures {
  double seconds = -1;
  double peak_rss_mb = -1;
  uint64_t imported = 0;
};

/// Imports `json` into a fresh database at `db_path` in a child process.
import_figures import_in_child(const std::string& json,
                               const std::string& db_path) {
  int fds[2];
  if (::pipe(fds) != 0)
    return {};
  auto pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string err;
    auto db = database::open(db_path, err);
    if (!db)
      ::_exit(1);
    auto t0 = steady_clock::now();
    auto rep = import_users(*db, json, false);
    auto s = duration<double>(steady_clock::now() - t0).count();
    double out[2] = {s, static_cast<double>(rep.imported)};
    if (!rep.ok || ::write(fds[1], out, sizeof(out)) != sizeof(out))
      ::_exit(2);
    ::_exit(0);
  }
  ::close(fds[1]);
  import_figures fig;
  double in[2] = {-1, 0};
  if (::read(fds[0], in, sizeof(in)) == sizeof(in)) {
    fig.seconds = in[0];
    fig.imported = static_cast<uint64_t>(in[1]);
  }
  ::close(fds[0]);
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  fig.peak_rss_mb = ru.ru_maxrss / 1024.0;
  return fig;
}

/// Starts zaki-router on `data_root` and returns the seconds to its first
/// getUpdates.
double start_to_first_poll(const std::string& data_root,
                           const std::string& users_file) {
  fakes::fake_telegram tg;
  tg.start();
  auto t0 = steady_clock::now();
  auto pid = ::fork();
  if (pid == 0) {
    ::setenv("TELEGRAM_BOT_TOKEN", tg.token().c_str(), 1);
    auto exe = self_exe_dir() + "/zaki-router";
    std::vector<std::string> args{exe,
                                  "run",
                                  "--telegram.api-root=" + tg.api_root(),
                                  "--store.data-root=" + data_root,
                                  "--store.users-file=" + users_file,
                                  "--admin.address=127.0.0.1:0",
                                  "--log.level=warn"};
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    std::freopen("/dev/null", "w", stderr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  bool polled = tg.wait_for_polls(1, seconds(30));
  auto s = duration<double>(steady_clock::now() - t0).count();
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return polled ? s : -1;
}

} // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string{argv[1]} == "--quick";
  auto dir = fs::temp_directory_path()
    / ("zaki-store-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<int64_t> sizes = quick ? std::vector<int64_t>{10000, 100000}
                                     : std::vector<int64_t>{100000, 1000000};
  std::string last_root;
  std::string last_json;
  for (auto n : sizes) {
    auto root = (dir / ("root-" + std::to_string(n))).string();
    fs::create_directories(root);
    auto json = (dir / ("users-" + std::to_string(n) + ".json")).string();
    write_users_json(json, n);
    auto size_mb = fs::file_size(json) / 1048576.0;
    auto fig = import_in_child(json, root + "/zaki.db");
    double target_s = n >= 1000000 ? 15.0 : 1.5;
    std::printf("import %lld users (users.json %.1f MB): %.2f s (target <= "
                "%.1f s), peak RSS %.1f MB%s, %llu imported\n",
                static_cast<long long>(n), size_mb, fig.seconds, target_s,
                fig.peak_rss_mb, n >= 1000000 ? " (target <= 200 MB)" : "",
                static_cast<unsigned long long>(fig.imported));
    std::fflush(stdout);
    last_root = root;
    last_json = json;
  }
  // The users.json is older than its import: the start imports nothing.
  auto s = start_to_first_poll(last_root, last_json);
  std::printf("start with %lld users in the database to the first getUpdates:"
              " %.3f s (target <= 1 s)\n",
              static_cast<long long>(sizes.back()), s);
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return 0;
}
