#include "runtime/config.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <caf/config_option_adder.hpp>

#include "messages/interfaces.hpp"

namespace zaki {

config::config() {
  add_message_types<caf::id_block::zaki>();
  add_message_types<caf::id_block::zaki_actors>();
  // The work-sharing scheduler sleeps when idle; the default work stealing
  // polls and costs a few percent of a core on an idle router.
  set("scheduler.policy", caf::atom("sharing"));
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
    .add(v.telegram.max_body, "max-body", "largest Bot API answer in bytes");
  opt_group{custom_options_, "gateway"}
    .add(v.gateway.timeout, "timeout", "deadline of one gateway request")
    .add(v.gateway.attempts, "attempts", "attempts per message (1-10)")
    .add(v.gateway.backoff_initial, "backoff-initial",
         "delay before the second attempt; doubles")
    .add(v.gateway.max_body, "max-body", "largest gateway answer in bytes")
    .add(v.gateway.model, "model", "model field of chat completions");
  opt_group{custom_options_, "store"}
    .add(v.store.users_file, "users-file", "path of users.json")
    .add(v.store.data_root, "data-root", "root of the per-user data dirs");
  opt_group{custom_options_, "backend"}
    .add(v.backend.kind, "kind", "container backend: static|process|docker");
  opt_group{custom_options_, "user"}
    .add(v.user.idle_timeout, "idle-timeout", "stop idle user actors after")
    .add(v.user.max_queue, "max-queue", "messages queued per user")
    .add(v.user.typing_interval, "typing-interval",
         "refresh of the typing action")
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
    .add(v.lock.max_age, "max-age", "locks older than this are stale");
  opt_group{custom_options_, "admin"}
    .add(v.admin.address, "address", "HOST:PORT of the admin HTTP server")
    .add(v.admin.token_file, "token-file",
         "file with the admin token (env ZAKI_ADMIN_TOKEN wins)");
  opt_group{custom_options_, "errors"}.add(v.errors.help_url, "help-url",
                                           "link of the Help button");
  opt_group{custom_options_, "shutdown"}.add(
    v.shutdown.grace, "grace", "time in-flight messages get at shutdown");
  opt_group{custom_options_, "log"}
    .add(v.log.level, "level", "trace|debug|info|warn|error")
    .add(v.log.file, "file", "log file (empty: stderr)");
  opt_group{custom_options_, "demo"}
    .add(v.demo.duration, "duration", "seconds to run the demo (0: Ctrl-C)")
    .add(v.demo.users, "users", "simulated users")
    .add(v.demo.interval, "interval", "pause between a user's messages");
  opt_group{custom_options_, "io"}.add(v.io.threads, "threads",
                                       "threads of the network I/O context");
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
  std::vector<char*> argv;
  std::string program = "zaki-router";
  argv.push_back(program.data());
  for (auto& arg : args)
    argv.push_back(arg.data());
  if (auto err = cfg.parse(static_cast<int>(argv.size()), argv.data())) {
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
  if (auto problem = validate(cfg.values); !problem.empty()) {
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
  if (s.admin.address.find(':') == std::string::npos)
    return "admin.address must be HOST:PORT";
  if (s.user.max_queue < 1)
    return "user.max-queue must be at least 1";
  return {};
}

} // namespace zaki
