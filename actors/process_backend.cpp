#include "actors/process_backend.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <caf/all.hpp>

#include "containers/spawn_child.hpp"
#include "messages/errors.hpp"
#include "messages/peer.hpp"
#include "messages/status_detail.hpp"
#include "runtime/logging.hpp"
#include "storage/user_paths.hpp"

namespace zaki {

/// Waits on the io_context for a process to end (its pidfd turns
/// readable), then tells the backend; never touches actor state.
struct pid_watch : std::enable_shared_from_this<pid_watch> {
  explicit pid_watch(boost::asio::io_context& ioc, int fd) : sd(ioc, fd) {
    // nop
  }
  boost::asio::posix::stream_descriptor sd;

  void start(caf::actor_addr backend, int64_t user, uint64_t gen) {
    sd.async_wait(boost::asio::posix::descriptor_base::wait_read,
                  [self = shared_from_this(), backend, user,
                   gen](boost::system::error_code ec) {
                    if (ec)
                      return; // closed: the backend forgot this process
                    if (auto hdl = caf::actor_cast<backend_actor>(backend))
                      caf::anon_send(hdl, internal_atom_v, exited_atom_v, user,
                                     gen);
                  });
  }

  /// Closes the pidfd on the I/O thread (Asio objects are not thread-safe).
  static void close(std::shared_ptr<pid_watch> w) {
    if (!w)
      return;
    auto& ioc
      = static_cast<boost::asio::io_context&>(w->sd.get_executor().context());
    boost::asio::post(ioc, [w] {
      boost::system::error_code ignored;
      w->sd.close(ignored);
    });
  }
};

namespace {

using self_ptr = backend_actor::stateful_pointer<process_backend_state>;

std::string pid_file_name() {
  return "gateway.pid";
}

void signal_all(process_child& c, int sig) {
  if (c.pid > 0)
    ::kill(-c.pid, sig); // the process group (setpgid in the child)
  for (auto pid : cgroup_pids(c.cgroup))
    ::kill(pid, sig); // stragglers that left the group
  if (c.pid > 0)
    ::kill(c.pid, sig);
}

container_info info_of(const process_child& c) {
  container_info info;
  info.user_id = c.spec.user_id;
  info.name = c.spec.name;
  info.state = c.paused && c.state == process_state::running
    ? "paused"
    : to_string(c.state);
  info.pid = c.state == process_state::running ? c.pid : 0;
  info.port = c.spec.port;
  info.exit_code = c.last_exit;
  info.oom_killed = c.last_oom;
  info.quota = c.cgroup.applied;
  info.not_applied = c.cgroup.not_applied;
  return info;
}

/// Starts watching `pid` for its exit; returns false if no pidfd.
bool watch(self_ptr self, process_child& c) {
  // glibc 2.36 declares pidfd_open without C linkage: use the syscall.
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, c.pid, 0));
  if (fd < 0)
    return false;
  c.watch = std::make_shared<pid_watch>(self->state.ctx->io->context(), fd);
  c.watch->start(self->address(), c.spec.user_id, c.generation);
  return true;
}

void write_pid_file(int dirfd, pid_t pid, uint16_t port) {
  int fd = ::openat(dirfd, pid_file_name().c_str(),
                    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                    0600);
  if (fd < 0)
    return;
  auto text = std::to_string(pid) + " "
    + std::to_string(process_start_time(pid)) + " " + std::to_string(port)
    + "\n";
  (void) !::write(fd, text.data(), text.size());
  ::close(fd);
}

/// Delivers a value or an error through `rp`.
void deliver(caf::typed_response_promise<container_info>& rp,
             caf::expected<container_info> x) {
  if (x)
    rp.deliver(std::move(*x));
  else
    rp.deliver(std::move(x.error()));
}

