// The crash suite: the real zaki-router binary under open-loop load against
// the loopback fakes (the load bench's world and users), killed with SIGKILL
// at random moments and restarted on the same data root and users.json, then
// stopped with SIGTERM and restarted. Every message must be answered in the
// end (0 lost) and every gateway must see each user's messages one at a
// time and in order (0 overlap, 0 order violations); duplicate replies and
// duplicate gateway requests are what a crash costs, and are reported. After
// SIGTERM (a graceful stop) there must be no duplicates at all.
//
//   zaki-crash-bench [--router=PATH] [--kills=20] [--terms=5] [--users=200]
//                    [--rate=100] [--latency-ms=20] [--messages=N]
//                    [--seed=N] [--log-level=warn] [--work-dir=DIR]
//                    [--keep-dir] [--smoke]
//
// --smoke is the CI run: 3 kills and 1 SIGTERM restart with fewer messages.
// Exits 1 on any loss or gateway violation, or a duplicate after SIGTERM.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <unistd.h>

#include "benches/load_driver.hpp"
#include "benches/load_proc.hpp"
#include "benches/load_world.hpp"
#include "storage/inbox_journal.hpp"
#include "storage/user_paths.hpp"
#include "storage/users_file.hpp"

using namespace std::chrono;
using namespace zaki::bench;

namespace {

struct crash_options {
  std::string router;
  size_t kills = 20;
  size_t terms = 5;
  size_t users = 200;
  double rate = 100;
  int latency_ms = 20;
  /// Messages per user in each phase (0: enough for the restarts).
  size_t messages = 0;
  uint64_t seed = 0;
  std::string log_level = "warn";
  std::string work_dir;
  bool keep_dir = false;
};

/// The router process of the suite: one data root and users.json, started
/// again after every stop.
class router_runner {
public:
  router_runner(load_world& world, const crash_options& o, std::string dir)
    : world_(world), o_(o), dir_(std::move(dir)) {
    // nop
  }

  /// Starts the router and waits until it polls; returns the time that took
  /// in ms, or a negative value when it did not start.
  double start() {
    auto argv = world_.router_argv(o_.router, dir_ + "/users.json",
                                   dir_ + "/data");
    argv.insert(argv.end(),
                {"--log.level=" + o_.log_level, "--shutdown.grace=10s"});
    auto polls = world_.telegram().get_updates_calls();
    auto t0 = steady_clock::now();
    proc_ = std::make_unique<child_process>();
    if (!proc_->spawn(argv, {"TELEGRAM_BOT_TOKEN=" + world_.telegram().token()},
                      dir_ + "/router.log"))
      return -1;
    auto until = t0 + seconds(60);
    while (world_.telegram().get_updates_calls() <= polls) {
      if (!proc_->running() || steady_clock::now() > until)
        return -1;
      std::this_thread::sleep_for(milliseconds(2));
    }
    return duration<double, std::milli>(steady_clock::now() - t0).count();
  }

  /// SIGKILL, then waits for the exit.
  void kill() {
    ::kill(proc_->pid(), SIGKILL);
    proc_->wait_for_exit(seconds(10));
  }

  /// SIGTERM with the router's grace; returns the exit code.
  int terminate() {
    return proc_->stop(seconds(30));
  }

  bool running() {
    return proc_ && proc_->running();
  }

