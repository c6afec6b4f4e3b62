#include "runtime/demo.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <simdjson.h>

#include "actors/admin.hpp"
#include "actors/provisioner.hpp"
#include "runtime/backends/cgroups.hpp"
#include "runtime/backends/process_backend.hpp"
#include "runtime/backends/spawn_child.hpp"
#include "runtime/config.hpp"
#include "runtime/logging.hpp"
#include "runtime/service.hpp"
#include "runtime/user_paths.hpp"
#include "runtime/users_file.hpp"
#include "tests/fakes/fake_gateway.hpp"
#include "tests/fakes/fake_telegram.hpp"

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

using std::chrono::milliseconds;
using std::chrono::steady_clock;

const char* const phrases[] = {
  "Hello! Who are you?",
  "What's the weather like on Mars?",
  "Напиши короткое стихотворение о море 🌊",
  "Summarise our chat so far, please.",
  "Tell me a joke about actors and mailboxes.",
};

/// What the victim of the container crash says while its gateway is down.
const char* const held_text
  = "Are you still there? I wrote this while your container was down.";

/// Marks `max-containers` as not set on the command line.
constexpr uint64_t unset_max_containers = std::numeric_limits<uint64_t>::max();

/// The container crash, shared by the driver actor and the Bot API
/// emulator's send observer (an I/O thread of the fake).
struct crash_record {
  std::mutex mtx;
  int64_t victim = 0;
  steady_clock::time_point killed_at;
  bool killed = false;
  bool answered = false;
};

/// The simulated world: a Bot API emulator and, in static mode, one
/// in-process gateway per user.
struct demo_world {
  fakes::fake_telegram telegram;
  fakes::io_runner gateways_io{1};
  std::vector<std::unique_ptr<fakes::fake_gateway>> gateways;
  std::vector<int64_t> users;
  /// The user the router cannot serve (not provisioned / no capacity).
  int64_t extra_user = 424242;
  bool process_mode = false;
  std::string dir;
  std::string data_root;
  crash_record crash;
};

int64_t ms_since(steady_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - t)
    .count();
}

/// A gateway process as its pid file names it.
struct pid_entry {
  pid_t pid = 0;
  unsigned long long start = 0;
  unsigned port = 0;
};

/// Reads `{data_root}/users/user-{id}/gateway.pid` (written by the process
/// backend); pid 0 when missing or stale (the pid now runs something else).
pid_entry read_pid_file(const std::string& data_root, int64_t user) {
  pid_entry e;
  std::ifstream in{user_data_dir(data_root, user) + "/gateway.pid"};
  long long pid = 0;
  if (!(in >> pid >> e.start >> e.port) || pid <= 0)
    return {};
  e.pid = static_cast<pid_t>(pid);
  if (process_start_time(e.pid) != e.start)
    return {};
  return e;
}

/// The state the health supervisor reports for `user` ("" if not watched),
/// from the detail JSON of its status node.
std::string health_state_of(const std::string& detail, int64_t user) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array containers;
  if (parser.parse(detail).get(doc)
      || doc["containers"].get_array().get(containers))
    return {};
  for (auto c : containers) {
    int64_t id = 0;
    std::string_view state;
    if (!c["user"].get_int64().get(id) && id == user
        && !c["state"].get_string().get(state))
      return std::string{state};
  }
  return {};
}

// -- the driver: an actor that plays the script -------------------------------
//
// It sends the simulated users' messages on timers (no thread sleeps) and
// asks the health supervisor for the victim's state while the container
// crash plays. It ends with the root supervisor.

enum class crash_phase {
  /// Not yet (or static mode).
  pending,
  /// SIGKILL sent; waiting for the health supervisor to see the exit.
  killed,
  /// The held message was sent; waiting for the startup probe to pass.
  recovering,
  done,
};

struct driver_state {
  static inline const char* name = "demo_driver";
  demo_world* world = nullptr;
  settings cfg;
  steady_clock::time_point started;
  /// Round of the script and the next user in it.
  size_t round = 0;
  size_t next = 0;
  /// The round in which the container crash plays (retried if the victim
  /// has no gateway yet).
  size_t crash_round = 3;
  crash_phase phase = crash_phase::pending;
  pid_t killed_pid = 0;
  bool finished = false;
};

using driver_ptr = caf::stateful_actor<driver_state>*;

milliseconds step_of(const driver_state& st) {
  auto interval
    = std::chrono::duration_cast<milliseconds>(st.cfg.demo.interval);
  auto n = std::max<size_t>(1, st.world->users.size());
  return std::max(milliseconds(10), interval / static_cast<int64_t>(n));
}