/// Storage and bandwidth quotas need a volume or a network namespace of
/// their own, which this backend does not create: say so, never silently.
void note_unsupported(const settings& cfg, cgroup_handle& cg) {
  auto add = [&cg](const std::string& what) {
    cg.not_applied += (cg.not_applied.empty() ? "" : "; ") + what;
  };
  if (cfg.containers.storage_mb > 0)
    add("storage quota not applied: the process backend has no volume of "
        "its own (use docker with a size-capable storage driver)");
  if (cfg.containers.bandwidth_mbit > 0)
    add("bandwidth quota not applied: the process backend shares the host "
        "network namespace");
}

caf::expected<container_info> do_start(self_ptr self,
                                       const container_spec& spec) {
  auto& st = self->state;
  auto log = logger("provisioner");
  auto& c = st.children[spec.user_id];
  c.spec = spec;
  std::string err;
  auto dir = open_user_dir(st.ctx->cfg.store.data_root, spec.user_id, true,
                           err);
  if (!dir)
    return make_error(errc::container_down, "data dir: " + err);
  quota_request q;
  q.memory_mb = st.ctx->cfg.containers.memory_mb;
  q.cpus = st.ctx->cfg.containers.cpus;
  q.pids = st.ctx->cfg.containers.pids;
  c.cgroup = prepare_cgroup(
    "/sys/fs/cgroup",
    st.ctx->cfg.containers.cgroup_prefix + std::to_string(spec.user_id), q);
  c.oom_base = oom_kill_count(c.cgroup);
  note_unsupported(st.ctx->cfg, c.cgroup);
  int log_fd = ::openat(dir.get(), "gateway.log",
                        O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                        0600);
  if (log_fd < 0)
    return make_error(errc::container_down,
                      std::string{"gateway.log: "} + std::strerror(errno));
  unique_fd log_guard{log_fd};
  child_options opts;
  opts.argv.push_back(st.program);
  for (auto& a : st.ctx->cfg.containers.args)
    opts.argv.push_back(a);
  auto* path = std::getenv("PATH");
  opts.env.push_back(std::string{"PATH="}
                     + (path ? path : "/usr/local/bin:/usr/bin:/bin"));
  opts.env.push_back("HOME=" + spec.data_dir);
  opts.env.push_back("OPENCLAW_GATEWAY_TOKEN=" + spec.token);
  opts.env.push_back("OPENCLAW_GATEWAY_PORT=" + std::to_string(spec.port));
  opts.cwd_fd = dir.get();
  opts.log_fd = log_fd;
  opts.cgroup = &c.cgroup;
  auto res = spawn_child(opts);
  if (res.pid < 0) {
    c.state = process_state::exited;
    c.last_error = res.error;
    log->error("event=spawn_failed user={} error={}", spec.user_id,
               log_value(res.error));
    return make_error(errc::container_down, res.error);
  }
  c.pid = res.pid;
  c.own = true;
  c.generation = ++st.next_generation;
  c.state = process_state::running;
  c.paused = false;
  c.stopping = false;
  c.last_oom = false;
  c.last_error.clear();
  ++st.starts;
  if (!watch(self, c))
    log->warn("event=pidfd_failed user={} pid={} error={}", spec.user_id, c.pid,
              log_value(std::strerror(errno)));
  write_pid_file(dir.get(), c.pid, spec.port);
  log->info("event=process_started user={} pid={} port={} quota={}{}",
            spec.user_id, c.pid, spec.port, log_value(c.cgroup.applied),
            c.cgroup.not_applied.empty()
              ? std::string{}
              : " not_applied=" + log_value(c.cgroup.not_applied, 300));
  return info_of(c);
}