  std::string data_root() const {
    return dir_ + "/data";
  }

private:
  load_world& world_;
  const crash_options& o_;
  std::string dir_;
  std::unique_ptr<child_process> proc_;
};

/// What the journal left by a stop says about the replies under way: the
/// replay re-sends what the journal does not mark as confirmed.
struct journal_at_stop {
  /// Messages accepted and not done.
  uint64_t pending = 0;
  /// Of these, messages whose answer is recorded (no new gateway request).
  uint64_t answered = 0;
  /// Reply messages (sendMessage: chunks, previews) Telegram received for
  /// pending messages beyond what the journal marks as confirmed: the
  /// chunks in flight at the stop, the most a replay may send twice.
  uint64_t chunks_in_flight = 0;
};

/// Reads the journal a stopped router left (it holds no lock on it now).
journal_at_stop read_journal(const std::string& path, load_driver& driver) {
  journal_at_stop out;
  std::ifstream in{path, std::ios::binary};
  std::stringstream buf;
  buf << in.rdbuf();
  auto pending = zaki::decode_journal(buf.str());
  for (auto& kvp : pending) {
    auto& msg = kvp.second;
    ++out.pending;
    if (msg.answered)
      ++out.answered;
    int64_t uid = 0;
    int64_t seq = -1;
    if (!load_driver::marker_of(msg.text, uid, seq))
      continue;
    uint64_t seen = driver.replies_to(uid, seq);
    // A marked preview is edited by the replay, not sent again.
    uint64_t confirmed = msg.chunks_sent + (msg.preview_message_id > 0 ? 1 : 0);
    if (seen > confirmed)
      out.chunks_in_flight += seen - confirmed;
  }
  return out;
}

/// One stop: what was under way, and what its replay repeated.
struct stop_figures {
  uint64_t requests_in_flight = 0;
  journal_at_stop journal;
  /// Duplicate replies and repeated gateway requests between this stop
  /// and the next (or the end of the phase).
  uint64_t duplicate_replies = 0;
  uint64_t repeated_requests = 0;
};

/// The figures of one phase.
struct phase_figures {
  std::string name;
  size_t stops = 0;
  run_record rec;
  gateway_totals gw;
  /// Gateway requests under way at the moments of the stops, summed.
  uint64_t in_flight_at_stops = 0;
  /// Per stop, in order.
  std::vector<stop_figures> per_stop;
  /// Reply chunks in flight at the stops, summed (see journal_at_stop).
  uint64_t chunks_in_flight_at_stops = 0;
  /// Restart times (start to first poll) in ms.
  std::vector<double> restart_ms;
  /// SIGTERM exits other than 0.
  size_t bad_exits = 0;
  bool started = true;

  uint64_t duplicate_requests() const {
    return gw.chat_requests > rec.delivered ? gw.chat_requests - rec.delivered
                                            : 0;
  }

  void print() const {
    double max_restart = 0;
    double sum_restart = 0;
    for (auto ms : restart_ms) {
      max_restart = std::max(max_restart, ms);
      sum_restart += ms;
    }
    auto per = [this](double x) {
      return stops ? x / stops : 0.0;
    };
    std::printf(
      "%s: %zu stops, %llu messages: lost %llu, duplicate replies %llu "
      "(%.2f per stop), duplicate gateway requests %llu (%.2f per stop; "
      "gateway repeats %llu), gateway requests in flight at the stops %llu; "
      "gateway overlap %llu, gateway order %llu, misrouted %llu, reply "
      "order %llu, other texts %llu; restart to first poll mean %.0f ms, "
      "max %.0f ms; bad exits %zu\n",
      name.c_str(), stops, (unsigned long long) rec.expected,
      (unsigned long long) rec.lost, (unsigned long long) rec.duplicated,
      per(rec.duplicated), (unsigned long long) duplicate_requests(),
      per(duplicate_requests()), (unsigned long long) gw.repeats,
      (unsigned long long) in_flight_at_stops,
      (unsigned long long) gw.overlap_violations,
      (unsigned long long) gw.order_violations,
      (unsigned long long) (gw.misrouted + rec.misrouted),
      (unsigned long long) rec.order_violations,
      (unsigned long long) rec.unexpected,
      restart_ms.empty() ? 0.0 : sum_restart / restart_ms.size(), max_restart,
      bad_exits);
    for (size_t k = 0; k < per_stop.size(); ++k) {
      auto& p = per_stop[k];
      std::printf("  %s %zu: gateway requests in flight %llu, repeated "
                  "%llu; reply chunks in flight %llu, duplicate replies "
                  "%llu; journal pending %llu (answer recorded %llu)\n",
                  name.c_str(), k + 1,
                  (unsigned long long) p.requests_in_flight,
                  (unsigned long long) p.repeated_requests,
                  (unsigned long long) p.journal.chunks_in_flight,
                  (unsigned long long) p.duplicate_replies,
                  (unsigned long long) p.journal.pending,
                  (unsigned long long) p.journal.answered);
    }
    std::printf("%s: duplicate gateway requests %llu vs %llu in flight "
                "(target: not more); duplicate replies %llu vs %llu reply "
                "chunks in flight (target: not more)\n",
                name.c_str(), (unsigned long long) duplicate_requests(),
                (unsigned long long) in_flight_at_stops,
                (unsigned long long) rec.duplicated,
                (unsigned long long) chunks_in_flight_at_stops);
  }