void say(driver_ptr self, int64_t user, const std::string& text) {
  logger("demo")->info("event=demo_user_says user={} text={}", user,
                       log_value(text));
  self->state.world->telegram.push_text(user, text);
}

/// The victim writes while its gateway is down: the provisioner holds the
/// message until the restarted container passed its startup probe.
void send_held_message(driver_ptr self, const std::string& seen_state) {
  auto& st = self->state;
  auto victim = st.world->crash.victim;
  logger("demo")->info(
    "event=demo_step what=\"user {} writes while its container is {}: the "
    "provisioner holds the message (no error, nothing lost) and it is "
    "answered once the restarted gateway passed its startup probe\"",
    victim, seen_state.empty() ? "down" : seen_state);
  say(self, victim, held_text);
  st.phase = crash_phase::recovering;
}

void on_health_state(driver_ptr self, const std::string& state) {
  auto& st = self->state;
  auto log = logger("demo");
  auto& crash = st.world->crash;
  if (st.phase == crash_phase::killed) {
    if (state == "restarting" || state == "starting") {
      send_held_message(self, state);
    } else if (ms_since(crash.killed_at) >= 5000) {
      log->warn("event=demo_exit_not_seen user={} waited_ms={} state={}",
                crash.victim, ms_since(crash.killed_at), log_value(state));
      send_held_message(self, state);
    }
  } else if (st.phase == crash_phase::recovering && state == "running") {
    auto now = read_pid_file(st.world->data_root, crash.victim);
    log->info("event=demo_container_recovered user={} old_pid={} new_pid={} "
              "kill_to_healthy_ms={}",
              crash.victim, st.killed_pid, now.pid, ms_since(crash.killed_at));
    st.phase = crash_phase::done;
    return;
  } else if (st.phase == crash_phase::recovering
             && ms_since(crash.killed_at) >= 240000) {
    log->warn("event=demo_container_not_back user={} waited_ms={} state={}",
              crash.victim, ms_since(crash.killed_at), log_value(state));
    st.phase = crash_phase::done;
    return;
  }
  self->delayed_send(self, milliseconds(50), internal_atom_v, probe_atom_v);
}

void poll_health(driver_ptr self) {
  auto health = self->system().registry().get<health_actor>(names::health);
  if (!health) {
    on_health_state(self, "");
    return;
  }
  self->request(health, std::chrono::seconds(2), status_atom_v)
    .then(
      [self](status_node& node) {
        on_health_state(self, health_state_of(node.detail_json,
                                              self->state.world->crash.victim));
      },
      [self](caf::error&) { on_health_state(self, ""); });
}

/// Kills the victim's gateway process; false if it has none (yet).
bool kill_container(driver_ptr self, int64_t victim) {
  auto& st = self->state;
  auto log = logger("demo");
  auto gw = read_pid_file(st.world->data_root, victim);
  if (gw.pid <= 0 || program_of(gw.pid) != gateway_program(st.cfg)) {
    log->warn("event=demo_step_postponed what=\"container crash\" user={} "
              "reason=\"no running gateway yet (gateway.pid)\"",
              victim);
    return false;
  }
  log->info("event=demo_step what=\"the container of user {} crashes: the "
            "demo kills its zaki-test-gateway (pid {}, port {}) with SIGKILL; "
            "the health supervisor sees the exit and restarts it through the "
            "provisioner after a backoff of health.backoff-initial\"",
            victim, gw.pid, gw.port);
  {
    std::lock_guard<std::mutex> guard{st.world->crash.mtx};
    st.world->crash.victim = victim;
    st.world->crash.killed_at = steady_clock::now();
    st.world->crash.killed = true;
  }
  if (::kill(gw.pid, SIGKILL) != 0) {
    log->error("event=demo_kill_failed user={} pid={} error={}", victim,
               gw.pid, log_value(std::strerror(errno)));
    return true;
  }
  log->info("event=demo_container_killed user={} pid={} signal=SIGKILL",
            victim, gw.pid);
  st.killed_pid = gw.pid;
  st.phase = crash_phase::killed;
  self->delayed_send(self, milliseconds(50), internal_atom_v, probe_atom_v);
  return true;
}

/// Shows what the provisioner wrote to users.json.
void log_users_json(const driver_state& st) {
  auto res = load_users_file(st.cfg.store.users_file);
  std::string entries;
  for (auto user : st.world->users)
    if (auto i = res.users.find(user); i != res.users.end())
      entries += (entries.empty() ? "" : " ") + std::to_string(user) + ":"
                 + std::to_string(i->second.port);
  logger("demo")->info("event=demo_users_json file={} users={} "
                       "user_ports={} message=\"written by the provisioner "
                       "once each container passed its startup probe\"",
                       log_value(st.cfg.store.users_file), res.users.size(),
                       log_value(entries));
}