void on_exit(self_ptr self, int64_t user, uint64_t gen) {
  auto& st = self->state;
  auto i = st.children.find(user);
  if (i == st.children.end() || i->second.generation != gen
      || i->second.state != process_state::running)
    return;
  auto& c = i->second;
  int status = 0;
  int32_t code = -1;
  std::string detail;
  if (c.own && ::waitpid(c.pid, &status, WNOHANG) == c.pid) {
    if (WIFEXITED(status)) {
      code = WEXITSTATUS(status);
      detail = "exited with " + std::to_string(code);
    } else if (WIFSIGNALED(status)) {
      auto sig = WTERMSIG(status);
      code = 128 + sig;
      // "killed by signal 9 (SIGKILL)"; strsignal alone reads "Killed".
      auto abbrev = ::sigabbrev_np(sig);
      detail = "killed by signal " + std::to_string(sig)
        + (abbrev ? std::string{" (SIG"} + abbrev + ")" : "");
    }
  } else {
    detail = "adopted process ended";
  }
  c.last_exit = code;
  c.last_oom = oom_kill_count(c.cgroup) > c.oom_base;
  if (c.last_oom)
    detail += " (OOM kill: memory quota reached)";
  // The rest of the group (e.g. the gateway's own children) goes too.
  signal_all(c, SIGKILL);
  c.state = process_state::exited;
  pid_watch::close(std::move(c.watch));
  auto log = logger("provisioner");
  if (c.stopping) {
    c.stopping = false;
    log->info("event=process_stopped user={} pid={} {}", user, c.pid,
              log_value(detail));
    auto waiters = std::move(c.stop_waiters);
    auto then = std::move(c.after_stop);
    for (auto& rp : waiters)
      rp.deliver(true);
    for (auto& f : then)
      f();
    return;
  }
  ++st.unexpected_exits;
  log->warn("event=process_exited user={} pid={} code={} oom={} detail={}",
            user, c.pid, code, c.last_oom, log_value(detail));
  report_exit(self->system(), user, code, c.last_oom, detail);
}

/// Stops `c` and runs `then` afterwards (at once if it is not running).
void stop_then(self_ptr self, process_child& c, std::function<void()> then) {
  if (c.state != process_state::running) {
    if (then)
      then();
    return;
  }
  if (then)
    c.after_stop.push_back(std::move(then));
  if (c.stopping)
    return;
  c.stopping = true;
  signal_all(c, SIGTERM);
  // A stopped (hung, or paused by us with SIGSTOP) process handles SIGTERM
  // only once resumed.
  signal_all(c, SIGCONT);
  c.paused = false;
  self->delayed_send(self, self->state.ctx->cfg.containers.stop_timeout,
                     internal_atom_v, timeout_atom_v, c.spec.user_id,
                     c.generation);
}

