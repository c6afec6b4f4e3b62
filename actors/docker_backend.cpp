#include "actors/docker_backend.hpp"

#include <filesystem>

#include <caf/all.hpp>
#include <fmt/format.h>

#include "containers/docker_json.hpp"
#include "messages/errors.hpp"
#include "messages/status_detail.hpp"
#include "runtime/logging.hpp"

namespace zaki {

namespace {

using self_ptr = backend_actor::stateful_pointer<docker_backend_state>;
namespace http = boost::beast::http;
using http::verb;
using std::chrono::steady_clock;

const std::string api = "/v1.41";

std::chrono::milliseconds api_timeout(self_ptr self) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    self->state.ctx->cfg.containers.docker_timeout);
}

/// Sends one Engine API call; `cont` runs in the actor with the result.
void call(self_ptr self, http::verb method, std::string target,
          std::string body, std::function<void(http_result&)> cont) {
  auto& st = self->state;
  auto seq = ++st.seq;
  st.calls[seq] = std::move(cont);
  ++st.api_calls;
  auto addr = self->address();
  st.client->request(method, api + target, std::move(body), api_timeout(self),
                     [addr, seq](http_result res) {
                       if (auto hdl = caf::actor_cast<backend_actor>(addr))
                         caf::anon_send(hdl, internal_atom_v, http_done_atom_v,
                                        seq, std::move(res));
                     });
}

std::string quota_text(const settings& s) {
  auto& c = s.containers;
  return fmt::format("docker: memory={}MiB cpu={:.2f} pids={}", c.memory_mb,
                     c.cpus, c.pids);
}

std::string not_applied_text(self_ptr self, int64_t user) {
  auto& st = self->state;
  std::string out;
  if (auto i = st.not_applied.find(user); i != st.not_applied.end())
    out = i->second;
  if (st.ctx->cfg.containers.bandwidth_mbit > 0) {
    if (!out.empty())
      out += "; ";
    out += "bandwidth quota not applied: tc shaping of the container's veth "
           "is not implemented";
  }
  return out;
}

using info_promise = caf::typed_response_promise<container_info>;

caf::error fail(self_ptr self, const std::string& what,
                const http_result& res) {
  auto& st = self->state;
  ++st.api_errors;
  auto err = docker_error(what, res, st.client->socket_path());
  st.last_error = self->system().render(err);
  logger("provisioner")
    ->error("event=docker_error what={} status={} error={}", log_value(what),
            res.status, log_value(st.last_error, 300));
  return err;
}

/// Inspects the container and answers `rp` with what it finds.
void answer_inspect(self_ptr self, const container_spec& spec,
                    info_promise rp) {
  call(self, verb::get, "/containers/" + spec.name + "/json", {},
       [self, spec, rp](http_result& res) mutable {
         container_info info;
         info.user_id = spec.user_id;
         info.name = spec.name;
         info.port = spec.port;
         if (!res.ok() || !parse_docker_inspect(res.body, info)) {
           rp.deliver(fail(self, "inspect " + spec.name, res));
           return;
         }
         info.user_id = spec.user_id;
         info.port = spec.port;
         info.quota = quota_text(self->state.ctx->cfg);
         info.not_applied = not_applied_text(self, spec.user_id);
         rp.deliver(std::move(info));
       });
}

void start_existing(self_ptr self, const container_spec& spec,
                    info_promise rp) {
  call(self, verb::post, "/containers/" + spec.name + "/start", {},
       [self, spec, rp](http_result& res) mutable {
         // 304: already running.
         if (res.status != 204 && res.status != 304) {
           rp.deliver(fail(self, "start " + spec.name, res));
           return;
         }
         answer_inspect(self, spec, rp);
       });
}

/// Thaws a container paused by an idle check (the Engine refuses to start
/// a paused one): a router that restarted finds it so.
void unpause_existing(self_ptr self, const container_spec& spec,
                      info_promise rp) {
  call(self, verb::post, "/containers/" + spec.name + "/unpause", {},
       [self, spec, rp](http_result& res) mutable {
         if (res.status != 204) {
           rp.deliver(fail(self, "unpause " + spec.name, res));
           return;
         }
         answer_inspect(self, spec, rp);
       });
}

void create(self_ptr self, const container_spec& spec, info_promise rp,
            bool with_storage) {
  auto& c = self->state.ctx->cfg.containers;
  docker_create_options o;
  o.image = c.docker_image;
  o.cmd = c.docker_cmd;
  o.inner_port = static_cast<uint16_t>(c.docker_port);
  o.data_mount = c.docker_data_mount;
  std::error_code ec;
  o.host_data_dir = std::filesystem::absolute(spec.data_dir, ec).string();
  o.memory_mb = c.memory_mb;
  o.cpus = c.cpus;
  o.pids = c.pids;
  o.storage_mb = with_storage ? c.storage_mb : 0;
  o.test_label = c.docker_test_label;
  call(self, verb::post, "/containers/create?name=" + spec.name,
       docker_create_body(spec, o),
       [self, spec, rp, with_storage](http_result& res) mutable {
         if (res.status == 201)
           return start_existing(self, spec, rp);
         if (with_storage && res.status >= 400 && res.status < 600
             && res.status != 404 && res.status != 409) {
           // overlay2 on ext4 refuses StorageOpt: run without, and say so.
           auto why = "storage quota not applied: "
             + docker_error_message(res.body);
           self->state.not_applied[spec.user_id] = why;
           logger("provisioner")
             ->warn("event=quota_not_applied user={} "
                    "detail={}",
                    spec.user_id, log_value(why, 300));
           return create(self, spec, rp, false);
         }
         rp.deliver(fail(self, "create " + spec.name, res));
       });
}

