// The soak of issue 24 item 5: one real `zaki-router run` for an hour (by
// default) against the load bench's fakes, in cycles of open-loop traffic
// and idle periods longer than `user.idle-timeout`, so that user actors stop
// and start again cycle after cycle. Every 10 s it samples the router's RSS,
// open descriptors, the inbox journal and the database files, and prints
// the series; at the end it judges them flat (the last third against the
// first after warm-up) and reports every lost, duplicated or misrouted
// reply.
//
// Usage: zaki-soak-bench [--minutes=60] [--users=2000] [--rate=400]
//          [--busy-s=150] [--idle-s=60] [--user-idle=30s] [--latency-ms=20]
//          [--sample-s=10] [--router=PATH] [--work-dir=DIR] [--keep-dir]
//          [--router-arg=--x.y=z ...]
// The router runs at its default settings (info logging, streamed answers)
// except the Bot API pacing (the fake has no flood limits), the per-user
// rate limit (the users write faster than 20/min) and --user.idle-timeout
// (so that actors stop within each idle period).
// Exit code: 0 flat and nothing lost, 1 a violation or a router that
// failed, 2 usage, 3 a series that grew.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>

#include "benches/load_driver.hpp"
#include "benches/load_proc.hpp"
#include "benches/load_world.hpp"
#include "storage/user_paths.hpp"
#include "storage/users_file.hpp"

using namespace std::chrono;
using namespace zaki::bench;

namespace {

struct soak_options {
  double minutes = 60;
  size_t users = 2000;
  double rate = 400;
  int busy_s = 150;
  int idle_s = 60;
  std::string user_idle = "30s";
  int latency_ms = 20;
  int sample_s = 10;
  std::string router;
  std::string work_dir;
  bool keep_dir = false;
  std::vector<std::string> router_args;
};

/// One sample of the router's resources.
struct sample {
  double t_s = 0;
  uint64_t delivered = 0;
  double rss_mb = 0;
  size_t fds = 0;
  double journal_kb = 0;
  double db_mb = 0;
  double wal_mb = 0;
  double cpu_s = 0;
};

size_t open_descriptors(pid_t pid) {
  std::error_code ec;
  size_t n = 0;
  for (std::filesystem::directory_iterator
         i{"/proc/" + std::to_string(pid) + "/fd", ec},
       end;
       !ec && i != end; i.increment(ec))
    ++n;
  return n;
}

double file_size(const std::string& path, double unit) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : double(n) / unit;
}

bool parse_args(int argc, char** argv, soak_options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto eq = a.find('=');
    auto key = a.substr(0, eq);
    auto val = eq == std::string::npos ? std::string{} : a.substr(eq + 1);
    if (key == "--minutes")
      o.minutes = std::stod(val);
    else if (key == "--users")
      o.users = std::stoul(val);
    else if (key == "--rate")
      o.rate = std::stod(val);
    else if (key == "--busy-s")
      o.busy_s = std::stoi(val);
    else if (key == "--idle-s")
      o.idle_s = std::stoi(val);
    else if (key == "--user-idle")
      o.user_idle = val;
    else if (key == "--latency-ms")
      o.latency_ms = std::stoi(val);
    else if (key == "--sample-s")
      o.sample_s = std::max(1, std::stoi(val));
    else if (key == "--router")
      o.router = val;
    else if (key == "--work-dir")
      o.work_dir = val;
    else if (key == "--keep-dir")
      o.keep_dir = true;
    else if (key == "--router-arg")
      o.router_args.push_back(val);
    else {
      std::fprintf(stderr,
                   "unknown option %s (see the head of "
                   "benches/soak_bench.cpp)\n",
                   a.c_str());
      return false;
    }
  }
  if (o.router.empty())
    o.router = own_directory() + "/zaki-router";
  return o.users > 0 && o.rate > 0 && o.busy_s > 0 && o.minutes > 0;
}

/// Sums what the users saw over the cycles.
struct soak_totals {
  uint64_t expected = 0, delivered = 0, lost = 0, duplicated = 0, misrouted = 0,
           order = 0, unexpected = 0, overlap = 0;
  void add(const run_record& r, const gateway_totals& g) {
    expected += r.expected;
    delivered += r.delivered;
    lost += r.lost;
    duplicated += r.duplicated;
    misrouted += r.misrouted + g.misrouted;
    order += r.order_violations + g.order_violations;
    unexpected += r.unexpected + g.unauthorized;
    overlap += g.overlap_violations;
  }
  uint64_t violations() const {
    return lost + duplicated + misrouted + order + unexpected + overlap;
  }
};