/// Finds processes that survived a router crash through their pid files.
std::vector<container_info> adopt_leftovers(self_ptr self) {
  auto& st = self->state;
  std::vector<container_info> result;
  auto root = st.ctx->cfg.store.data_root + "/users";
  auto* dir = ::opendir(root.c_str());
  if (dir == nullptr)
    return result;
  while (auto* ent = ::readdir(dir)) {
    std::string name = ent->d_name;
    if (name.rfind("user-", 0) != 0)
      continue;
    auto id = parse_user_id(std::string_view{name}.substr(5));
    if (!id || st.children.count(*id) > 0)
      continue;
    std::string err;
    auto udir = open_user_dir(st.ctx->cfg.store.data_root, *id, false, err);
    if (!udir)
      continue;
    int fd = ::openat(udir.get(), pid_file_name().c_str(),
                      O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      continue;
    char buf[128] = {};
    auto n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    long long pid = 0;
    unsigned long long start = 0;
    unsigned port = 0;
    if (n <= 0 || std::sscanf(buf, "%lld %llu %u", &pid, &start, &port) != 3
        || pid <= 0 || port == 0 || port > 65535)
      continue;
    // A recycled pid runs something else or started at another time.
    if (process_start_time(static_cast<pid_t>(pid)) != start
        || program_of(static_cast<pid_t>(pid)) != st.program) {
      (void) ::unlinkat(udir.get(), pid_file_name().c_str(), 0);
      continue;
    }
    auto& c = st.children[*id];
    c.spec.user_id = *id;
    c.spec.name = container_name(*id);
    c.spec.port = static_cast<uint16_t>(port);
    c.spec.data_dir = user_data_dir(st.ctx->cfg.store.data_root, *id);
    c.pid = static_cast<pid_t>(pid);
    c.own = false;
    c.generation = ++st.next_generation;
    c.state = process_state::running;
    // A gateway the previous router paused (idle-action=pause) would fail
    // every probe: thaw it; the idle check pauses it again later.
    ::kill(-c.pid, SIGCONT);
    ::kill(c.pid, SIGCONT);
    quota_request q{st.ctx->cfg.containers.memory_mb,
                    st.ctx->cfg.containers.cpus, st.ctx->cfg.containers.pids};
    c.cgroup = prepare_cgroup(
      "/sys/fs/cgroup",
      st.ctx->cfg.containers.cgroup_prefix + std::to_string(*id), q);
    c.oom_base = oom_kill_count(c.cgroup);
    watch(self, c);
    logger("provisioner")
      ->info("event=process_found user={} pid={} port={}", *id, pid, port);
    result.push_back(info_of(c));
  }
  ::closedir(dir);
  return result;
}

/// The program, the cgroup version and each child, for the admin tree.
status_node process_status(self_ptr self) {
  auto& st = self->state;
  status_node node;
  node.name = "backend:process";
  node.id = self->id();
  node.state = "running";
  node.mailbox_size = self->mailbox().size();
  status_detail w;
  w.begin_object().field("program", st.program);
  w.field("cgroup_version", cgroup_version());
  w.field("starts", st.starts).field("unexpected_exits", st.unexpected_exits);
  w.key("children").begin_array();
  for (auto& [id, c] : st.children) {
    w.begin_object().field("user", id).field("state", to_string(c.state));
    w.field("pid", int64_t{c.pid}).field("port", int{c.spec.port});
    w.field("adopted", !c.own).field("last_exit", int{c.last_exit});
    w.field("oom_killed", c.last_oom).field("quota", c.cgroup.applied);
    w.field("quota_not_applied", c.cgroup.not_applied);
    if (!c.last_error.empty())
      w.field("last_error", c.last_error);
    w.end_object();
  }
  w.end_array();
  node.detail = w.end_object().take();
  return node;
}

} // namespace

process_backend_state::~process_backend_state() {
  for (auto& [id, c] : children)
    if (c.state == process_state::running) {
      if (orderly)
        signal_all(c, SIGTERM);
      pid_watch::close(std::move(c.watch));
    }
}

std::string gateway_program(const settings& s) {
  if (!s.containers.command.empty())
    return s.containers.command;
  return self_exe_dir() + "/zaki-test-gateway";
}

std::string container_name(int64_t user_id) {
  return "zaki-user-" + std::to_string(user_id);
}

void report_exit(caf::actor_system& sys, int64_t user_id, int32_t exit_code,
                 bool oom, std::string detail) {
  if (auto health = peer<health_actor>(sys))
    caf::anon_send(health, exited_atom_v, user_id, exit_code, oom,
                   std::move(detail));
}

