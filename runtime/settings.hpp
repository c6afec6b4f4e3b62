#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/timespan.hpp>

namespace zaki {

using namespace std::chrono_literals;

/// Every tunable of zaki-router as plain values. `config` (runtime/config.hpp)
/// binds each field to a CAF option; tests build a `settings` directly.
/// configs/zaki-router.ini lists every option with its default.
struct settings {
  struct telegram_t {
    /// Base URL of the Bot API (a local Bot API server or a fake in tests).
    std::string api_root = "https://api.telegram.org";
    /// File holding the bot token; TELEGRAM_BOT_TOKEN takes precedence.
    std::string token_file;
    /// Extra PEM file of trusted CAs (tests); the system store is always used.
    std::string ca_file;
    caf::timespan poll_timeout = std::chrono::seconds(30);
    uint64_t poll_limit = 100;
    caf::timespan backoff_initial = std::chrono::seconds(1);
    caf::timespan backoff_max = std::chrono::seconds(30);
    caf::timespan request_timeout = std::chrono::seconds(20);
    /// Messages per second for the whole bot, and its burst.
    double global_rate = 30;
    uint64_t global_burst = 30;
    /// Messages per second per chat, and its burst (split replies).
    double chat_rate = 1;
    uint64_t chat_burst = 3;
    uint64_t connections = 4;
    uint64_t max_send_attempts = 8;
    uint64_t max_body = 8 << 20;
  } telegram;

  struct gateway_t {
    caf::timespan timeout = std::chrono::seconds(120);
    uint64_t attempts = 3;
    caf::timespan backoff_initial = std::chrono::seconds(1);
    uint64_t max_body = 4 << 20;
    std::string model = "openclaw";
  } gateway;

  struct store_t {
    std::string users_file = "users.json";
    std::string data_root = "data";
  } store;

  struct backend_t {
    /// static, process or docker.
    std::string kind = "static";
  } backend;

  struct user_t {
    caf::timespan idle_timeout = std::chrono::minutes(10);
    uint64_t max_queue = 100;
    caf::timespan typing_interval = std::chrono::seconds(4);
    /// How long a message waits for its user's container to come up.
    caf::timespan ensure_timeout = std::chrono::minutes(5);
    /// Fault injection: a message containing this text crashes its user
    /// actor on first delivery. Empty (the default) disables it.
    std::string crash_trigger;
  } user;

  struct supervisor_t {
    uint64_t max_restarts = 5;
    caf::timespan restart_window = std::chrono::seconds(60);
    caf::timespan backoff_initial = std::chrono::milliseconds(50);
    caf::timespan backoff_max = std::chrono::seconds(5);
  } supervisor;

  struct lock_t {
    caf::timespan timeout = std::chrono::seconds(10);
    caf::timespan max_age = std::chrono::minutes(30);
  } lock;

  struct admin_t {
    std::string address = "127.0.0.1:8080";
    std::string token_file;
  } admin;

  struct errors_t {
    std::string help_url;
  } errors;

  struct shutdown_t {
    caf::timespan grace = std::chrono::seconds(30);
  } shutdown;

  struct log_t {
    std::string level = "info";
    std::string file;
  } log;

  struct demo_t {
    /// Seconds to run, 0 = until Ctrl-C.
    uint64_t duration = 0;
    uint64_t users = 5;
    caf::timespan interval = std::chrono::seconds(2);
  } demo;

  struct io_t {
    uint64_t threads = 1;
  } io;
};

} // namespace zaki
