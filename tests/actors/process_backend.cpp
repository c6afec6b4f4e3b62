#define CAF_SUITE actors.process_backend

#include "caf/test/unit_test.hpp"

#include <csignal>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>

#include "containers/cgroups.hpp"
#include "storage/database.hpp"
#include "storage/user_paths.hpp"
#include "storage/users_file.hpp"
#include "tests/fixtures/container_world.hpp"

using namespace zaki;
using namespace zaki::test;

namespace {

int64_t ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now() - t0)
    .count();
}

bool alive(pid_t pid) {
  return pid > 0 && ::kill(pid, 0) == 0;
}

/// Returns the state letter of /proc/PID/stat ('T': stopped by a signal),
/// or 0 if there is no such process.
char proc_state(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  if (!std::getline(in, line))
    return 0;
  // "pid (comm) S ...": the command may hold spaces and parentheses.
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() ? line[close + 2]
                                                               : 0;
}

} // namespace

CAF_TEST(a new user gets a port a token a data dir and a running gateway) {
  container_world w;
  w.start();
  auto t0 = std::chrono::steady_clock::now();
  auto rec = w.ensure(1001);
  auto took = ms_since(t0);
  CAF_REQUIRE(rec);
  CAF_MESSAGE("provisioning (first ensure to record, process backend): "
              << took << " ms");
  CAF_CHECK_GREATER_OR_EQUAL(rec->port, w.ctx->cfg.containers.port_base);
  CAF_CHECK_EQUAL(rec->token.size(), 64u);
  CAF_CHECK_EQUAL(rec->container, "zaki-user-1001");
  struct stat st {};
  CAF_REQUIRE_EQUAL(::stat(rec->data_dir.c_str(), &st), 0);
  CAF_CHECK_EQUAL(st.st_mode & 0777, 0700u);
  std::string body;
  CAF_CHECK_EQUAL(chat(*rec, "hello", &body), 200);
  CAF_CHECK(body.find("choices") != std::string::npos);
  auto wrong = *rec;
  wrong.token = "nope";
  CAF_CHECK_EQUAL(chat(wrong, "hello"), 401);
  // The database holds the user once the container was healthy.
  auto stored = [&](int64_t id) {
    std::string err;
    auto db = database::open(database_path(w.ctx->cfg.store.database,
                                           w.ctx->cfg.store.data_root),
                             err);
    return db ? db->find_user(id, err) : std::nullopt;
  };
  CAF_CHECK(wait_for(
    [&] {
      auto found = stored(1001);
      return found && found->port == rec->port && found->token == rec->token;
    },
    2s));
  // A second user gets the next free port; the first keeps its own.
  auto rec2 = w.ensure(1002);
  CAF_REQUIRE(rec2);
  CAF_CHECK_NOT_EQUAL(rec2->port, rec->port);
  CAF_CHECK_NOT_EQUAL(rec2->token, rec->token);
  auto again = w.ensure(1001);
  CAF_REQUIRE(again);
  CAF_CHECK_EQUAL(again->port, rec->port);
  CAF_CHECK(std::filesystem::exists(rec->data_dir + "/gateway.log"));
  // Removal: container, data dir and database entry go.
  auto pid2 = w.gateway_pid(1002);
  CAF_CHECK(alive(pid2));
  CAF_CHECK(w.admin(remove_atom_v, 1002));
  CAF_CHECK(wait_for(
    [&] {
      return !alive(pid2);
    },
    2s));
  CAF_CHECK(!std::filesystem::exists(rec2->data_dir));
  CAF_CHECK(wait_for(
    [&] {
      return !stored(1002);
    },
    2s));
  CAF_CHECK(stored(1001));
  auto status = w.status(w.prov_hdl);
  CAF_CHECK(status.find("\"user\":1001") != std::string::npos);
  CAF_CHECK(status.find("\"user\":1002") == std::string::npos);
  CAF_CHECK(status.find("quota") != std::string::npos);
}

