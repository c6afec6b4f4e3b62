#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "runtime/io_runtime.hpp"
#include "runtime/settings.hpp"

namespace zaki {

/// What every actor of one router shares: the settings, the secrets, the
/// network runtime. Created by main (or a test) before the actor system
/// spawns the tree; never sent as a message.
struct service_context {
  zaki::settings cfg;
  /// The bot token (a secret: never logged, never in errors).
  std::string bot_token;
  /// Runs all network I/O; outlives the actors.
  io_runtime* io = nullptr;
  /// TLS client context for https origins.
  std::shared_ptr<boost::asio::ssl::context> tls;
  /// Identifies this router process in lock files and logs.
  std::string instance_id;
  /// The process exit code; the poller sets it on a fatal Bot API error.
  std::atomic<int> exit_code{0};
  /// Set once the tree has started (the startup probe).
  std::atomic<bool> started{false};
  /// Steady-clock start of the process, for uptime.
  std::chrono::steady_clock::time_point started_at
    = std::chrono::steady_clock::now();
  /// The wall clock of the daily token budgets (UTC days); a test sets a
  /// clock it controls.
  std::function<std::chrono::system_clock::time_point()> wall_clock = [] {
    return std::chrono::system_clock::now();
  };
};

using context_ptr = std::shared_ptr<service_context>;

} // namespace zaki
