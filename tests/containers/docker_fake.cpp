#define CAF_SUITE containers.docker_fake

#include "caf/test/unit_test.hpp"

#include "actors/docker_backend.hpp"
#include "containers/docker_json.hpp"
#include "emulators/fake_docker.hpp"
#include "tests/fixtures/container_world.hpp"

// The docker backend's error paths against a fake Engine API: 404 (no such
// image), 409 (name conflict), 500, a closed socket, garbage, a daemon
// that is not there, a refused storage quota, and the event stream.

using namespace zaki;
using namespace zaki::test;
using fakes::docker_reply;

namespace {

/// Exits reported to the (stand-in) health supervisor.
struct exit_log {
  std::mutex mtx;
  std::vector<std::tuple<int64_t, int32_t, bool>> exits;
  size_t size() {
    std::lock_guard<std::mutex> guard{mtx};
    return exits.size();
  }
};

struct docker_world {
  container_world base{[](settings& s) {
    s.backend.kind = "static"; // no provisioner backend: we drive it
    s.containers.docker_timeout = 2s;
  }};
  std::unique_ptr<fakes::fake_docker> fake;
  std::shared_ptr<exit_log> exits = std::make_shared<exit_log>();
  caf::actor health;
  backend_actor backend;

  explicit docker_world(bool with_fake = true, uint64_t storage_mb = 0) {
    auto& s = base.ctx->cfg.containers;
    s.docker_socket = base.root + "/docker.sock";
    s.docker_image = "zaki/gateway-stub:test";
    s.memory_mb = 128;
    s.cpus = 0.5;
    s.pids = 64;
    s.storage_mb = storage_mb;
    if (with_fake)
      fake = std::make_unique<fakes::fake_docker>(s.docker_socket);
    auto log = exits;
    health = base.sys->spawn([log](caf::event_based_actor*) -> caf::behavior {
      return {
        [log](exited_atom, int64_t user, int32_t code, bool oom,
              const std::string&) {
          std::lock_guard<std::mutex> guard{log->mtx};
          log->exits.emplace_back(user, code, oom);
        },
      };
    });
    base.sys->registry().put(names::health, health);
    backend = base.sys->spawn(docker_backend, base.ctx);
  }

  ~docker_world() {
    {
      caf::scoped_actor self{*base.sys};
      for (auto h : {caf::actor_cast<caf::actor>(backend), health}) {
        self->monitor(h);
        self->send_exit(h, caf::exit_reason::user_shutdown);
        self->receive([](const caf::down_msg&) {},
                      caf::after(std::chrono::seconds(5)) >> [] {});
      }
    }
    backend = nullptr;
    health = nullptr;
    base.sys->registry().erase(names::health);
  }

  container_spec spec(int64_t user) {
    container_spec s;
    s.user_id = user;
    s.name = container_name(user);
    s.port = 19011;
    s.token = std::string(64, 'b');
    s.data_dir = base.root + "/data/users/user-" + std::to_string(user);
    return s;
  }

  /// Starts a container; returns the info or the rendered error.
  caf::expected<container_info> start(int64_t user) {
    caf::scoped_actor self{*base.sys};
    caf::expected<container_info> result{caf::error{}};
    self->request(backend, 10s, start_atom_v, spec(user))
      .receive(
        [&](container_info& info) {
          result = std::move(info);
        },
        [&](caf::error& err) {
          result = std::move(err);
        });
    return result;
  }

  std::string render(const caf::error& err) {
    return base.sys->render(err);
  }
};

const std::string inspect = "GET /v1.41/containers/zaki-user-1/json";
const std::string create = "POST /v1.41/containers/create";
const std::string start = "POST /v1.41/containers/zaki-user-1/start";

const std::string running_json
  = R"({"Id":"abc","Name":"/zaki-user-1","State":{"Status":"running",)"
    R"("Running":true,"Pid":4242,"OOMKilled":false,"ExitCode":0},)"
    R"("Config":{"Labels":{"zaki.user":"1","zaki.port":"19011"}}})";

} // namespace

