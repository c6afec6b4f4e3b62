#include "app/demo/demo.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <mutex>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>

#include "access/policy.hpp"
#include "access/texts.hpp"
#include "actors/admin.hpp"
#include "actors/process_backend.hpp"
#include "app/demo/demo_world.hpp"
#include "app/run.hpp"
#include "app/tree.hpp"
#include "app/users_cli.hpp"
#include "containers/cgroups.hpp"
#include "containers/spawn_child.hpp"
#include "runtime/config.hpp"
#include "runtime/logging.hpp"
#include "storage/users_file.hpp"

// The demo in two modes:
//
// - process (the default): backend.kind=process. Every simulated user gets
//   a container on its first message: the provisioner starts one
//   zaki-test-gateway process per user (built next to zaki-router), waits
//   for its startup probe and records it in users.json. Later the demo
//   SIGKILLs one user's gateway; the health supervisor sees the exit,
//   restarts it through the provisioner after a backoff, and a message the
//   user sends meanwhile is held and answered once the gateway is back.
// - static (zaki-test-gateway not found, or --backend.kind=static): the
//   gateways are in-process fakes listed in a prepared users.json; no
//   container is started, so no container crash can be shown.
//
// Both show several users chatting in parallel, a user-actor crash and the
// replay of its message, and a user the router cannot serve (static: not in
// users.json; process: beyond containers.max-containers).