/// One step of the script: the next user of the current round writes.
void play_step(driver_ptr self) {
  auto& st = self->state;
  auto& users = st.world->users;
  auto log = logger("demo");
  auto user = users[st.next];
  bool process = st.world->process_mode;
  auto victim_index = 1 % users.size();
  if (st.round == 0) {
    if (st.next == 0)
      log->info(
        "event=demo_step what=\"{} /start: {}\"",
        users.size() == 1 ? std::string{"1 user sends"}
                          : std::to_string(users.size()) + " users send",
        process
          ? "the provisioner starts one zaki-test-gateway process per user "
            "as its container (containers.max-provisioning at once), waits "
            "for its startup probe, records it in users.json, and the user "
            "hears that the assistant is ready"
          : "users.json already lists their gateways, so each hears at once "
            "that the assistant is ready");
    say(self, user, "/start");
  } else if (st.round == st.crash_round && st.next == victim_index
             && process && st.phase == crash_phase::pending) {
    if (!kill_container(self, user))
      ++st.crash_round; // its container is not up yet: next round
  } else {
    std::string text = phrases[(st.round + st.next) % std::size(phrases)];
    if (st.round == 2 && st.next == 0) {
      text = "This message crashes my user actor once #crash-demo";
      log->info("event=demo_step what=\"user {} sends a message that "
                "crashes its actor; the supervisor restarts it and replays "
                "the message\"",
                user);
    }
    say(self, user, text);
  }
  if (++st.next < users.size())
    return;
  st.next = 0;
  if (st.round == 1) {
    if (process)
      log_users_json(st);
    if (process)
      log->info("event=demo_step what=\"user {} writes while all {} "
                "container places are taken (containers.max-containers): "
                "the router explains instead of starting one more\"",
                st.world->extra_user, st.cfg.containers.max_containers);
    else
      log->info("event=demo_step what=\"a user without an assistant writes; "
                "the router explains\"");
    say(self, st.world->extra_user, "Hi, anyone here?");
  }
  ++st.round;
  if (st.cfg.demo.duration > 0
      && steady_clock::now() - st.started
           >= std::chrono::seconds(st.cfg.demo.duration)) {
    log->info("event=demo_finished after_s={}", st.cfg.demo.duration);
    st.finished = true;
    ::kill(::getpid(), SIGTERM); // the orderly shutdown of Ctrl-C
  }
}

caf::behavior demo_driver(driver_ptr self, demo_world* world, settings cfg,
                          root_actor root) {
  auto& st = self->state;
  st.world = world;
  st.cfg = std::move(cfg);
  st.started = steady_clock::now();
  self->monitor(root);
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  self->delayed_send(self, milliseconds(500), tick_atom_v);
  return {
    [self](tick_atom) {
      if (self->state.finished)
        return;
      play_step(self);
      if (!self->state.finished)
        self->delayed_send(self, step_of(self->state), tick_atom_v);
    },
    [self](internal_atom, probe_atom) { poll_health(self); },
  };
}

// -- setup and teardown -------------------------------------------------------

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
      return true; // our child, reaped now
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
                       "--latency-ms=250"};
  d.containers.cgroup_prefix = "zaki-demo-user-";
  // as many container places as simulated users (set below),
  d.containers.max_containers = unset_max_containers;
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
  if (s.containers.max_containers == unset_max_containers)
    s.containers.max_containers = world.users.size();
  if (s.backend.kind == "process") {
    auto program = gateway_program(s);
    if (::access(program.c_str(), X_OK) == 0) {
      world.process_mode = true;
      log->info("event=demo_mode backend=process gateway={} cgroups={} "
                "message=\"each user's container is a zaki-test-gateway "
                "process started on its first message\"",
                log_value(program), cgroup_version() == 0
                                      ? std::string{"none"}
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
  auto loaded = load_users_file(s.store.users_file);
  std::vector<child_spec> extra{admin_child(ctx)};
  for (auto& spec : container_children(ctx))
    extra.push_back(std::move(spec));
  auto code = run_service(cfg, ctx, std::move(loaded), std::move(extra),
                          [&](caf::actor_system& sys, root_actor root) {
                            sys.spawn(demo_driver, &world, ctx->cfg, root);
                          });
  // The actor system is gone: every gateway got its SIGTERM.
  std::pair<size_t, size_t> gateways{0, 0};
  if (world.process_mode)
    gateways = stop_leftover_gateways(world, s);
  auto sent = world.telegram.sent_count();
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