CAF_TEST(create sends the quota and starts the container) {
  docker_world w;
  w.fake->queue(inspect, {404, R"({"message":"No such container"})"});
  w.fake->queue(inspect, {200, running_json});
  w.fake->on(create, {201, R"({"Id":"abc","Warnings":[]})"});
  w.fake->on(start, {204, ""});
  auto info = w.start(1);
  CAF_REQUIRE(info);
  CAF_CHECK_EQUAL(info->state, "running");
  CAF_CHECK_EQUAL(info->pid, 4242);
  CAF_CHECK_EQUAL(info->port, 19011u);
  CAF_CHECK(info->quota.find("memory=128MiB") != std::string::npos);
  std::string body;
  for (auto& r : w.fake->requests())
    if (r.rfind(create, 0) == 0)
      body = r;
  CAF_REQUIRE(!body.empty());
  CAF_CHECK(body.find("name=zaki-user-1") != std::string::npos);
  for (auto want :
       {R"("Memory":134217728)", R"("MemorySwap":134217728)",
        R"("NanoCpus":500000000)", R"("PidsLimit":64)", R"("Init":true)",
        R"("RestartPolicy":{"Name":"no"})",
        R"("HostIp":"127.0.0.1","HostPort":"19011")", R"("zaki.user":"1")",
        R"("Image":"zaki/gateway-stub:test")", "/data/users/user-1:/data"})
    if (body.find(want) == std::string::npos)
      CAF_FAIL("create body lacks " << want << ": " << body);
}

CAF_TEST(a missing image is a clear error) {
  docker_world w;
  w.fake->on(inspect, {404, R"({"message":"No such container"})"});
  w.fake->on(create, {404, R"({"message":"No such image: zaki/x:1"})"});
  auto res = w.start(1);
  CAF_REQUIRE(!res);
  CAF_CHECK(code_of(res.error()) == errc::container_down);
  CAF_CHECK(w.render(res.error()).find("No such image: zaki/x:1")
            != std::string::npos);
}

CAF_TEST(a name conflict is a clear error) {
  docker_world w;
  w.fake->on(inspect, {404, R"({"message":"No such container"})"});
  w.fake->on(create,
             {409,
              R"({"message":"Conflict. The container name )"
              R"(\"/zaki-user-1\" is already in use"})"});
  auto res = w.start(1);
  CAF_REQUIRE(!res);
  auto text = w.render(res.error());
  CAF_MESSAGE(text);
  CAF_CHECK(text.find("conflict (409)") != std::string::npos);
  // A container of that name that zaki did not create is never touched.
  docker_world w2;
  w2.fake->on(inspect,
              {200,
               R"({"Name":"/zaki-user-1","State":{"Status":)"
               R"("exited"},"Config":{"Labels":{}}})"});
  auto res2 = w2.start(1);
  CAF_REQUIRE(!res2);
  CAF_CHECK(w2.render(res2.error()).find("not managed by zaki")
            != std::string::npos);
  for (auto& r : w2.fake->requests())
    CAF_CHECK(r.rfind("GET", 0) == 0);
}

CAF_TEST(an engine error is a clear error) {
  docker_world w;
  w.fake->on(inspect, {404, R"({"message":"No such container"})"});
  w.fake->on(create, {500, R"({"message":"driver failed programming"})"});
  auto res = w.start(1);
  CAF_REQUIRE(!res);
  CAF_CHECK(code_of(res.error()) == errc::container_down);
  CAF_CHECK(w.render(res.error()).find("engine error (500): driver failed")
            != std::string::npos);
}

CAF_TEST(a closed socket garbage or no daemon mean backend_unavailable) {
  {
    docker_world w;
    docker_reply closing;
    closing.close = true;
    w.fake->on(inspect, closing);
    auto res = w.start(1);
    CAF_REQUIRE(!res);
    CAF_CHECK(code_of(res.error()) == errc::backend_unavailable);
    CAF_MESSAGE(w.render(res.error()));
  }
  {
    docker_world w;
    docker_reply garbage;
    garbage.raw = "this is not HTTP\r\n\r\n";
    w.fake->on(inspect, garbage);
    auto res = w.start(1);
    CAF_REQUIRE(!res);
    CAF_CHECK(code_of(res.error()) == errc::backend_unavailable);
  }
  {
    docker_world w;
    w.fake->on(inspect, {200, "{not json"});
    auto res = w.start(1);
    CAF_REQUIRE(!res);
    CAF_CHECK(code_of(res.error()) == errc::backend_unavailable);
  }
  {
    docker_world w{false};
    auto res = w.start(1);
    CAF_REQUIRE(!res);
    CAF_CHECK(code_of(res.error()) == errc::backend_unavailable);
    CAF_CHECK(w.render(res.error()).find("gave no usable answer")
              != std::string::npos);
  }
}