backend_actor::behavior_type
process_backend(backend_actor::stateful_pointer<process_backend_state> self,
                context_ptr ctx) {
  self->state.ctx = ctx;
  self->state.program = gateway_program(ctx->cfg);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    self->state.orderly = msg.reason == caf::exit_reason::user_shutdown
      || msg.reason == caf::exit_reason::normal;
    if (!self->state.orderly)
      logger("provisioner")
        ->warn("event=backend_exit reason={} gateways=kept_for_adoption",
               log_value(self->system().render(msg.reason)));
    self->quit(msg.reason);
  });
  if (::access(self->state.program.c_str(), X_OK) != 0)
    logger("provisioner")
      ->error("event=gateway_program_missing program={} error={}",
              log_value(self->state.program), log_value(std::strerror(errno)));
  return {
    [self](start_atom,
           const container_spec& spec) -> caf::result<container_info> {
      auto i = self->state.children.find(spec.user_id);
      if (i != self->state.children.end()
          && i->second.state == process_state::running && !i->second.stopping) {
        i->second.spec.token = spec.token;
        return info_of(i->second);
      }
      if (i != self->state.children.end() && i->second.stopping) {
        auto rp = self->make_response_promise<container_info>();
        i->second.after_stop.push_back([self, rp, spec]() mutable {
          deliver(rp, do_start(self, spec));
        });
        return rp;
      }
      auto res = do_start(self, spec);
      if (!res)
        return std::move(res.error());
      return std::move(*res);
    },
    [self](stop_atom, int64_t user) -> caf::result<bool> {
      auto i = self->state.children.find(user);
      if (i == self->state.children.end()
          || i->second.state != process_state::running)
        return true;
      auto rp = self->make_response_promise<bool>();
      i->second.stop_waiters.push_back(rp);
      stop_then(self, i->second, nullptr);
      return rp;
    },
    [self](caf::idle_atom, int64_t user, bool pause) -> caf::result<bool> {
      // SIGSTOP freezes the whole process group (and the stragglers of its
      // cgroup): the gateway keeps its memory, and SIGCONT resumes it at
      // once, without a new start-up.
      auto i = self->state.children.find(user);
      if (i == self->state.children.end()
          || i->second.state != process_state::running || i->second.stopping)
        return make_error(errc::container_down,
                          "no running gateway to "
                            + std::string{pause ? "pause" : "resume"});
      auto& c = i->second;
      signal_all(c, pause ? SIGSTOP : SIGCONT);
      c.paused = pause;
      logger("provisioner")
        ->info("event={} user={} pid={}", pause ? "paused" : "resumed", user,
               c.pid);
      return true;
    },
    [self](restart_atom,
           const container_spec& spec) -> caf::result<container_info> {
      auto& c = self->state.children[spec.user_id];
      auto rp = self->make_response_promise<container_info>();
      stop_then(self, c, [self, rp, spec]() mutable {
        deliver(rp, do_start(self, spec));
      });
      return rp;
    },
    [self](remove_atom, int64_t user) -> caf::result<bool> {
      auto i = self->state.children.find(user);
      if (i == self->state.children.end())
        return true;
      auto rp = self->make_response_promise<bool>();
      stop_then(self, i->second, [self, rp, user]() mutable {
        auto j = self->state.children.find(user);
        if (j != self->state.children.end()) {
          remove_cgroup(j->second.cgroup);
          std::string err;
          if (auto dir = open_user_dir(self->state.ctx->cfg.store.data_root,
                                       user, false, err))
            (void) ::unlinkat(dir.get(), pid_file_name().c_str(), 0);
          self->state.children.erase(j);
        }
        rp.deliver(true);
      });
      return rp;
    },
    [self](inspect_atom, int64_t user) {
      auto i = self->state.children.find(user);
      if (i == self->state.children.end()) {
        container_info info;
        info.user_id = user;
        info.name = container_name(user);
        info.state = to_string(process_state::missing);
        return info;
      }
      return info_of(i->second);
    },
    [self](list_atom) {
      auto result = adopt_leftovers(self);
      for (auto& [id, c] : self->state.children)
        if (c.state == process_state::running
            && std::none_of(result.begin(), result.end(), [id = id](auto& x) {
                 return x.user_id == id;
               }))
          result.push_back(info_of(c));
      return result;
    },
    [self](internal_atom, http_done_atom, uint64_t, http_result&) {
      // Not used by this backend.
    },
    [self](internal_atom, exited_atom, int64_t user, uint64_t gen) {
      on_exit(self, user, gen);
    },
    [self](internal_atom, timeout_atom, int64_t user, uint64_t gen) {
      auto i = self->state.children.find(user);
      if (i == self->state.children.end() || i->second.generation != gen
          || i->second.state != process_state::running || !i->second.stopping)
        return;
      logger("provisioner")
        ->warn("event=stop_timeout user={} pid={} action=SIGKILL", user,
               i->second.pid);
      signal_all(i->second, SIGKILL);
    },
    [self](internal_atom, event_atom, const std::string&) {
      // Not used by this backend.
    },
    [self](internal_atom, retry_atom) {
      // Not used by this backend.
    },
    [self](status_atom) {
      return process_status(self);
    },
  };
}

} // namespace zaki