CAF_TEST(a killed gateway is restarted within the backoff) {
  container_world w;
  w.start();
  auto rec = w.ensure(2001);
  CAF_REQUIRE(rec);
  auto pid = w.gateway_pid(2001);
  CAF_REQUIRE(alive(pid));
  auto t0 = std::chrono::steady_clock::now();
  ::kill(pid, SIGKILL);
  // The exit reaches the health supervisor at once (pidfd), not at the
  // next probe.
  CAF_CHECK(wait_for(
    [&] {
      return w.states->count(2001, "restarting") == 1;
    },
    1s));
  CAF_MESSAGE("kill -9 to restarting: " << ms_since(t0) << " ms");
  auto back = w.ensure(2001);
  CAF_REQUIRE(back);
  auto healthy = ms_since(t0);
  CAF_MESSAGE("kill -9 to healthy again: " << healthy << " ms");
  CAF_CHECK_LESS(healthy, 3000);
  CAF_CHECK_EQUAL(back->port, rec->port);
  CAF_CHECK_EQUAL(back->token, rec->token);
  CAF_CHECK_EQUAL(healthz(back->port), 200);
  CAF_CHECK_NOT_EQUAL(w.gateway_pid(2001), pid);
  CAF_CHECK_EQUAL(chat(*back, "still there?"), 200);
  CAF_MESSAGE("states: " << w.states->trail(2001));
}

CAF_TEST(a hung gateway fails liveness and is restarted) {
  container_world w;
  w.start();
  auto rec = w.ensure(3001);
  CAF_REQUIRE(rec);
  auto pid = w.gateway_pid(3001);
  CAF_REQUIRE(alive(pid));
  auto t0 = std::chrono::steady_clock::now();
  ::kill(pid, SIGSTOP); // accepts connections (backlog) but never answers
  CAF_CHECK(wait_for(
    [&] {
      return w.states->count(3001, "restarting") >= 1;
    },
    5s));
  auto detected = ms_since(t0);
  CAF_MESSAGE("hang to restart decision: " << detected << " ms");
  // 3 failures x (200 ms period + 300 ms timeout) at most, plus slack.
  CAF_CHECK_GREATER_OR_EQUAL(detected, 500);
  CAF_CHECK(wait_for(
    [&] {
      return w.states->count(3001, "running") >= 2
        && w.gateway_pid(3001) != pid;
    },
    5s));
  CAF_CHECK(!alive(pid) || w.gateway_pid(3001) != pid);
  auto back = w.ensure(3001);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(healthz(back->port), 200);
  CAF_CHECK(w.status(w.health_hdl).find("liveness /healthz failed")
            != std::string::npos);
  CAF_MESSAGE("states: " << w.states->trail(3001));
}

CAF_TEST(a gateway over its memory quota is OOM killed and restarted) {
  if (cgroup_version() == 0) {
    CAF_MESSAGE(
      "SKIPPED (this check only): containers.process OOM: no cgroup hierarchy");
    return;
  }
  container_world w{[](settings& s) {
    s.containers.memory_mb = 48;
    s.containers.args = {"--grow-mb-per-request=32"};
  }};
  w.start();
  auto rec = w.ensure(4001);
  CAF_REQUIRE(rec);
  auto status = w.status(w.prov_hdl);
  if (status.find("cgroup v") == std::string::npos) {
    CAF_MESSAGE("SKIPPED (this check only): containers.process OOM: cgroups "
                "not writable: "
                << status);
    return;
  }
  CAF_MESSAGE("quota: " << status);
  // Each request keeps 32 MiB more; the second one crosses 48 MiB.
  for (int i = 0; i < 4 && w.states->count(4001, "restarting") == 0; ++i)
    chat(*rec, "grow " + std::to_string(i));
  CAF_CHECK(wait_for(
    [&] {
      return w.states->count(4001, "restarting") >= 1;
    },
    3s));
  CAF_CHECK(w.status(w.health_hdl).find("OOM killed") != std::string::npos);
  auto back = w.ensure(4001);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(healthz(back->port), 200);
}