namespace zaki {

namespace {

using namespace demo;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

/// Marks `max-containers` as not set on the command line.
constexpr uint64_t unset_max_containers = std::numeric_limits<uint64_t>::max();

// -- setup and teardown -------------------------------------------------------

/// The simulated admin, newcomer and stranger of the approval flow.
constexpr int64_t demo_admin_id = 900000001;
constexpr int64_t demo_newcomer_id = 5900000777;
constexpr int64_t demo_stranger_id = 900000666;

/// Approves the simulated users (and the one beyond capacity) in the
/// database before the router starts, as `zaki-router users approve`
/// would: under access.policy=approval only the newcomer and the stranger
/// wait for the admin.
void approve_simulated_users(const settings& s, const demo_world& world) {
  settings offline = s;
  // Nothing listens there: the command works on the database file and
  // never reaches another router on this machine.
  offline.admin.address = "127.0.0.1:1";
  auto ids = world.users;
  ids.push_back(world.extra_user);
  size_t approved = 0;
  for (auto id : ids) {
    std::ostringstream out;
    std::ostringstream err;
    if (run_users_command(offline, {"approve", std::to_string(id)}, out, err)
        == users_exit::ok)
      ++approved;
    else
      logger("demo")->warn("event=demo_approve_failed user={} error={}", id,
                           log_value(err.str()));
  }
  logger("demo")->info("event=demo_users_approved count={} admin={} "
                       "message=\"the simulated users are approved "
                       "beforehand; a newcomer and a stranger will wait for "
                       "the admin\"",
                       approved, world.access.admin);
}

/// Logs what the approval flow showed, from the Bot API emulator's records.
void log_access_summary(demo_world& world) {
  auto& a = world.access;
  if (!a.enabled)
    return;
  auto& tg = world.telegram;
  auto any_final = [&tg](int64_t chat, auto pred) {
    for (auto& m : tg.sent_to(chat)) {
      auto text = tg.message_text(m.message_id).value_or(m.text);
      if (pred(text))
        return true;
    }
    return false;
  };
  auto has = [](const std::string& what) {
    return [what](const std::string& text) {
      return text.find(what) != std::string::npos;
    };
  };
  size_t decided = 0;
  for (auto& m : tg.sent_to(a.admin)) {
    auto text = tg.message_text(m.message_id).value_or(m.text);
    if (text.find(" by ") != std::string::npos
        && text.find("Access request of") != std::string::npos)
      ++decided;
  }
  logger("demo")->info(
    "event=demo_access_summary admin={} newcomer={} newcomer_told_waiting={} "
    "newcomer_approved={} newcomer_held_message_answered={} stranger={} "
    "stranger_rejected={} stranger_messages_received={} "
    "admin_requests_decided={}",
    a.admin, a.newcomer,
    any_final(a.newcomer, has(waiting_for_approval_text())),
    any_final(a.newcomer, has(approved_text())),
    any_final(a.newcomer, has(newcomer_text)), a.stranger,
    any_final(a.stranger, has(rejected_text())), tg.sent_to(a.stranger).size(),
    decided);
}

/// Ids above 2^32 are normal on Telegram today.
int64_t demo_user_id(uint64_t i) {
  return i % 2 == 0 ? 100000001 + static_cast<int64_t>(i)
                    : 5000000001 + static_cast<int64_t>(i);
}

/// Static mode: one in-process gateway per user, listed in users.json.
user_map start_static_gateways(demo_world& world) {
  user_map users;
  for (size_t i = 0; i < world.users.size(); ++i) {
    auto id = world.users[i];
    fakes::fake_gateway_options gopts;
    gopts.token = "gw-token-" + std::to_string(id);
    auto gw = std::make_unique<fakes::fake_gateway>(world.gateways_io.context(),
                                                    gopts);
    gw->behavior().set_prefix("🤖 Assistant of " + std::to_string(id)
                              + " here. You said: ");
    gw->behavior().set_latency(milliseconds(150 + 50 * i));
    // Streamed answers grow in the chat: an event every 120 ms.
    gw->behavior().set_stream_gap(milliseconds(120));
    gw->behavior().set_stream_piece(8);
    user_record rec;
    rec.user_id = id;
    rec.port = gw->start();
    rec.token = gopts.token;
    rec.container = "zaki-user-" + std::to_string(id);
    users[id] = rec;
    world.gateways.push_back(std::move(gw));
  }
  return users;
}

/// Stops what the process backend left running (it sends SIGTERM to its
/// gateways on an orderly shutdown) and reaps them; SIGKILL after 5 s.
/// Returns how many ended by themselves and how many had to be killed.
std::pair<size_t, size_t> stop_leftover_gateways(const demo_world& world,
                                                 const settings& s) {
  std::vector<pid_entry> alive;
  for (auto user : world.users)
    if (auto e = read_pid_file(world.data_root, user); e.pid > 0)
      alive.push_back(e);
  auto program = gateway_program(s);
  auto gone = [&program](const pid_entry& e) {
    int status = 0;
    auto r = ::waitpid(e.pid, &status, WNOHANG);
    if (r == e.pid)
      return true;                // our child, reaped now
    if (r < 0 && errno == ECHILD) // not ours: gone or something else
      return ::kill(e.pid, 0) != 0 || process_start_time(e.pid) != e.start
        || program_of(e.pid) != program;
    return false;
  };
  size_t stopped = 0;
  size_t forced = 0;
  auto deadline = steady_clock::now() + std::chrono::seconds(5);
  while (!alive.empty()) {
    for (auto i = alive.begin(); i != alive.end();)
      if (gone(*i)) {
        ++stopped;
        i = alive.erase(i);
      } else {
        ++i;
      }
    if (alive.empty())
      break;
    if (steady_clock::now() >= deadline) {
      for (auto& e : alive) {
        ::kill(e.pid, SIGKILL);
        ::waitpid(e.pid, nullptr, 0);
        ++forced;
      }
      break;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  // The per-user cgroups of the demo (empty now).
  for (auto user : world.users) {
    auto name = s.containers.cgroup_prefix + std::to_string(user);
    for (auto* sub : {"", "memory/", "cpu/", "pids/"})
      (void) ::rmdir(("/sys/fs/cgroup/" + std::string{sub} + name).c_str());
  }
  return {stopped, forced};
}

} // namespace

int demo_main(std::vector<std::string> args) {
  config cfg;
  std::vector<std::string> positional;
  int exit_code = 0;
  // Demo defaults (the command line may override each):
  auto& d = cfg.values;
  // a fault-injection trigger to show a user-actor crash and its restart,
  d.user.crash_trigger = "#crash-demo";
  // real containers: one zaki-test-gateway process per user,
  d.backend.kind = "process";
  d.containers.args = {"--reply-prefix=🤖 Assistant of {user} here. You "
                       "said: ",
                       "--latency-ms=250",
                       // answers stream in, so the demo shows them growing
                       "--stream-gap-ms=120", "--stream-piece=8"};
  d.containers.cgroup_prefix = "zaki-demo-user-";
  // as many container places as simulated users (set below),
  d.containers.max_containers = unset_max_containers;
  // the approval flow: a simulated admin approves a newcomer and rejects a
  // stranger (the simulated users are approved beforehand; with
  // --access.policy=open everyone is let in as they come),
  d.access.policy = "approval";
  d.access.admins = std::to_string(demo_admin_id);
  // the simulated users write faster than access.rate's default allows,
  d.access.rate = "0";
  // and probes quick enough to watch.
  d.health.startup_period = milliseconds(200);
  d.health.period = std::chrono::seconds(5);
  if (!parse_command_line(cfg, std::move(args), positional, exit_code))
    return exit_code;
  auto& s = cfg.values;
  init_logging(s);
  auto log = logger("demo");
  if (s.backend.kind != "process" && s.backend.kind != "static") {
    log->error("event=demo_bad_backend kind={} message=\"the demo runs on "
               "backend.kind=process (default) or static\"",
               log_value(s.backend.kind));
    shutdown_logging();
    return 2;
  }
  demo_world world;
  world.dir = (std::filesystem::temp_directory_path()
               / ("zaki-demo-" + std::to_string(::getpid())))
                .string();
  world.data_root = world.dir + "/data";
  std::filesystem::create_directories(world.data_root);
  for (uint64_t i = 0; i < std::max<uint64_t>(1, s.demo.users); ++i)
    world.users.push_back(demo_user_id(i));
  if (s.access.policy == "approval") {
    std::string bad;
    auto admins = parse_admin_ids(s.access.admins, bad);
    if (admins && !admins->empty()) {
      world.access.enabled = true;
      world.access.admin = admins->front();
      world.access.newcomer = demo_newcomer_id;
      world.access.stranger = demo_stranger_id;
    }
  }
  // One place more for the newcomer the admin approves.
  if (s.containers.max_containers == unset_max_containers)
    s.containers.max_containers = world.users.size()
      + (world.access.enabled ? 1 : 0);
  if (s.backend.kind == "process") {
    auto program = gateway_program(s);
    if (::access(program.c_str(), X_OK) == 0) {
      world.process_mode = true;
      log->info("event=demo_mode backend=process gateway={} cgroups={} "
                "message=\"each user's container is a zaki-test-gateway "
                "process started on its first message\"",
                log_value(program),
                cgroup_version() == 0 ? std::string{"none"}
                                      : "v" + std::to_string(cgroup_version()));
    } else {
      auto why = "cannot run " + program + ": " + std::strerror(errno);
      log->warn("event=demo_mode backend=static reason={} message=\"falling "
                "back to in-process gateways: no container is provisioned or "
                "crashed; {}\"",
                log_value(why),
                s.containers.command.empty()
                  ? "build it with: cmake --build build --target "
                    "zaki-test-gateway"
                  : "check --containers.command");
      s.backend.kind = "static";
    }
  } else {
    log->info("event=demo_mode backend=static message=\"as asked: in-process "
              "gateways listed in users.json; no container is provisioned or "
              "crashed\"");
  }
  world.telegram.start();
  user_map users;
  if (!world.process_mode) {
    world.gateways_io.start();
    users = start_static_gateways(world);
  }
  // Process mode starts with an empty users.json: the provisioner adds
  // every user on its first message.
  s.store.users_file = world.dir + "/users.json";
  s.store.data_root = world.data_root;
  s.telegram.api_root = world.telegram.api_root();
  if (auto err = save_users_file(s.store.users_file, users); !err.empty()) {
    std::cerr << "zaki-router demo: " << err << "\n";
    return 1;
  }
  world.telegram.on_send([log, &world](const fakes::sent_message& m) {
    log->info("event=demo_user_received chat={} text={}", m.chat_id,
              log_value(m.text, 160));
    auto& crash = world.crash;
    std::lock_guard<std::mutex> guard{crash.mtx};
    if (crash.killed && !crash.answered && m.chat_id == crash.victim
        && m.text.find(held_text) != std::string::npos) {
      crash.answered = true;
      log->info("event=demo_held_message_answered user={} kill_to_answer_ms={}",
                crash.victim, ms_since(crash.killed_at));
    }
  });
  log->info("event=demo_started bot_api={} users={} backend={} "
            "users_file={} data_root={} admin=http://{} "
            "tree=\"zaki-router admin tree\" stop=\"Ctrl-C\"",
            s.telegram.api_root, world.users.size(), s.backend.kind,
            log_value(s.store.users_file), log_value(s.store.data_root),
            s.admin.address);
  auto ctx = std::make_shared<service_context>();
  ctx->cfg = s;
  ctx->bot_token = world.telegram.token();
  io_runtime io{s.io.threads};
  ctx->io = &io;
  ctx->instance_id = make_instance_id();
  ctx->tls = make_tls_client_context("");
  // The users go into the database before the tree starts, so that the
  // provisioner finds them there (as `run` does).
  if (auto why = prepare_store(s); !why.empty()) {
    std::cerr << "zaki-router demo: " << why << "\n";
    return 2;
  }
  if (world.access.enabled)
    approve_simulated_users(s, world);
  user_registry loaded;
  auto code = run_service(cfg, ctx, router_children(ctx, std::move(loaded)),
                          [&](caf::actor_system& sys, root_actor root) {
                            spawn_demo_driver(sys, &world, ctx->cfg, root);
                          });
  // The actor system is gone: every gateway got its SIGTERM.
  std::pair<size_t, size_t> gateways{0, 0};
  if (world.process_mode)
    gateways = stop_leftover_gateways(world, s);
  auto sent = world.telegram.sent_count();
  log_access_summary(world);
  if (!s.demo.transcript.empty()) {
    auto lines = write_transcript(world, s.demo.transcript);
    if (lines < 0)
      log->error("event=demo_transcript_failed file={}",
                 log_value(s.demo.transcript));
    else
      log->info("event=demo_transcript file={} lines={}",
                log_value(s.demo.transcript), lines);
  }
  world.gateways.clear();
  world.gateways_io.stop();
  world.telegram.stop();
  std::error_code ec;
  std::filesystem::remove_all(world.dir, ec);
  log->info("event=demo_summary replies_delivered={} gateways_stopped={} "
            "gateways_killed={} data_dir={} data_dir_removed={}",
            sent, gateways.first, gateways.second, log_value(world.dir),
            ec ? "no (" + ec.message() + ")" : std::string{"yes"});
  shutdown_logging();
  return code;
}

} // namespace zaki