/// Marks the next die event of `user` as our own (stop, restart, remove).
/// The mark lasts until the container's next start event: a die that
/// follows a start is a crash again, however soon it comes.
void mark_expected(self_ptr self, int64_t user) {
  self->state.expected[user] = steady_clock::now();
}

void follow_events(self_ptr self) {
  auto addr = self->address();
  std::string filters = R"({"type":["container"],"label":["zaki.user"]})";
  self->state.client->follow(
    api + "/events?filters=" + url_encode(filters), [addr](std::string line) {
      if (auto hdl = caf::actor_cast<backend_actor>(addr))
        caf::anon_send(hdl, internal_atom_v, event_atom_v, std::move(line));
    });
}

void on_event(self_ptr self, const std::string& line) {
  auto& st = self->state;
  auto log = logger("provisioner");
  if (line.empty()) {
    if (st.events_connected)
      log->warn("event=docker_events_closed retry_in_ms=1000");
    st.events_connected = false;
    self->delayed_send(self, std::chrono::seconds(1), internal_atom_v,
                       retry_atom_v);
    return;
  }
  st.events_connected = true;
  auto ev = parse_docker_event(line);
  if (!ev)
    return;
  ++st.events_seen;
  auto now = steady_clock::now();
  if (ev->action == "oom") {
    st.oom[ev->user_id] = now;
    return;
  }
  if (ev->action == "start") {
    st.expected.erase(ev->user_id);
    return;
  }
  if (ev->action != "die" || st.expected.count(ev->user_id) > 0)
    return;
  auto o = st.oom.find(ev->user_id);
  bool oom = o != st.oom.end() && now - o->second < std::chrono::seconds(10);
  if (o != st.oom.end())
    st.oom.erase(o);
  log->warn("event=container_died user={} code={} oom={}", ev->user_id,
            ev->exit_code, oom);
  report_exit(self->system(), ev->user_id, ev->exit_code, oom,
              "container died with " + std::to_string(ev->exit_code));
}

/// The socket, the image and the API counters, for the admin tree.
status_node docker_status(self_ptr self) {
  auto& st = self->state;
  status_node node;
  node.name = "backend:docker";
  node.id = self->id();
  node.state = st.last_error.empty() ? "running" : "degraded";
  node.mailbox_size = self->mailbox().size();
  status_detail w;
  w.begin_object().field("socket", st.client->socket_path());
  w.field("image", st.ctx->cfg.containers.docker_image);
  w.field("events_connected", st.events_connected);
  w.field("events_seen", st.events_seen);
  w.field("api_calls", st.api_calls).field("api_errors", st.api_errors);
  w.field("quota", quota_text(st.ctx->cfg));
  if (!st.last_error.empty())
    w.field("last_error", st.last_error);
  node.detail = w.end_object().take();
  return node;
}

} // namespace

caf::error docker_error(const std::string& what, const http_result& res,
                        const std::string& socket_path) {
  if (res.status == 0)
    return make_error(errc::backend_unavailable,
                      what + ": Docker Engine at " + socket_path
                        + " gave no usable answer (" + res.error + ")");
  auto msg = docker_error_message(res.body);
  if (res.status >= 200 && res.status < 300)
    return make_error(errc::backend_unavailable,
                      what
                        + ": unexpected answer from the Docker Engine: " + msg);
  std::string kind = res.status == 404 ? "not found"
    : res.status == 409                ? "conflict"
                                       : "engine error";
  return make_error(errc::container_down,
                    what + ": " + kind + " (" + std::to_string(res.status)
                      + "): " + msg);
}

docker_backend_state::~docker_backend_state() {
  if (client)
    client->shutdown();
}