CAF_TEST(too many restarts mark the container failed until retried) {
  container_world w{[](settings& s) {
    s.containers.args = {"--crash-after-ms=300"};
    s.health.max_restarts = 2;
    s.containers.failed_retry_after = 1h;
  }};
  w.start();
  auto rec = w.ensure(5001);
  CAF_REQUIRE(rec);
  CAF_CHECK(wait_for(
    [&] {
      return w.states->count(5001, "failed") == 1;
    },
    6s));
  CAF_CHECK_EQUAL(w.states->count(5001, "restarting"), 2u);
  auto res = w.ensure(5001);
  CAF_REQUIRE(!res);
  CAF_CHECK(code_of(res.error()) == errc::container_failed);
  CAF_CHECK(w.status(w.health_hdl).find("\"state\":\"failed\"")
            != std::string::npos);
  // An admin restart tries again (with a fresh restart history).
  CAF_CHECK(w.admin(restart_atom_v, 5001));
  CAF_CHECK(wait_for(
    [&] {
      return w.states->count(5001, "running") >= 4;
    },
    3s));
  CAF_MESSAGE("states: " << w.states->trail(5001));
}

CAF_TEST(idle containers are stopped and started again by the next ensure) {
  container_world w{[](settings& s) {
    s.containers.idle_timeout = 400ms;
    s.containers.idle_check = 100ms;
  }};
  w.start();
  auto rec = w.ensure(6001);
  CAF_REQUIRE(rec);
  auto pid = w.gateway_pid(6001);
  CAF_CHECK(wait_for(
    [&] {
      return !alive(pid);
    },
    3s));
  CAF_CHECK_EQUAL(w.states->count(6001, "stopped"), 1u);
  CAF_CHECK_EQUAL(w.states->count(6001, "restarting"), 0u);
  auto back = w.ensure(6001);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->port, rec->port);
  CAF_CHECK_EQUAL(back->token, rec->token);
  CAF_CHECK_EQUAL(healthz(back->port), 200);
}

CAF_TEST(idle containers are paused and resumed by the next ensure) {
  container_world w{[](settings& s) {
    s.containers.idle_timeout = 400ms;
    s.containers.idle_check = 100ms;
    s.containers.idle_action = "pause";
  }};
  w.start();
  auto rec = w.ensure(6101);
  CAF_REQUIRE(rec);
  auto pid = w.gateway_pid(6101);
  CAF_REQUIRE(alive(pid));
  CAF_CHECK(wait_for(
    [&] {
      return proc_state(pid) == 'T';
    },
    3s));
  CAF_CHECK(wait_for(
    [&] {
      return w.states->count(6101, "paused") == 1;
    },
    3s));
  // Frozen, not stopped: the same process, its memory kept.
  CAF_CHECK(alive(pid));
  CAF_CHECK(w.status(w.prov_hdl).find(R"("state":"paused")")
            != std::string::npos);
  auto t0 = std::chrono::steady_clock::now();
  auto back = w.ensure(6101);
  auto took = ms_since(t0);
  CAF_REQUIRE(back);
  CAF_MESSAGE("resume of a paused gateway (process backend): " << took
                                                               << " ms");
  CAF_CHECK_EQUAL(w.gateway_pid(6101), pid);
  CAF_CHECK_NOT_EQUAL(proc_state(pid), 'T');
  CAF_CHECK_EQUAL(back->port, rec->port);
  CAF_CHECK_EQUAL(chat(*back, "hello again"), 200);
  CAF_CHECK_EQUAL(w.states->count(6101, "restarting"), 0u);
  CAF_CHECK(w.status(w.prov_hdl).find(R"("idle_pauses":1)")
            != std::string::npos);
}

CAF_TEST(remove after removes an idle container and keeps its data) {
  container_world w{[](settings& s) {
    s.containers.idle_timeout = 300ms;
    s.containers.idle_check = 100ms;
    // 0.8 s, in days.
    s.containers.remove_after = 0.8 / 86400;
  }};
  w.start();
  auto rec = w.ensure(6201);
  CAF_REQUIRE(rec);
  auto pid = w.gateway_pid(6201);
  std::ofstream{rec->data_dir + "/notes.txt"} << "kept";
  CAF_CHECK(wait_for(
    [&] {
      return w.status(w.prov_hdl).find(R"("idle_removals":1)")
        != std::string::npos;
    },
    5s));
  CAF_CHECK(!alive(pid));
  // The backend forgot the container; the data stays.
  CAF_CHECK(w.status(w.prov_hdl).find(R"("state":"stopped","user":6201)")
            != std::string::npos);
  std::ifstream notes{rec->data_dir + "/notes.txt"};
  std::string kept;
  notes >> kept;
  CAF_CHECK_EQUAL(kept, "kept");
  // Removed once, not again and again.
  std::this_thread::sleep_for(500ms);
  CAF_CHECK(w.status(w.prov_hdl).find(R"("idle_removals":1)")
            != std::string::npos);
  // The next message creates it again, with the same port and token.
  auto back = w.ensure(6201);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->port, rec->port);
  CAF_CHECK_EQUAL(back->token, rec->token);
  CAF_CHECK_EQUAL(chat(*back, "hello"), 200);
}