  /// Whether the phase broke a guarantee; `graceful` also forbids
  /// duplicates.
  bool failed(bool graceful) const {
    bool broken = !started || rec.lost > 0 || gw.overlap_violations > 0
      || gw.order_violations > 0 || gw.misrouted > 0 || rec.misrouted > 0
      || bad_exits > 0;
    if (graceful)
      broken = broken || rec.duplicated > 0 || duplicate_requests() > 0;
    return broken;
  }
};

/// Runs one phase: open-loop load while the router is stopped `stops`
/// times at random moments (SIGKILL, or SIGTERM when `graceful`) and
/// started again; then waits for every reply.
phase_figures run_phase(load_world& world, router_runner& router,
                        const crash_options& o, std::string name, size_t stops,
                        bool graceful, std::mt19937_64& rng) {
  phase_figures f;
  f.name = std::move(name);
  f.stops = stops;
  world.reset_gateways();
  run_plan plan;
  plan.users = o.users;
  plan.open_loop = true;
  plan.rate = o.rate;
  plan.timeout = seconds(120);
  // Enough messages that every stop falls within the load: about 1.5 s of
  // load per stop (stops come 0.3 to 2 s apart), at least 3 per user.
  plan.messages = o.messages;
  if (plan.messages == 0)
    plan.messages = std::max<size_t>(
      3, static_cast<size_t>(o.rate * (1.5 * stops + 2) / o.users) + 1);
  auto driver = std::make_shared<load_driver>(world, plan);
  world.telegram().on_send([driver](const zaki::fakes::sent_message& m) {
    driver->on_reply(m);
  });
  auto load_s = static_cast<double>(plan.total()) / o.rate;
  auto journal_path = router.data_root() + "/inbox.journal";
  // Duplicates seen since the last stop belong to that stop's replay.
  uint64_t dup_mark = 0;
  uint64_t repeat_mark = world.gateway_stats().repeats;
  auto close_interval = [&] {
    auto dups = driver->duplicated();
    auto repeats = world.gateway_stats().repeats;
    if (!f.per_stop.empty()) {
      f.per_stop.back().duplicate_replies = dups - dup_mark;
      f.per_stop.back().repeated_requests = repeats - repeat_mark;
    }
    dup_mark = dups;
    repeat_mark = repeats;
  };
  std::uniform_real_distribution<double> gap{0.3, 2.0};
  driver->start();
  auto began = steady_clock::now();
  for (size_t k = 0; k < stops; ++k) {
    auto wait = gap(rng);
    // Keep every stop inside the load window.
    auto elapsed = duration<double>(steady_clock::now() - began).count();
    auto left = load_s - elapsed;
    if (left < 0.2)
      wait = 0.05;
    else
      wait = std::min(wait, left / static_cast<double>(stops - k));
    std::this_thread::sleep_for(duration<double>(wait));
    close_interval();
    stop_figures sf;
    sf.requests_in_flight = world.gateway_stats().in_flight;
    f.in_flight_at_stops += sf.requests_in_flight;
    if (graceful) {
      if (router.terminate() != 0)
        ++f.bad_exits;
    } else {
      router.kill();
    }
    sf.journal = read_journal(journal_path, *driver);
    f.chunks_in_flight_at_stops += sf.journal.chunks_in_flight;
    f.per_stop.push_back(sf);
    auto ms = router.start();
    if (ms < 0) {
      std::fprintf(stderr, "%s: the router did not start again\n",
                   f.name.c_str());
      f.started = false;
      break;
    }
    f.restart_ms.push_back(ms);
  }
  driver->wait();
  // Late duplicates (replays of a restart) would arrive now.
  std::this_thread::sleep_for(seconds(2));
  close_interval();
  f.rec = driver->finish();
  world.telegram().on_send([](const zaki::fakes::sent_message&) {});
  f.gw = world.gateway_stats();
  return f;
}

bool parse_args(int argc, char** argv, crash_options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto eq = a.find('=');
    auto key = a.substr(0, eq);
    auto val = eq == std::string::npos ? std::string{} : a.substr(eq + 1);
    if (key == "--router")
      o.router = val;
    else if (key == "--kills")
      o.kills = std::stoul(val);
    else if (key == "--terms")
      o.terms = std::stoul(val);
    else if (key == "--users")
      o.users = std::stoul(val);
    else if (key == "--rate")
      o.rate = std::stod(val);
    else if (key == "--latency-ms")
      o.latency_ms = std::stoi(val);
    else if (key == "--messages")
      o.messages = std::stoul(val);
    else if (key == "--seed")
      o.seed = std::stoull(val);
    else if (key == "--log-level")
      o.log_level = val;
    else if (key == "--work-dir")
      o.work_dir = val;
    else if (key == "--keep-dir")
      o.keep_dir = true;
    else if (key == "--smoke") {
      o.kills = 3;
      o.terms = 1;
    } else {
      std::fprintf(stderr,
                   "unknown option %s (see the head of "
                   "benches/crash_bench.cpp)\n",
                   a.c_str());
      return false;
    }
  }
  return o.users > 0 && o.rate > 0;
}

} // namespace