CAF_TEST(a refused storage quota is reported and the container runs) {
  docker_world w{true, 100};
  w.fake->queue(inspect, {404, R"({"message":"No such container"})"});
  w.fake->queue(inspect, {200, running_json});
  w.fake->queue(create,
                {500,
                 R"({"message":"--storage-opt is supported )"
                 R"(only for overlay over xfs with 'pquota'"})"});
  w.fake->queue(create, {201, R"({"Id":"abc"})"});
  w.fake->on(start, {204, ""});
  auto info = w.start(1);
  CAF_REQUIRE(info);
  CAF_CHECK(info->not_applied.find("storage quota not applied")
            != std::string::npos);
  size_t creates = 0;
  for (auto& r : w.fake->requests())
    if (r.rfind(create, 0) == 0)
      ++creates;
  CAF_CHECK_EQUAL(creates, 2u);
}

CAF_TEST(die and oom events reach the health supervisor at once) {
  docker_world w;
  CAF_REQUIRE(wait_for(
    [&] {
      return w.fake->event_streams() == 1;
    },
    2s));
  auto ev = [](const char* action, int64_t user, int code) {
    return std::string{R"({"Type":"container","Action":")"} + action
      + R"(","Actor":{"ID":"x","Attributes":{"exitCode":")"
      + std::to_string(code) + R"(","zaki.user":")" + std::to_string(user)
      + R"("}}})";
  };
  w.fake->push_event(ev("start", 1, 0));
  w.fake->push_event(ev("die", 1, 1));
  CAF_REQUIRE(wait_for(
    [&] {
      return w.exits->size() == 1;
    },
    2s));
  w.fake->push_event(ev("oom", 2, 0));
  w.fake->push_event(ev("die", 2, 137));
  CAF_REQUIRE(wait_for(
    [&] {
      return w.exits->size() == 2;
    },
    2s));
  {
    std::lock_guard<std::mutex> guard{w.exits->mtx};
    CAF_CHECK(w.exits->exits[0] == std::make_tuple(int64_t{1}, 1, false));
    CAF_CHECK(w.exits->exits[1] == std::make_tuple(int64_t{2}, 137, true));
  }
  // Our own stop's die event is expected, not a crash.
  w.fake->on("POST /v1.41/containers/zaki-user-3/stop", {204, ""});
  caf::scoped_actor self{*w.base.sys};
  bool stopped = false;
  self->request(w.backend, 5s, stop_atom_v, int64_t{3})
    .receive(
      [&](bool ok) {
        stopped = ok;
      },
      [&](caf::error&) {});
  CAF_CHECK(stopped);
  w.fake->push_event(ev("die", 3, 143));
  w.fake->push_event(ev("die", 1, 2));
  CAF_REQUIRE(wait_for(
    [&] {
      return w.exits->size() == 3;
    },
    2s));
  // Once the container started again, a die is a crash again.
  w.fake->push_event(ev("start", 3, 0));
  w.fake->push_event(ev("die", 3, 137));
  CAF_REQUIRE(wait_for(
    [&] {
      return w.exits->size() == 4;
    },
    2s));
  std::lock_guard<std::mutex> guard{w.exits->mtx};
  CAF_CHECK_EQUAL(std::get<0>(w.exits->exits[2]), 1);
  CAF_CHECK_EQUAL(std::get<0>(w.exits->exits[3]), 3);
}

