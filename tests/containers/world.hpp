#pragma once

// A small real-scheduler world for the container suites: an io_runtime,
// the store, the health supervisor and the provisioner (with a real
// backend), plus a recorder in place of the user supervisor that keeps
// every container state change. Tests may block; actors never do.

#include <chrono>
#include <cstdlib>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/health_supervisor.hpp"
#include "actors/provisioner.hpp"
#include "actors/store.hpp"
#include "messages/errors.hpp"
#include "runtime/backends/spawn_child.hpp"
#include "runtime/config.hpp"
#include "runtime/io_scheduler.hpp"
#include "runtime/io_runtime.hpp"
#include "runtime/logging.hpp"
#include "tests/fakes/sync_client.hpp"

namespace zaki::test {

using namespace std::chrono_literals;

/// Every (user, state) the health supervisor reported, in order.
struct state_log {
  std::mutex mtx;
  std::vector<std::pair<int64_t, std::string>> events;

  void add(int64_t user, std::string state) {
    std::lock_guard<std::mutex> guard{mtx};
    events.emplace_back(user, std::move(state));
  }

  /// Returns how often `user` entered `state`.
  size_t count(int64_t user, const std::string& state) {
    std::lock_guard<std::mutex> guard{mtx};
    size_t n = 0;
    for (auto& [u, s] : events)
      if (u == user && s == state)
        ++n;
    return n;
  }

  /// Returns the states of `user` joined by spaces.
  std::string trail(int64_t user) {
    std::lock_guard<std::mutex> guard{mtx};
    std::string out;
    for (auto& [u, s] : events)
      if (u == user)
        out += (out.empty() ? "" : " ") + s;
    return out;
  }
};

/// Polls `pred` every 20 ms until it holds or `timeout` passes.
inline bool wait_for(const std::function<bool()>& pred,
                     std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred())
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

/// Returns the test gateway binary next to the test binary.
inline std::string gateway_binary() {
  return self_exe_dir() + "/zaki-test-gateway";
}

struct container_world {
  std::string root;
  zaki::config cfg;
  io_runtime io{2};
  context_ptr ctx = std::make_shared<service_context>();
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<state_log> states = std::make_shared<state_log>();
  caf::actor store_hdl;
  caf::actor health_hdl;
  caf::actor prov_hdl;
  caf::actor recorder_hdl;

  /// Creates a world with short probe intervals; `tune` adjusts settings.
  explicit container_world(const std::function<void(settings&)>& tune = {}) {
    char tmpl[] = "/tmp/zaki-containers-XXXXXX";
    root = ::mkdtemp(tmpl);
    auto& s = ctx->cfg;
    s.store.data_root = root + "/data";
    s.store.users_file = root + "/users.json";
    std::filesystem::create_directories(s.store.data_root);
    s.backend.kind = "process";
    s.containers.command = gateway_binary();
    // Ports of parallel runs on a shared machine differ by pid.
    s.containers.port_base = 21000 + (::getpid() % 400) * 10;
    s.containers.port_max = s.containers.port_base + 2000;
    // Test cgroups carry the pid, so the destructor removes exactly ours.
    s.containers.cgroup_prefix = "zaki-test" + std::to_string(::getpid())
                                 + "-";
    s.containers.memory_mb = 256;
    s.containers.cpus = 0;
    s.containers.pids = 64;
    s.containers.stop_timeout = 500ms;
    s.containers.docker_timeout = 10s;
    s.health.startup_period = 50ms;
    s.health.startup_grace = 5s;
    s.health.period = 200ms;
    s.health.timeout = 300ms;
    s.health.backoff_initial = 100ms;
    s.health.backoff_max = 1s;
    s.health.restart_window = 60s;
    if (tune)
      tune(s);
    s.log.level = "warn";
    if (auto lvl = std::getenv("ZAKI_TEST_LOG"))
      s.log.level = lvl;
    init_logging(s);
    ctx->io = &io;
    cfg.set("scheduler.max-threads", 2);
    sys = make_actor_system(cfg, io);
  }

  /// Spawns the actors; `known` seeds users.json and the provisioner.
  void start(std::vector<user_record> known = {}) {
    auto log = states;
    recorder_hdl = sys->spawn([log](caf::event_based_actor*) -> caf::behavior {
      return {
        [log](container_atom, int64_t user, const std::string& state) {
          log->add(user, state);
        },
      };
    });
    sys->registry().put(names::user_supervisor, recorder_hdl);
    user_map initial;
    for (auto& rec : known)
      initial[rec.user_id] = rec;
    store_hdl = caf::actor_cast<caf::actor>(sys->spawn(store, ctx, user_registry{initial}));
    sys->registry().put(names::store, store_hdl);
    health_hdl = caf::actor_cast<caf::actor>(
      sys->spawn(health_supervisor, ctx));
    sys->registry().put(names::health, health_hdl);
    prov_hdl = caf::actor_cast<caf::actor>(sys->spawn(provisioner, ctx, known));
    sys->registry().put(names::provisioner, prov_hdl);
  }