CAF_TEST(capacity and bad input give clear errors) {
  container_world w{[](settings& s) {
    s.containers.max_containers = 1;
    s.containers.storage_mb = 100;
  }};
  w.start();
  CAF_REQUIRE(w.ensure(7001));
  // A quota this backend cannot apply is reported, not silently dropped.
  CAF_CHECK(w.status(w.prov_hdl).find("storage quota not applied")
            != std::string::npos);
  auto second = w.ensure(7002);
  CAF_REQUIRE(!second);
  CAF_CHECK(code_of(second.error()) == errc::capacity_exhausted);
  // A missing gateway program: a clear error, nothing left running.
  container_world bad{[](settings& s) {
    s.containers.command = "/nonexistent/gateway";
  }};
  bad.start();
  auto res = bad.ensure(7003);
  CAF_REQUIRE(!res);
  CAF_CHECK(code_of(res.error()) == errc::container_down);
  auto text = bad.sys->render(res.error());
  CAF_MESSAGE("error: " << text);
  CAF_CHECK(text.find("No such file") != std::string::npos);
}

CAF_TEST(the static backend only looks users up) {
  container_world w{[](settings& s) {
    s.backend.kind = "static";
  }};
  user_record known;
  known.user_id = 8001;
  known.port = 1;
  known.token = "t";
  known.container = "zaki-user-8001";
  w.start({known});
  auto rec = w.ensure(8001);
  CAF_REQUIRE(rec);
  CAF_CHECK_EQUAL(rec->port, 1u);
  auto missing = w.ensure(8002);
  CAF_REQUIRE(!missing);
  CAF_CHECK(code_of(missing.error()) == errc::not_provisioned);
}

CAF_TEST(gateways that outlived a router crash are adopted) {
  container_world w;
  // A gateway started by the "previous" router: pid file and users.json
  // entry exist, the process runs.
  auto port = static_cast<uint16_t>(w.ctx->cfg.containers.port_base + 7);
  user_record rec;
  rec.user_id = 9001;
  rec.port = port;
  rec.token = std::string(64, 'a');
  rec.container = "zaki-user-9001";
  std::string err;
  auto dir = open_user_dir(w.ctx->cfg.store.data_root, 9001, true, err);
  CAF_REQUIRE(dir);
  child_options opts;
  opts.argv = {gateway_binary()};
  opts.env = {"OPENCLAW_GATEWAY_TOKEN=" + rec.token,
              "OPENCLAW_GATEWAY_PORT=" + std::to_string(port)};
  auto child = spawn_child(opts);
  CAF_REQUIRE_GREATER(child.pid, 0);
  {
    auto path = w.root + "/data/users/user-9001/gateway.pid";
    auto* f = std::fopen(path.c_str(), "w");
    std::fprintf(f, "%d %llu %u\n", child.pid, process_start_time(child.pid),
                 port);
    std::fclose(f);
  }
  CAF_REQUIRE(wait_for(
    [&] {
      return healthz(port) == 200;
    },
    3s));
  w.start({rec});
  CAF_CHECK(wait_for(
    [&] {
      return w.states->count(9001, "running") == 1;
    },
    3s));
  auto got = w.ensure(9001);
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->port, port);
  // The same process serves: nothing was started.
  CAF_CHECK_EQUAL(w.gateway_pid(9001), child.pid);
  CAF_CHECK_EQUAL(chat(*got, "adopted?"), 200);
  // Its exit is still seen at once (pidfd on a non-child).
  ::kill(child.pid, SIGKILL);
  CAF_CHECK(wait_for(
    [&] {
      return w.states->count(9001, "restarting") == 1;
    },
    2s));
  int status = 0;
  ::waitpid(child.pid, &status, 0); // our (the test's) child after all
  CAF_CHECK(wait_for(
    [&] {
      return w.states->count(9001, "running") == 2;
    },
    3s));
}