int main(int argc, char** argv) {
  crash_options o;
  if (!parse_args(argc, argv, o))
    return 2;
  if (o.router.empty())
    o.router = own_directory() + "/zaki-router";
  if (o.seed == 0)
    o.seed = std::random_device{}();
  std::mt19937_64 rng{o.seed};
  std::string dir = o.work_dir;
  if (dir.empty()) {
    char tmpl[] = "/tmp/zaki-crash-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      return 2;
    }
    dir = tmpl;
  }
  std::filesystem::create_directories(dir + "/data");
  world_options wo;
  wo.registered = o.users;
  wo.gateway_latency = milliseconds(o.latency_ms);
  load_world world{wo};
  world.start();
  if (auto err = zaki::save_users_file(dir + "/users.json", world.users());
      !err.empty()) {
    std::fprintf(stderr, "cannot write users.json: %s\n", err.c_str());
    return 2;
  }
  for (size_t i = 0; i < o.users; ++i) {
    std::error_code ec;
    std::filesystem::create_directories(
      zaki::user_data_dir(dir + "/data", load_world::user_id(i)), ec);
  }
  std::printf("crash suite: %zu users, %.0f msg/s open loop, %d ms gateway, "
              "%zu SIGKILL then %zu SIGTERM restarts, seed %llu, data in %s\n",
              o.users, o.rate, o.latency_ms, o.kills, o.terms,
              (unsigned long long) o.seed, dir.c_str());
  std::fflush(stdout);
  router_runner router{world, o, dir};
  if (router.start() < 0) {
    std::fprintf(stderr, "the router did not start (log: %s/router.log)\n",
                 dir.c_str());
    return 1;
  }
  auto killed = run_phase(world, router, o, "SIGKILL", o.kills, false, rng);
  killed.print();
  std::fflush(stdout);
  phase_figures termed;
  if (killed.started) {
    termed = run_phase(world, router, o, "SIGTERM", o.terms, true, rng);
    termed.print();
  }
  int final_exit = router.running() ? router.terminate() : -1;
  world.stop();
  bool failed = killed.failed(false) || termed.failed(true) || final_exit != 0;
  if (failed)
    std::printf("crash suite: FAILED (router log: %s/router.log%s)\n",
                dir.c_str(), final_exit != 0 ? ", last exit not 0" : "");
  else
    std::printf("crash suite: ok\n");
  if (!failed && !o.keep_dir && o.work_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return failed ? 1 : 0;
}