CAF_TEST(list finds zaki containers by label) {
  docker_world w;
  w.fake->on("GET /v1.41/containers/json",
             {200,
              R"([{"Id":"a","Names":["/zaki-user-7"],"State":"running",)"
              R"("Labels":{"zaki.user":"7","zaki.port":"19007"}},)"
              R"({"Id":"b","Names":["/other"],"State":"running",)"
              R"("Labels":{}}])"});
  caf::scoped_actor self{*w.base.sys};
  std::vector<container_info> found;
  self->request(w.backend, 5s, list_atom_v)
    .receive(
      [&](std::vector<container_info>& xs) {
        found = std::move(xs);
      },
      [&](caf::error& err) {
        CAF_FAIL(w.render(err));
      });
  CAF_REQUIRE_EQUAL(found.size(), 1u);
  CAF_CHECK_EQUAL(found[0].user_id, 7);
  CAF_CHECK_EQUAL(found[0].port, 19007u);
  CAF_CHECK_EQUAL(found[0].name, "zaki-user-7");
  CAF_CHECK_EQUAL(found[0].state, "running");
}

CAF_TEST(engine events parse) {
  auto ev = parse_docker_event(
    R"({"status":"die","Action":"die","Actor":{"Attributes":{"exitCode":"137","name":"zaki-user-5","zaki.user":"5"}}})");
  CAF_REQUIRE(ev);
  CAF_CHECK_EQUAL(ev->action, "die");
  CAF_CHECK_EQUAL(ev->user_id, 5);
  CAF_CHECK_EQUAL(ev->exit_code, 137);
  CAF_CHECK(!parse_docker_event("garbage"));
  CAF_CHECK(!parse_docker_event(
    R"({"Action":"die","Actor":{"Attributes":{"zaki.user":"../x"}}})"));
  CAF_CHECK_EQUAL(docker_error_message(R"({"message":"boom"})"), "boom");
  CAF_CHECK_EQUAL(docker_error_message("plain"), "plain");
}

CAF_TEST(pause and unpause freeze a container and a paused one is thawed) {
  docker_world w;
  const std::string pause = "POST /v1.41/containers/zaki-user-1/pause";
  const std::string unpause = "POST /v1.41/containers/zaki-user-1/unpause";
  w.fake->on(pause, {204, ""});
  w.fake->queue(unpause, {204, ""});
  w.fake->queue(unpause, {409, R"({"message":"not paused"})"});
  auto call = [&](bool freeze) {
    caf::scoped_actor self{*w.base.sys};
    std::string out;
    self->request(w.backend, 10s, caf::idle_atom_v, int64_t{1}, freeze)
      .receive(
        [&](bool) {
          out = "ok";
        },
        [&](caf::error& err) {
          out = w.render(err);
        });
    return out;
  };
  CAF_CHECK_EQUAL(call(true), "ok");
  CAF_CHECK_EQUAL(call(false), "ok");
  // The Engine refusing is a clear error naming what failed.
  auto refused = call(false);
  CAF_MESSAGE("refused unpause: " << refused);
  CAF_CHECK(refused.find("unpause zaki-user-1") != std::string::npos);
  // A router that restarted finds a paused container: start thaws it
  // (the Engine refuses to start a paused one).
  auto paused_json = running_json;
  paused_json.replace(paused_json.find(R"("Status":"running")"),
                      std::string{R"("Status":"running")"}.size(),
                      R"("Status":"paused")");
  w.fake->queue(inspect, {200, paused_json});
  w.fake->queue(inspect, {200, running_json});
  w.fake->on(unpause, {204, ""});
  auto info = w.start(1);
  CAF_REQUIRE(info);
  CAF_CHECK_EQUAL(info->state, "running");
  size_t pauses = 0;
  size_t unpauses = 0;
  size_t starts = 0;
  for (auto& r : w.fake->requests()) {
    pauses += r.rfind(pause, 0) == 0;
    unpauses += r.rfind(unpause, 0) == 0;
    starts += r.rfind(start, 0) == 0;
  }
  CAF_CHECK_EQUAL(pauses, 1u);
  CAF_CHECK_EQUAL(unpauses, 3u);
  CAF_CHECK_EQUAL(starts, 0u);
}