backend_actor::behavior_type
docker_backend(backend_actor::stateful_pointer<docker_backend_state> self,
               context_ptr ctx) {
  self->state.ctx = ctx;
  self->state.client = docker_client::make(ctx->io->context(),
                                           ctx->cfg.containers.docker_socket);
  follow_events(self);
  if (ctx->cfg.containers.bandwidth_mbit > 0)
    logger("provisioner")
      ->warn("event=quota_not_applied what=bandwidth reason=\"tc shaping of "
             "the container veth is not implemented\"");
  return {
    [self](start_atom, const container_spec& spec) {
      auto rp = self->make_response_promise<container_info>();
      self->state.not_applied.erase(spec.user_id);
      call(self, verb::get, "/containers/" + spec.name + "/json", {},
           [self, spec, rp](http_result& res) mutable {
             container_info info;
             if (res.status == 404)
               return create(self, spec, rp,
                             self->state.ctx->cfg.containers.storage_mb > 0);
             if (!res.ok() || !parse_docker_inspect(res.body, info))
               return void(rp.deliver(fail(self, "inspect " + spec.name, res)));
             if (info.user_id != spec.user_id)
               return void(rp.deliver(make_error(
                 errc::container_down,
                 "the name " + spec.name
                   + " belongs to a container not managed by zaki")));
             if (info.state == "running")
               return answer_inspect(self, spec, rp);
             if (info.state == "paused")
               return unpause_existing(self, spec, rp);
             start_existing(self, spec, rp);
           });
      return rp;
    },
    [self](stop_atom, int64_t user) {
      auto rp = self->make_response_promise<bool>();
      mark_expected(self, user);
      auto t = std::chrono::duration_cast<std::chrono::seconds>(
                 self->state.ctx->cfg.containers.stop_timeout)
                 .count();
      call(self, verb::post,
           "/containers/" + container_name(user)
             + "/stop?t=" + std::to_string(t),
           {}, [self, user, rp](http_result& res) mutable {
             if (res.status == 204 || res.status == 304 || res.status == 404)
               return void(rp.deliver(true));
             rp.deliver(fail(self, "stop " + container_name(user), res));
           });
      return rp;
    },
    [self](restart_atom, const container_spec& spec) {
      auto rp = self->make_response_promise<container_info>();
      mark_expected(self, spec.user_id);
      auto t = std::chrono::duration_cast<std::chrono::seconds>(
                 self->state.ctx->cfg.containers.stop_timeout)
                 .count();
      call(self, verb::post,
           "/containers/" + spec.name + "/restart?t=" + std::to_string(t), {},
           [self, spec, rp](http_result& res) mutable {
             if (res.status == 404)
               return create(self, spec, rp,
                             self->state.ctx->cfg.containers.storage_mb > 0);
             if (res.status != 204)
               return void(rp.deliver(fail(self, "restart " + spec.name, res)));
             answer_inspect(self, spec, rp);
           });
      return rp;
    },
    [self](remove_atom, int64_t user) {
      auto rp = self->make_response_promise<bool>();
      mark_expected(self, user);
      call(self, verb::delete_,
           "/containers/" + container_name(user) + "?force=true", {},
           [self, user, rp](http_result& res) mutable {
             if (res.status == 204 || res.status == 404)
               return void(rp.deliver(true));
             rp.deliver(fail(self, "remove " + container_name(user), res));
           });
      return rp;
    },
    [self](caf::idle_atom, int64_t user, bool pause) {
      // The Engine freezes the container's cgroup: it keeps its memory and
      // resumes at once.
      auto rp = self->make_response_promise<bool>();
      auto what = std::string{pause ? "pause" : "unpause"};
      call(self, verb::post, "/containers/" + container_name(user) + "/" + what,
           {}, [self, user, rp, what](http_result& res) mutable {
             if (res.status == 204)
               return void(rp.deliver(true));
             rp.deliver(fail(self, what + " " + container_name(user), res));
           });
      return rp;
    },
    [self](inspect_atom, int64_t user) {
      auto rp = self->make_response_promise<container_info>();
      container_spec spec;
      spec.user_id = user;
      spec.name = container_name(user);
      answer_inspect(self, spec, rp);
      return rp;
    },
    [self](list_atom) {
      auto rp = self->make_response_promise<std::vector<container_info>>();
      std::string filters = R"({"label":["zaki.user"]})";
      call(self, verb::get,
           "/containers/json?all=true&filters=" + url_encode(filters), {},
           [self, rp](http_result& res) mutable {
             if (!res.ok())
               return void(rp.deliver(fail(self, "list containers", res)));
             auto found = parse_docker_list(res.body);
             if (!found)
               return void(rp.deliver(docker_error(
                 "list containers", res, self->state.client->socket_path())));
             rp.deliver(std::move(*found));
           });
      return rp;
    },
    [self](internal_atom, http_done_atom, uint64_t seq, http_result& res) {
      auto& st = self->state;
      auto i = st.calls.find(seq);
      if (i == st.calls.end())
        return;
      auto cont = std::move(i->second);
      st.calls.erase(i);
      cont(res);
    },
    [self](internal_atom, exited_atom, int64_t, uint64_t) {
      // Not used by this backend (exits come as events).
    },
    [self](internal_atom, timeout_atom, int64_t, uint64_t) {
      // Not used by this backend (the Engine escalates stops itself).
    },
    [self](internal_atom, event_atom, const std::string& line) {
      on_event(self, line);
    },
    [self](internal_atom, retry_atom) {
      follow_events(self);
    },
    [self](status_atom) {
      return docker_status(self);
    },
  };
}

} // namespace zaki
