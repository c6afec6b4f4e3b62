// zaki-router: one shared Telegram bot, one isolated assistant per user.
// Subcommands: run (the service), demo (the service against local fakes),
// locks (inspect and clean session locks), version.

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include <caf/all.hpp>

#include "actors/admin.hpp"
#include "app/admin_cli.hpp"
#include "app/demo/demo.hpp"
#include "app/locks_cli.hpp"
#include "app/run.hpp"
#include "app/tree.hpp"
#include "app/users_cli.hpp"
#include "runtime/config.hpp"
#include "runtime/logging.hpp"

namespace {

constexpr int exit_usage = 2;

void print_usage(std::ostream& out) {
  out << "usage: zaki-router <command> [--option=value ...]\n\n"
         "commands:\n"
         "  run      route the bot's updates to the users' gateways\n"
         "  demo     run the router against a local Bot API emulator and\n"
         "           local gateways, with simulated users (no token needed)\n"
         "  locks    list|clean session locks under the data root\n"
         "  admin    tree|health|user <id>|restart <id>|stop <id>: ask the\n"
         "           running router's admin server\n"
         "  users    list|show <id>|remove <id>|import FILE|export: the\n"
         "           users in the database (running router or file)\n"
         "  version  print the version\n\n"
         "options: --config-file=FILE (INI), --long-help lists every option,\n"
         "--dump-config prints the effective configuration.\n"
         "The bot token comes from TELEGRAM_BOT_TOKEN or "
         "--telegram.token-file.\n";
}

/// Raises the soft descriptor limit to the hard one, as servers do: every
/// active user holds a gateway connection and, while lingering, a session
/// lock. Returns the limit in effect.
rlim_t raise_descriptor_limit() {
  struct rlimit lim;
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    auto wanted = lim;
    wanted.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &wanted) == 0)
      return wanted.rlim_cur;
  }
  return lim.rlim_cur;
}

int run_command(std::vector<std::string> args) {
  zaki::config cfg;
  std::vector<std::string> positional;
  int exit_code = 0;
  if (!zaki::parse_command_line(cfg, std::move(args), positional, exit_code))
    return exit_code;
  if (!positional.empty()) {
    std::cerr << "zaki-router run: unexpected argument: " << positional[0]
              << "\n";
    return exit_usage;
  }
  zaki::init_logging(cfg.values);
  auto log = zaki::logger("main");
  log->debug("event=descriptor_limit nofile={}",
             static_cast<uint64_t>(raise_descriptor_limit()));
  auto ctx = std::make_shared<zaki::service_context>();
  ctx->cfg = cfg.values;
  std::string token_error;
  ctx->bot_token = zaki::read_bot_token(cfg.values, token_error);
  if (ctx->bot_token.empty()) {
    auto why = token_error.empty() ? std::string{"no bot token: set "
                                                 "TELEGRAM_BOT_TOKEN or "
                                                 "telegram.token-file"}
                                   : token_error;
    log->critical("event=refusing_to_start reason={}", zaki::log_value(why));
    zaki::shutdown_logging();
    std::cerr << "zaki-router: " << why << "\n";
    return exit_usage;
  }
  // The users live in the database; users.json is imported when it is
  // newer than the last import (a file that does not parse refuses the
  // start, as does a corrupt database or one of a newer version).
  if (auto why = zaki::prepare_store(cfg.values); !why.empty()) {
    log->critical("event=refusing_to_start reason={}", zaki::log_value(why));
    zaki::shutdown_logging();
    std::cerr << "zaki-router: " << why << "\n";
    return exit_usage;
  }
  zaki::user_registry registry;
  auto access = zaki::check_admin_access(cfg.values);
  if (!access.problem.empty()) {
    log->critical("event=refusing_to_start reason={}",
                  zaki::log_value(access.problem));
    zaki::shutdown_logging();
    std::cerr << "zaki-router: " << access.problem << "\n";
    return exit_usage;
  }
  // Session locks live under the data root and refuse a missing one, which
  // would fail every message with ZR-INTERNAL.
  std::error_code dir_error;
  std::filesystem::create_directories(cfg.values.store.data_root, dir_error);
  if (dir_error) {
    std::cerr << "zaki-router: cannot create " << cfg.values.store.data_root
              << ": " << dir_error.message() << "\n";
    return exit_usage;
  }
  zaki::io_runtime io{cfg.values.io.threads};
  ctx->io = &io;
  ctx->instance_id = zaki::make_instance_id();
  try {
    ctx->tls = zaki::make_tls_client_context(cfg.values.telegram.ca_file);
  } catch (const std::exception& e) {
    std::cerr << "zaki-router: cannot set up TLS: " << e.what() << "\n";
    return exit_usage;
  }
  auto code = zaki::run_service(
    cfg, ctx, zaki::router_children(ctx, std::move(registry)));
  zaki::shutdown_logging();
  return code;
}

int locks_command(std::vector<std::string> args) {
  // Options of the locks command itself are not CAF options.
  std::vector<std::string> caf_args;
  std::vector<std::string> locks_args;
  for (auto& arg : args) {
    if (arg.rfind("--max-age", 0) == 0 || arg == "--dry-run"
        || arg == "--legacy-age-only" || arg.rfind("--", 0) != 0)
      locks_args.push_back(arg);
    else
      caf_args.push_back(arg);
  }
  zaki::config cfg;
  std::vector<std::string> positional;
  int exit_code = 0;
  if (!zaki::parse_command_line(cfg, std::move(caf_args), positional,
                                exit_code))
    return exit_code;
  return zaki::run_locks_command(cfg.values.store.data_root, locks_args,
                                 std::cout, std::cerr);
}

int admin_command(std::vector<std::string> args) {
  std::vector<std::string> caf_args;
  std::vector<std::string> admin_args;
  for (auto& arg : args)
    (arg.rfind("--", 0) == 0 ? caf_args : admin_args).push_back(arg);
  zaki::config cfg;
  std::vector<std::string> positional;
  int exit_code = 0;
  if (!zaki::parse_command_line(cfg, std::move(caf_args), positional,
                                exit_code))
    return exit_code;
  bool color = ::isatty(STDOUT_FILENO) == 1
    && std::getenv("NO_COLOR") == nullptr;
  return zaki::run_admin_command(cfg.values, admin_args, std::cout, std::cerr,
                                 color);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(std::cerr);
    return exit_usage;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "run")
    return run_command(std::move(args));
  if (command == "demo")
    return zaki::demo_main(std::move(args));
  if (command == "locks")
    return locks_command(std::move(args));
  if (command == "admin")
    return admin_command(std::move(args));
  if (command == "users")
    return zaki::users_main(std::move(args));
  if (command == "version" || command == "--version") {
    std::cout << "zaki-router " << ZAKI_VERSION << "\n";
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    print_usage(std::cout);
    return 0;
  }
  if (command == "--long-help") {
    // The usage text advertises it without a command: the options are
    // those of `run`, which prints them and exits.
    args.insert(args.begin(), command);
    return run_command(std::move(args));
  }
  std::cerr << "zaki-router: unknown command '" << command << "'\n\n";
  print_usage(std::cerr);
  return exit_usage;
}