  ~container_world() {
    stop_actors();
    for (auto name : {names::user_supervisor, names::store, names::health,
                      names::provisioner})
      sys->registry().erase(name);
    io.stop();
    sys.reset();
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
    remove_test_cgroups(ctx->cfg.containers.cgroup_prefix);
  }

  /// Removes the cgroups of this test run, killing what still runs in
  /// them (only this run's groups: their names carry our pid).
  static void remove_test_cgroups(const std::string& prefix) {
    namespace fs = std::filesystem;
    std::vector<fs::path> groups;
    std::error_code ec;
    for (auto& ctl : fs::directory_iterator{"/sys/fs/cgroup", ec})
      if (ctl.path().filename().string().rfind(prefix, 0) == 0) // v2
        groups.push_back(ctl.path());
      else
        for (auto& grp : fs::directory_iterator{ctl.path(), ec})
          if (grp.path().filename().string().rfind(prefix, 0) == 0)
            groups.push_back(grp.path());
    for (auto& grp : groups) {
      std::ifstream in{grp / "cgroup.procs"};
      pid_t pid = 0;
      while (in >> pid)
        ::kill(pid, SIGKILL);
    }
    for (auto& grp : groups)
      wait_for([&] { return ::rmdir(grp.c_str()) == 0; }, 2s);
  }

  /// Stops the actors (the scoped actor must be gone before the system).
  void stop_actors() {
    caf::scoped_actor self{*sys};
    for (auto* h : {&prov_hdl, &health_hdl, &store_hdl, &recorder_hdl}) {
      if (!*h)
        continue;
      self->monitor(*h);
      self->send_exit(*h, caf::exit_reason::user_shutdown);
      self->receive([](const caf::down_msg&) {},
                    caf::after(std::chrono::seconds(10)) >> [] {});
      *h = nullptr;
    }
  }

  provisioner_impl_actor prov() {
    return caf::actor_cast<provisioner_impl_actor>(prov_hdl);
  }

  /// Asks the provisioner for a user's record (blocking, for tests).
  caf::expected<user_record> ensure(int64_t user,
                                    caf::timespan timeout = 10s) {
    caf::scoped_actor self{*sys};
    caf::expected<user_record> result{caf::error{}};
    self->request(prov(), timeout, ensure_atom_v, user)
      .receive([&](user_record& rec) { result = std::move(rec); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  /// Sends an admin request that answers a bool.
  template <class Atom>
  bool admin(Atom atom, int64_t user) {
    caf::scoped_actor self{*sys};
    bool ok = false;
    self->request(prov(), 20s, atom, user)
      .receive([&](bool x) { ok = x; }, [&](caf::error&) { ok = false; });
    return ok;
  }

  /// Returns the status tree of `hdl` as its detail JSON (children joined).
  std::string status(const caf::actor& hdl) {
    caf::scoped_actor self{*sys};
    std::string out;
    self
      ->request(caf::actor_cast<status_client_actor>(hdl), 10s, status_atom_v)
      .receive(
        [&](status_node& node) {
          out = node.detail_json;
          for (auto& kid : node.children)
            out += "\n" + kid.detail_json;
        },
        [&](caf::error&) {});
    return out;
  }

  /// Returns the pid recorded in a user's pid file, or 0.
  pid_t gateway_pid(int64_t user) {
    auto path = root + "/data/users/user-" + std::to_string(user)
                + "/gateway.pid";
    long long pid = 0;
    if (auto* f = std::fopen(path.c_str(), "r")) {
      if (std::fscanf(f, "%lld", &pid) != 1)
        pid = 0;
      std::fclose(f);
    }
    return static_cast<pid_t>(pid);
  }
};

/// Sends one chat message to a gateway; returns the HTTP status (0 on a
/// transport error).
inline int chat(const user_record& rec, const std::string& text,
                std::string* body = nullptr,
                std::chrono::milliseconds timeout = 3s) {
  fakes::sync_client client{rec.port, timeout};
  if (!client.connected())
    return 0;
  auto res = client.call(boost::beast::http::verb::post,
                         "/v1/chat/completions",
                         R"({"model":"openclaw","user":")"
                           + std::to_string(rec.user_id)
                           + R"(","messages":[{"role":"user","content":")"
                           + text + R"("}]})",
                         rec.token);
  if (!res)
    return 0;
  if (body)
    *body = res->body();
  return static_cast<int>(res->result_int());
}

/// Returns GET /healthz of a gateway (0 on a transport error).
inline int healthz(uint16_t port) {
  fakes::sync_client client{port, 1s};
  if (!client.connected())
    return 0;
  auto res = client.call(boost::beast::http::verb::get, "/healthz");
  return res ? static_cast<int>(res->result_int()) : 0;
}

} // namespace zaki::test
