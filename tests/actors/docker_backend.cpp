#define CAF_SUITE actors.docker_backend

#include "caf/test/unit_test.hpp"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/fixtures/container_world.hpp"

// The docker backend against a real Docker engine: provisioning, a kill
// and its restart, an OOM kill under the memory quota, removal. The engine
// comes from scripts/docker-test-env.sh: when CI sets ZAKI_DOCKER_TESTS=1
// it installs docker.io and starts dockerd if needed; otherwise the suite
// runs only if an engine already answers. Where none can run, it prints a
// SKIPPED line with the reason instead of passing silently.

using namespace zaki;
using namespace zaki::test;

namespace {

std::string repo_root() {
  std::string file = __FILE__;
  auto pos = file.rfind("/tests/containers/");
  return pos == std::string::npos ? std::string{"."} : file.substr(0, pos);
}

int run(const std::string& cmd) {
  auto rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

void skipped(const std::string& why) {
  std::cout << "SKIPPED: containers.docker: " << why << std::endl;
  CAF_MESSAGE("SKIPPED: " << why);
}

int64_t ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now() - t0)
    .count();
}

} // namespace

CAF_TEST(the docker backend against a real engine) {
  auto script = repo_root() + "/scripts/docker-test-env.sh";
  auto* env = std::getenv("ZAKI_DOCKER_TESTS");
  bool wanted = env != nullptr && std::string{env} == "1";
  if (::access(script.c_str(), X_OK) != 0) {
    skipped(script + " not found");
    return;
  }
  if (!wanted && run(script + " ping") != 0) {
    skipped("no Docker engine answers /var/run/docker.sock (set "
            "ZAKI_DOCKER_TESTS=1 to install and start one)");
    return;
  }
  std::string dir = "/var/tmp/zaki-docker-test";
  auto rc = run(script + " up " + gateway_binary() + " " + dir);
  if (rc == 77) {
    skipped("no engine can run here (reason above)");
    return;
  }
  CAF_REQUIRE_EQUAL(rc, 0);
  auto label = "run" + std::to_string(::getpid());
  int64_t user = 424000 + ::getpid() % 1000;
  auto name = "zaki-user-" + std::to_string(user);
  {
    container_world w{[&](settings& s) {
      s.backend.kind = "docker";
      s.containers.docker_image = "zaki/gateway-stub:test";
      s.containers.docker_test_label = label;
      s.containers.docker_cmd = {"/gateway", "--bind", "0.0.0.0",
                                 "--grow-mb-per-request=24"};
      s.containers.memory_mb = 64;
      s.containers.cpus = 0.5;
      s.containers.pids = 64;
      s.containers.stop_timeout = 2s;
      s.containers.docker_timeout = 30s;
      s.health.startup_grace = 20s;
    }};
    w.start();
    auto t0 = std::chrono::steady_clock::now();
    auto rec = w.ensure(user, 60s);
    if (!rec)
      CAF_FAIL("ensure failed: " << w.sys->render(rec.error()));
    CAF_MESSAGE("provisioning (docker: create, start, startup probe): "
                << ms_since(t0) << " ms");
    CAF_CHECK_EQUAL(chat(*rec, "hello from docker"), 200);
    // A kill reaches the health supervisor through the events stream.
    auto t1 = std::chrono::steady_clock::now();
    CAF_REQUIRE_EQUAL(run("docker kill " + name + " >/dev/null"), 0);
    CAF_CHECK(wait_for(
      [&] {
        return w.states->count(user, "restarting") == 1;
      },
      5s));
    CAF_MESSAGE("docker kill to restarting: " << ms_since(t1) << " ms");
    auto back = w.ensure(user, 30s);
    CAF_REQUIRE(back);
    CAF_MESSAGE("docker kill to healthy again: " << ms_since(t1) << " ms");
    CAF_CHECK_EQUAL(healthz(back->port), 200);
    // 24 MiB more per request under a 64 MiB quota: the third one is OOM.
    for (int i = 0; i < 4 && w.states->count(user, "restarting") < 2; ++i)
      chat(*back, "grow " + std::to_string(i));
    CAF_CHECK(wait_for(
      [&] {
        return w.states->count(user, "restarting") == 2;
      },
      10s));
    CAF_CHECK(w.status(w.health_hdl).find("OOM killed") != std::string::npos);
    CAF_REQUIRE(w.ensure(user, 30s));
    CAF_CHECK(w.admin(remove_atom_v, user));
    CAF_CHECK_NOT_EQUAL(run("docker inspect " + name + " >/dev/null 2>&1"), 0);
    CAF_MESSAGE("states: " << w.states->trail(user));
  }
  {
    // Idle pause: the Engine freezes the container, the next message thaws
    // it without a start-up.
    container_world w{[&](settings& s) {
      s.backend.kind = "docker";
      s.containers.docker_image = "zaki/gateway-stub:test";
      s.containers.docker_test_label = label;
      s.containers.docker_cmd = {"/gateway", "--bind", "0.0.0.0"};
      s.containers.docker_timeout = 30s;
      s.containers.idle_action = "pause";
      s.containers.idle_timeout = 1s;
      s.containers.idle_check = 200ms;
      s.health.startup_grace = 20s;
    }};
    w.start();
    auto rec = w.ensure(user + 1, 60s);
    CAF_REQUIRE(rec);
    CAF_CHECK(wait_for(
      [&] {
        return w.states->count(user + 1, "paused") == 1;
      },
      10s));
    auto paused = "docker inspect -f '{{.State.Paused}}' zaki-user-"
      + std::to_string(user + 1) + " | grep -q true";
    CAF_CHECK_EQUAL(run(paused), 0);
    auto t0 = std::chrono::steady_clock::now();
    auto back = w.ensure(user + 1, 30s);
    CAF_REQUIRE(back);
    CAF_MESSAGE("docker unpause to ready (idle-action=pause): " << ms_since(t0)
                                                                << " ms");
    CAF_CHECK_NOT_EQUAL(run(paused), 0);
    CAF_CHECK_EQUAL(chat(*back, "hello after a pause"), 200);
    CAF_CHECK_EQUAL(w.states->count(user + 1, "restarting"), 0u);
    CAF_CHECK(w.admin(remove_atom_v, user + 1));
  }
  CAF_CHECK_EQUAL(run(script + " down " + dir + " " + label), 0);
}