/// Largest value of `field` over samples [from, to).
template <class F>
double max_of(const std::vector<sample>& xs, size_t from, size_t to, F field) {
  double m = 0;
  for (size_t i = from; i < to && i < xs.size(); ++i)
    m = std::max(m, field(xs[i]));
  return m;
}

} // namespace

int main(int argc, char** argv) {
  soak_options o;
  try {
    if (!parse_args(argc, argv, o)) {
      std::fprintf(stderr, "bad options\n");
      return 2;
    }
  } catch (const std::exception&) {
    std::fprintf(stderr, "bad option value\n");
    return 2;
  }
  world_options wo;
  wo.registered = o.users;
  wo.gateway_latency = milliseconds(o.latency_ms);
  load_world world{wo};
  world.start();
  auto dir = (o.work_dir.empty() ? std::filesystem::temp_directory_path()
                                 : std::filesystem::path{o.work_dir})
    / ("zaki-soak-bench-" + std::to_string(::getpid()));
  auto data = (dir / "data").string();
  std::filesystem::create_directories(data);
  for (size_t i = 0; i < o.users; ++i) {
    std::error_code ec;
    std::filesystem::create_directories(
      zaki::user_data_dir(data, load_world::user_id(i)), ec);
  }
  auto users_file = (dir / "users.json").string();
  if (auto err = zaki::save_users_file(users_file, world.users());
      !err.empty()) {
    std::fprintf(stderr, "cannot write users.json: %s\n", err.c_str());
    return 1;
  }
  auto argv_router = world.router_argv(o.router, users_file, data);
  argv_router.push_back("--user.idle-timeout=" + o.user_idle);
  argv_router.insert(argv_router.end(), o.router_args.begin(),
                     o.router_args.end());
  auto log_file = (dir / "router.log").string();
  child_process router;
  if (!router.spawn(argv_router,
                    {"TELEGRAM_BOT_TOKEN=" + world.telegram().token()},
                    log_file)) {
    std::fprintf(stderr, "cannot start %s\n", o.router.c_str());
    return 1;
  }
  auto until = steady_clock::now() + seconds(60);
  while (world.telegram().get_updates_calls() == 0) {
    if (!router.running() || steady_clock::now() > until) {
      std::fprintf(stderr, "the router did not start polling; see %s\n",
                   log_file.c_str());
      return 1;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  auto per_cycle = static_cast<size_t>(o.rate * o.busy_s / double(o.users));
  per_cycle = std::max<size_t>(1, per_cycle);
  std::printf("== soak: %.0f min, %zu users, cycles of %d s at %.0f msg/s "
              "(%zu messages per user) and %d s idle, user.idle-timeout=%s, "
              "gateway %d ms\n",
              o.minutes, o.users, o.busy_s, o.rate, per_cycle, o.idle_s,
              o.user_idle.c_str(), o.latency_ms);
  std::fflush(stdout);

  // The sampler: every sample_s seconds, in its own thread.
  std::vector<sample> samples;
  std::mutex samples_mtx;
  std::atomic<uint64_t> delivered_so_far{0};
  std::atomic<bool> sampling{true};
  auto t0 = steady_clock::now();
  std::thread sampler{[&] {
    auto next = steady_clock::now();
    while (sampling) {
      sample x;
      x.t_s = duration<double>(steady_clock::now() - t0).count();
      x.delivered = delivered_so_far;
      x.rss_mb = process_status_kb(router.pid(), "VmRSS") / 1048576.0;
      x.fds = open_descriptors(router.pid());
      x.journal_kb = file_size(data + "/inbox.journal", 1024);
      x.db_mb = file_size(data + "/zaki.db", 1048576);
      x.wal_mb = file_size(data + "/zaki.db-wal", 1048576);
      x.cpu_s = process_cpu_seconds(router.pid());
      {
        std::lock_guard<std::mutex> guard{samples_mtx};
        samples.push_back(x);
      }
      std::printf("   t=%5.0fs delivered %8llu rss %6.1f MB fds %4zu "
                  "journal %8.1f KB db %6.2f MB wal %6.2f MB cpu %7.1f s\n",
                  x.t_s, (unsigned long long) x.delivered, x.rss_mb, x.fds,
                  x.journal_kb, x.db_mb, x.wal_mb, x.cpu_s);
      std::fflush(stdout);
      next += seconds(o.sample_s);
      while (sampling && steady_clock::now() < next)
        std::this_thread::sleep_for(milliseconds(100));
    }
  }};

  soak_totals totals;
  auto end = t0 + duration<double>(o.minutes * 60);
  bool router_died = false;
  size_t cycle = 0;
  while (steady_clock::now() < end && !router_died) {
    ++cycle;
    run_plan plan;
    plan.users = o.users;
    plan.messages = per_cycle;
    plan.open_loop = true;
    plan.rate = o.rate;
    plan.timeout = seconds(o.busy_s + 120);
    world.reset_gateways();
    auto driver = std::make_shared<load_driver>(world, plan);
    world.telegram().on_send([driver](const zaki::fakes::sent_message& m) {
      driver->on_reply(m);
    });
    driver->start();
    driver->wait();
    auto rec = driver->finish();
    world.telegram().on_send([](const zaki::fakes::sent_message&) {});
    totals.add(rec, world.gateway_stats());
    delivered_so_far += rec.delivered;
    world.telegram().forget_history();
    std::printf("   cycle %zu: %llu/%llu delivered, lost %llu, dup %llu\n",
                cycle, (unsigned long long) rec.delivered,
                (unsigned long long) rec.expected,
                (unsigned long long) rec.lost,
                (unsigned long long) rec.duplicated);
    std::fflush(stdout);
    router_died = !router.running();
    // Idle: every user actor stops after user.idle-timeout.
    auto idle_end = steady_clock::now() + seconds(o.idle_s);
    while (steady_clock::now() < idle_end && steady_clock::now() < end
           && !router_died)
      std::this_thread::sleep_for(milliseconds(200));
  }
  sampling = false;
  sampler.join();
  auto exit = router.stop(seconds(30));

  // Flat: the last third of the samples against the first third after a
  // warm-up of one cycle (the first busy period fills caches and pools).
  auto n = samples.size();
  auto warm
    = std::min(n, static_cast<size_t>((o.busy_s + o.idle_s) / o.sample_s + 1));
  auto third = (n - warm) / 3;
  auto early_from = warm, early_to = warm + third, late_from = n - third;
  auto rss = [](const sample& x) {
    return x.rss_mb;
  };
  auto fds = [](const sample& x) {
    return double(x.fds);
  };
  auto journal = [](const sample& x) {
    return x.journal_kb;
  };
  auto wal = [](const sample& x) {
    return x.wal_mb;
  };
  double rss_early = max_of(samples, early_from, early_to, rss);
  double rss_late = max_of(samples, late_from, n, rss);
  double fds_early = max_of(samples, early_from, early_to, fds);
  double fds_late = max_of(samples, late_from, n, fds);
  double j_early = max_of(samples, early_from, early_to, journal);
  double j_late = max_of(samples, late_from, n, journal);
  double wal_max = max_of(samples, 0, n, wal);
  // Flat within 10 % (RSS), 8 descriptors (connections come and go) and a
  // journal that does not keep growing (it compacts itself).
  bool rss_flat = third == 0 || rss_late <= rss_early * 1.10;
  bool fds_flat = third == 0 || fds_late <= fds_early + 8;
  bool journal_flat = third == 0 || j_late <= std::max(j_early * 1.5, 64.0);
  std::printf("\nsoak: %zu cycles, %llu messages, %llu delivered; lost %llu, "
              "duplicated %llu, misrouted %llu, order %llu, overlap %llu, "
              "errors %llu; router exit %d\n",
              cycle, (unsigned long long) totals.expected,
              (unsigned long long) totals.delivered,
              (unsigned long long) totals.lost,
              (unsigned long long) totals.duplicated,
              (unsigned long long) totals.misrouted,
              (unsigned long long) totals.order,
              (unsigned long long) totals.overlap,
              (unsigned long long) totals.unexpected, exit);
  if (third == 0)
    std::printf("too few samples after the warm-up cycle to judge the "
                "series (run at least 3 cycles)\n");
  else
    std::printf("RSS max %.1f MB early -> %.1f MB late (%s); descriptors max "
                "%.0f -> %.0f (%s); journal max %.1f KB -> %.1f KB (%s); WAL "
                "max %.2f MB\n",
                rss_early, rss_late, rss_flat ? "flat" : "GREW", fds_early,
                fds_late, fds_flat ? "flat" : "GREW", j_early, j_late,
                journal_flat ? "flat" : "GREW", wal_max);
  if (o.keep_dir)
    std::printf("kept %s\n", dir.c_str());
  else {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  if (totals.violations() > 0 || exit != 0 || router_died)
    return 1;
  return rss_flat && fds_flat && journal_flat ? 0 : 3;
}
