#include "runtime/config.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <caf/config_option_adder.hpp>
#include <caf/settings.hpp>

#include "access/policy.hpp"
#include "access/rate_limit.hpp"
#include "messages/interfaces.hpp"

namespace zaki {

config::config() {
  add_message_types<caf::id_block::zaki>();
  add_message_types<caf::id_block::zaki_actors>();
  // The actors run on the I/O threads (runtime/io_scheduler.hpp): a message
  // then crosses no thread, which halves the router's CPU per message on a
  // 2-core machine. 'sharing' (CAF's work sharing, sleeps when idle) and
  // 'stealing' (polls) run them on CAF workers instead.
  set("scheduler.policy", caf::atom("io"));
  // For 'sharing' and 'stealing': one core stays for the I/O thread; on a
  // 2-core machine a second CAF worker only adds hand-offs between threads
  // (CPU per message 370 -> 260 us in the load bench).
  auto cores = std::thread::hardware_concurrency();
  set("scheduler.max-threads", static_cast<size_t>(cores > 1 ? cores - 1 : 1));
  auto& v = values;
  opt_group{custom_options_, "telegram"}
    .add(v.telegram.api_root, "api-root", "Bot API base URL")
    .add(v.telegram.token_file, "token-file",
         "file with the bot token (env TELEGRAM_BOT_TOKEN wins)")
    .add(v.telegram.ca_file, "ca-file", "extra PEM file of trusted CAs")
    .add(v.telegram.poll_timeout, "poll-timeout", "getUpdates long-poll time")
    .add(v.telegram.poll_limit, "poll-limit", "updates per getUpdates (1-100)")
    .add(v.telegram.backoff_initial, "backoff-initial",
         "first delay after a failed poll")
    .add(v.telegram.backoff_max, "backoff-max", "cap of the poll backoff")
    .add(v.telegram.request_timeout, "request-timeout",
         "deadline of a Bot API call (other than getUpdates)")
    .add(v.telegram.global_rate, "global-rate", "messages/s for the whole bot")
    .add(v.telegram.global_burst, "global-burst", "burst of the bot's bucket")
    .add(v.telegram.chat_rate, "chat-rate", "messages/s per chat")
    .add(v.telegram.chat_burst, "chat-burst", "burst of a chat's bucket")
    .add(v.telegram.connections, "connections",
         "keep-alive connections for outbound calls")
    .add(v.telegram.max_send_attempts, "max-send-attempts",
         "attempts of a send on 5xx and network errors")
    .add(v.telegram.max_body, "max-body", "largest Bot API answer in bytes")
    .add(v.telegram.max_wait, "max-wait",
         "log and count a reply held by retry_after longer than this");
  opt_group{custom_options_, "gateway"}
    .add(v.gateway.timeout, "timeout", "deadline of one gateway request")
    .add(v.gateway.attempts, "attempts", "attempts per message (1-10)")
    .add(v.gateway.backoff_initial, "backoff-initial",
         "delay before the second attempt; doubles")
    .add(v.gateway.max_body, "max-body", "largest gateway answer in bytes")
    .add(v.gateway.model, "model", "model field of chat completions")
    .add(v.gateway.notice_after, "notice-after",
         "tell the user the assistant is still working after (0: never)")
    .add(v.gateway.idle_timeout, "idle-timeout",
         "no byte from the gateway for this long: a hang, not retried");
  opt_group{custom_options_, "store"}
    .add(v.store.users_file, "users-file", "path of users.json")
    .add(v.store.data_root, "data-root", "root of the per-user data dirs")
    .add(v.store.inbox_journal, "inbox-journal",
         "journal accepted updates on disk before confirming them")
    .add(v.store.database, "database",
         "SQLite database (default: {data-root}/zaki.db)")
    .add(v.store.transcript_limit, "transcript-limit",
         "transcript entries kept per user")
    .add(v.store.transcripts, "transcripts",
         "record each user's text and final answer")
    .add(v.store.max_size_mb, "max-size",
         "largest database size in MB (0: unlimited)");
  opt_group{custom_options_, "backend"}.add(
    v.backend.kind, "kind", "container backend: static|process|docker");
  opt_group{custom_options_, "containers"}
    .add(v.containers.command, "command",
         "gateway program (process backend); empty: zaki-test-gateway")
    .add(v.containers.args, "args", "arguments of the gateway program")
    .add(v.containers.host, "host", "host the gateways are reached on")
    .add(v.containers.port_base, "port-base", "first gateway port")
    .add(v.containers.port_max, "port-max", "last gateway port")
    .add(v.containers.max_containers, "max-containers",
         "containers running at once at most")
    .add(v.containers.max_provisioning, "max-provisioning",
         "containers created or started at once at most")
    .add(v.containers.max_waiters, "max-waiters",
         "requests held per user while its container (re)starts")
    .add(v.containers.idle_timeout, "idle-timeout",
         "stop a container without messages after")
    .add(v.containers.idle_check, "idle-check", "period of the idle check")
    .add(v.containers.idle_action, "idle-action",
         "stop|pause: what happens to an idle container")
    .add(v.containers.remove_after, "remove-after",
         "days without a message before an idle container is removed "
         "(data kept; 0: never)")
    .add(v.containers.failed_retry_after, "failed-retry-after",
         "a failed container is retried by a message after")
    .add(v.containers.stop_timeout, "stop-timeout",
         "SIGTERM before SIGKILL when stopping")
    .add(v.containers.memory_mb, "memory-mb", "memory quota in MiB (0: none)")
    .add(v.containers.cpus, "cpus", "CPU quota in CPUs (0: none)")
    .add(v.containers.pids, "pids", "process quota (0: none)")
    .add(v.containers.storage_mb, "storage-mb",
         "storage quota in MiB (0: none)")
    .add(v.containers.bandwidth_mbit, "bandwidth-mbit",
         "network quota in Mbit/s (0: none)")
    .add(v.containers.cgroup_prefix, "cgroup-prefix",
         "name prefix of per-user cgroups (process backend)")
    .add(v.containers.docker_socket, "docker-socket", "Engine API socket")
    .add(v.containers.docker_image, "docker-image", "gateway image")
    .add(v.containers.docker_cmd, "docker-cmd",
         "command of the container (empty: the image's)")
    .add(v.containers.docker_port, "docker-port",
         "gateway port inside the container")
    .add(v.containers.docker_data_mount, "docker-data-mount",
         "mount point of the user's data dir in the container")
    .add(v.containers.docker_test_label, "docker-test-label",
         "value of the zaki.test label (tests)")
    .add(v.containers.docker_timeout, "docker-timeout",
         "deadline of one Engine API call");
  opt_group{custom_options_, "health"}
    .add(v.health.startup_period, "startup-period", "startup probe period")
    .add(v.health.startup_grace, "startup-grace",
         "time a container gets to start")
    .add(v.health.period, "period", "liveness/readiness probe period")
    .add(v.health.timeout, "timeout", "deadline of one probe")
    .add(v.health.liveness_failures, "liveness-failures",
         "consecutive liveness failures before a restart")
    .add(v.health.readiness_failures, "readiness-failures",
         "consecutive readiness failures before not_ready")
    .add(v.health.backoff_initial, "backoff-initial", "first restart delay")
    .add(v.health.backoff_max, "backoff-max", "cap of the restart delay")
    .add(v.health.backoff_reset, "backoff-reset",
         "healthy time that resets the backoff")
    .add(v.health.max_restarts, "max-restarts",
         "restarts within restart-window before failed")
    .add(v.health.restart_window, "restart-window", "intensity period");
  opt_group{custom_options_, "user"}
    .add(v.user.idle_timeout, "idle-timeout", "stop idle user actors after")
    .add(v.user.max_queue, "max-queue", "messages queued per user")
    .add(v.user.typing_interval, "typing-interval",
         "refresh of the typing action")
    .add(v.user.typing_delay, "typing-delay",
         "first typing action once the gateway worked this long")
    .add(v.user.record_ttl, "record-ttl",
         "reuse a looked-up gateway address and token this long")
    .add(v.user.ensure_timeout, "ensure-timeout",
         "wait for the user's container to come up at most")
    .add(v.user.crash_trigger, "crash-trigger",
         "fault injection: text that crashes a user actor once");
  opt_group{custom_options_, "supervisor"}
    .add(v.supervisor.max_restarts, "max-restarts",
         "restarts of one user actor within restart-window")
    .add(v.supervisor.restart_window, "restart-window", "intensity period")
    .add(v.supervisor.backoff_initial, "backoff-initial",
         "delay of the first restart")
    .add(v.supervisor.backoff_max, "backoff-max", "cap of the restart delay");
  opt_group{custom_options_, "lock"}
    .add(v.lock.timeout, "timeout", "wait for a session lock at most")
    .add(v.lock.max_age, "max-age", "locks older than this are stale")
    .add(v.lock.linger, "linger",
         "keep a user's lock this long after an exchange (0: release)");
  opt_group{custom_options_, "admin"}
    .add(v.admin.address, "address", "HOST:PORT of the admin HTTP server")
    .add(v.admin.token_file, "token-file",
         "file with the admin token (env ZAKI_ADMIN_TOKEN wins)")
    .add(v.admin.live_timeout, "live-timeout",
         "/health/live fails when the root does not answer within")
    .add(v.admin.request_timeout, "request-timeout",
         "deadline of receiving a request; idle keep-alive limit")
    .add(v.admin.action_timeout, "action-timeout",
         "deadline of tree walks, user actions and lock sweeps")
    .add(v.admin.max_body, "max-body", "largest admin request body in bytes")
    .add(v.admin.max_header, "max-header",
         "largest admin request line plus headers in bytes")
    .add(v.admin.max_connections, "max-connections",
         "open admin connections at most");
  opt_group{custom_options_, "errors"}
    .add(v.errors.help_url, "help-url", "link of the Help button")
    .add(v.errors.retry_window, "retry-window",
         "how long a Retry button can re-send the original message");
  opt_group{custom_options_, "shutdown"}.add(
    v.shutdown.grace, "grace", "time in-flight messages get at shutdown");
  opt_group{custom_options_, "log"}
    .add(v.log.level, "level", "trace|debug|info|warn|error")
    .add(v.log.file, "file", "log file (empty: stderr)");
  opt_group{custom_options_, "demo"}
    .add(v.demo.duration, "duration", "seconds to run the demo (0: Ctrl-C)")
    .add(v.demo.users, "users", "simulated users")
    .add(v.demo.interval, "interval", "pause between a user's messages")
    .add(v.demo.transcript, "transcript",
         "write a Telegram-eye transcript of the demo to this file");
  opt_group{custom_options_, "io"}.add(v.io.threads, "threads",
                                       "threads of the network I/O context");
  opt_group{custom_options_, "gateway"}.add(
    v.stream.gateway, "stream", "ask the gateway for a streamed (SSE) answer");
  opt_group{custom_options_, "access"}
    .add(v.access.policy, "policy", "open|approval|allowlist|closed")
    .add(v.access.admins, "admins", "admin Telegram user ids: ID,ID")
    .add(v.access.max_pending, "max-pending",
         "strangers waiting for approval at most")
    .add(v.access.max_pending_messages, "max-pending-messages",
         "messages of a pending user kept until the decision")
    .add(v.access.rate, "rate",
         "messages a user may send: N/sec|min|hour (0: no limit)")
    .add(v.access.daily_tokens, "daily-tokens",
         "tokens a user may spend per UTC day; admins exempt (0: none)");
  opt_group{custom_options_, "stream"}
    .add(v.stream.mode, "mode", "edit|draft|off: how Telegram shows a stream")
    .add(v.stream.edit_interval, "edit-interval",
         "at most one edit per message per interval (>= 250ms)")
    .add(v.stream.first_preview, "first-preview",
         "first preview after this with any text (at once with 30 chars)")
    .add(v.stream.idle_timeout, "idle-timeout",
         "older name of gateway.idle-timeout, which it overrides (0: unset)");
  opt_group{custom_options_, "root"}
    .add(v.root.max_restarts, "max-restarts",
         "restarts of the root's children within restart-window")
    .add(v.root.restart_window, "restart-window", "intensity period")
    .add(v.root.restart_delay, "restart-delay",
         "delay of a root child's restart");
  opt_group{custom_options_, "chat"}
    .add(v.chat.groups, "groups",
         "ignore|mention: what the bot does with messages in groups")
    .add(v.chat.bot_username, "bot-username",
         "the bot's @username without @ (empty: getMe at start)");
  opt_group{custom_options_, "media"}
    .add(v.media.max_image_bytes, "max-image-bytes",
         "largest photo sent to the assistant")
    .add(v.media.max_file_bytes, "max-file-bytes",
         "largest document, audio, video or voice note saved")
    .add(v.media.max_concurrent_downloads, "max-concurrent-downloads",
         "downloads from the Bot API at once")
    .add(v.media.download_timeout, "download-timeout",
         "deadline of one download")
    .add(v.media.container_data_dir, "container-data-dir",
         "the user's data dir as the container sees it");
}

caf::settings config::dump_content() const {
  auto result = caf::actor_system_config::dump_content();
  for (auto& opt : custom_options_) {
    auto category = opt.category();
    if (category == "global" || category == "caf")
      continue;
    if (auto value = opt.get())
      caf::put(result, opt.full_name(), std::move(*value));
  }
  return result;
}

namespace {

std::string trim(std::string s) {
  auto last = s.find_last_not_of(" \t\r\n");
  s.erase(last == std::string::npos ? 0 : last + 1);
  auto first = s.find_first_not_of(" \t\r\n");
  return first == std::string::npos ? std::string{} : s.substr(first);
}

} // namespace

bool parse_command_line(config& cfg, std::vector<std::string> args,
                        std::vector<std::string>& positional, int& exit_code) {
  // CAF 0.17 takes a flag as `--group.name` only and refuses
  // `--group.name=false`, the form users type for an option documented as
  // "true by default" (`--gateway.stream=false`). Both forms are accepted:
  // `=true` becomes the bare flag, `=false` is applied after parsing.
  std::vector<const caf::config_option*> cleared;
  for (auto i = args.begin(); i != args.end();) {
    auto eq = i->find('=');
    if (i->rfind("--", 0) == 0 && eq != std::string::npos) {
      auto value = i->substr(eq + 1);
      auto opt = cfg.find_option(caf::string_view{i->data() + 2, eq - 2});
      if (opt && opt->is_flag() && (value == "true" || value == "false")) {
        if (value == "true") {
          i->resize(eq);
        } else {
          cleared.push_back(opt);
          i = args.erase(i);
          continue;
        }
      }
    }
    ++i;
  }
  std::vector<char*> argv;
  std::string program = "zaki-router";
  argv.push_back(program.data());
  for (auto& arg : args)
    argv.push_back(arg.data());
  auto err = cfg.parse(static_cast<int>(argv.size()), argv.data());
  for (auto opt : cleared)
    opt->store(caf::config_value{false});
  if (err) {
    std::cerr << "zaki-router: invalid configuration: " << caf::to_string(err)
              << "\n(see zaki-router <command> --long-help)\n";
    exit_code = 2;
    return false;
  }
  if (cfg.cli_helptext_printed) {
    exit_code = 0;
    return false;
  }
  positional = cfg.remainder;
  auto problem = validate(cfg.values);
  // CAF would fall back to work stealing with a warning on stderr.
  auto policy = caf::get_or(cfg, "scheduler.policy", caf::atom("io"));
  if (problem.empty() && policy != caf::atom("io")
      && policy != caf::atom("sharing") && policy != caf::atom("stealing"))
    problem = "scheduler.policy must be io, sharing or stealing";
  if (!problem.empty()) {
    std::cerr << "zaki-router: invalid configuration: " << problem << "\n";
    exit_code = 2;
    return false;
  }
  return true;
}

std::string read_secret(const char* env_var, const std::string& file,
                        std::string& error) {
  if (auto env = std::getenv(env_var); env != nullptr && *env != '\0')
    return trim(env);
  if (file.empty())
    return {};
  std::ifstream in{file};
  if (!in) {
    error = "cannot read the token file " + file;
    return {};
  }
  std::stringstream buf;
  buf << in.rdbuf();
  auto result = trim(buf.str());
  if (result.empty())
    error = "the token file " + file + " is empty";
  return result;
}

std::string read_bot_token(const settings& s, std::string& error) {
  return read_secret("TELEGRAM_BOT_TOKEN", s.telegram.token_file, error);
}

namespace {

std::string validate_containers(const settings& s) {
  auto& c = s.containers;
  if (c.port_base < 1024 || c.port_max > 65535 || c.port_base > c.port_max)
    return "containers.port-base..port-max must lie within 1024..65535";
  if (c.max_containers < 1 || c.max_provisioning < 1)
    return "containers.max-containers and max-provisioning must be >= 1";
  if (!(c.cpus >= 0))
    return "containers.cpus must not be negative";
  if (s.containers.idle_action != "stop" && s.containers.idle_action != "pause")
    return "containers.idle-action must be stop or pause, not '"
      + s.containers.idle_action + "'";
  if (!(s.containers.remove_after >= 0))
    return "containers.remove-after must be a number of days >= 0 (0: never)";
  if (c.docker_port < 1 || c.docker_port > 65535)
    return "containers.docker-port must lie within 1..65535";
  auto& h = s.health;
  if (h.liveness_failures < 1 || h.readiness_failures < 1)
    return "health.*-failures must be at least 1";
  if (h.period <= caf::timespan{0} || h.timeout <= caf::timespan{0}
      || h.startup_period <= caf::timespan{0})
    return "health probe periods and timeout must be positive";
  if (h.backoff_initial <= caf::timespan{0}
      || h.backoff_max < h.backoff_initial)
    return "health.backoff-initial must be positive and <= backoff-max";
  return {};
}

} // namespace

std::string validate(const settings& s) {
  auto& t = s.telegram;
  if (t.api_root.rfind("http://", 0) != 0 && t.api_root.rfind("https://", 0))
    return "telegram.api-root must start with http:// or https://";
  if (t.poll_limit < 1 || t.poll_limit > 100)
    return "telegram.poll-limit must be within 1..100";
  if (t.poll_timeout < std::chrono::seconds(0)
      || t.poll_timeout > std::chrono::seconds(50))
    return "telegram.poll-timeout must be within 0s..50s";
  if (!(t.global_rate > 0) || !(t.chat_rate > 0))
    return "telegram rates must be positive";
  if (t.connections < 1 || t.connections > 64)
    return "telegram.connections must be within 1..64";
  if (s.gateway.attempts < 1 || s.gateway.attempts > 10)
    return "gateway.attempts must be within 1..10";
  if (s.gateway.timeout <= std::chrono::seconds(0))
    return "gateway.timeout must be positive";
  if (s.backend.kind != "static" && s.backend.kind != "process"
      && s.backend.kind != "docker")
    return "backend.kind must be static, process or docker";
  if (auto problem = validate_containers(s); !problem.empty())
    return problem;
  if (s.admin.address.find(':') == std::string::npos)
    return "admin.address must be HOST:PORT";
  if (s.admin.live_timeout <= std::chrono::seconds(0)
      || s.admin.request_timeout <= std::chrono::seconds(0)
      || s.admin.action_timeout <= std::chrono::seconds(0))
    return "admin timeouts must be positive";
  if (s.admin.max_header < 1024 || s.admin.max_connections < 1)
    return "admin.max-header must be at least 1024 and "
           "admin.max-connections at least 1";
  if (s.user.max_queue < 1)
    return "user.max-queue must be at least 1";
  if (s.stream.mode != "edit" && s.stream.mode != "draft"
      && s.stream.mode != "off")
    return "stream.mode must be edit, draft or off";
  if (s.stream.edit_interval < std::chrono::milliseconds(250))
    return "stream.edit-interval must be at least 250ms";
  if (s.stream.idle_timeout < std::chrono::seconds(0)
      || s.stream.first_preview < std::chrono::seconds(0))
    return "stream.idle-timeout and stream.first-preview must be >= 0";
  if (gateway_idle_timeout(s) <= std::chrono::seconds(0))
    return "gateway.idle-timeout must be positive";
  if (!parse_access_policy(s.access.policy))
    return "access.policy must be open, approval, allowlist or closed, not '"
      + s.access.policy + "'";
  if (std::string bad; !parse_admin_ids(s.access.admins, bad))
    return "access.admins must be Telegram user ids separated by commas: '"
      + bad + "' in '" + s.access.admins + "' is not one";
  if (s.access.max_pending < 1 || s.access.max_pending_messages < 1)
    return "access.max-pending and access.max-pending-messages must be at "
           "least 1";
  if (!parse_rate(s.access.rate))
    return "access.rate must be N/sec, N/min or N/hour (0: no limit), not '"
      + s.access.rate + "'";
  if (s.root.restart_window <= std::chrono::seconds(0)
      || s.root.restart_delay < std::chrono::seconds(0))
    return "root.restart-window must be positive and root.restart-delay "
           "not negative";
  if (s.chat.groups != "ignore" && s.chat.groups != "mention")
    return "chat.groups must be ignore or mention";
  if (s.media.max_concurrent_downloads < 1)
    return "media.max-concurrent-downloads must be at least 1";
  return {};
}

} // namespace zaki
