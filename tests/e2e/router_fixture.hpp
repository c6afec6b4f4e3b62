#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/root.hpp"
#include "runtime/config.hpp"
#include "runtime/context.hpp"
#include "runtime/io_runtime.hpp"
#include "runtime/users_file.hpp"
#include "tests/fakes/fake_gateway.hpp"
#include "tests/fakes/fake_telegram.hpp"

namespace zaki::test {

/// An in-process router for end-to-end tests: the real actor system with
/// the real tree (root + core_children) on the real scheduler, talking HTTP
/// over 127.0.0.1 to a fake Bot API and a fake gateway, with a temporary
/// data directory and users.json, and settings with short timeouts.
///
/// Typical use:
/// ```
/// router_fixture f;
/// f.add_user(7001);                       // served by f.gateway
/// f.start();
/// f.telegram.push_text(7001, "u7001-m1");
/// CAF_CHECK(f.telegram.wait_for_sent_to(7001, 1, 5s));
/// CAF_CHECK_EQUAL(f.stop(), 0);           // orderly, like SIGTERM
/// ```
/// Not thread-safe: drive it from the test thread only. The fakes are
/// thread-safe and may be inspected at any time.
class router_fixture {
public:
  /// The bot token of the fake Bot API; deliberately not token-shaped, so
  /// the log sink's masking does not hide a structural leak.
  static constexpr const char* bot_token = "424242:fixture-bot-SECRET";

  /// Creates the fakes (already listening) and the settings; the router
  /// itself starts with `start`.
  router_fixture();

  /// Stops the router if it still runs, then the fakes; removes the data dir.
  ~router_fixture();

  router_fixture(const router_fixture&) = delete;
  router_fixture& operator=(const router_fixture&) = delete;

  /// Returns the settings the router will run with; change before `start`.
  /// Defaults: poll timeout 2 s, poll and gateway backoff 50 ms, no
  /// effective pacing, grace 5 s, logging off (warnings to stderr).
  settings& cfg() {
    return cfg_;
  }

  /// Adds a user served by `gateway` with a token of its own (the gateway
  /// requires it); returns that token. Call before `start`.
  std::string add_user(int64_t user_id);

  /// Adds a user whose gateway listens on `port` with `token` (e.g. a
  /// second fake gateway, or a closed port). Call before `start`.
  void add_user(int64_t user_id, uint16_t port, std::string token);

  /// Writes users.json, sets up logging if `cfg().log.file` is set, and
  /// spawns the tree plus `extra` children (admin, provisioner, ...).
  void start(std::vector<child_spec> extra = {});

  /// Returns whether `start` ran and the root has not stopped yet.
  bool running() const;

  /// Stops the router in order, as SIGTERM does: stop polling, drain,
  /// confirm the offset, stop the children. Waits up to `timeout` (then
  /// kills the root), joins the I/O threads and destroys the actor system.
  /// Returns the exit code the router set (`ctx->exit_code`). Idempotent.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  /// Waits up to `timeout` for the root to stop by itself (a fatal error
  /// such as 401 on getUpdates); returns whether it did. Call `stop`
  /// afterwards to tear down and read the exit code.
  bool wait_for_exit(std::chrono::milliseconds timeout);

  /// Returns the actor system; only valid between `start` and `stop`.
  caf::actor_system& system();

  /// Returns the root supervisor; only valid between `start` and `stop`.
  root_actor root() const {
    return root_;
  }

  /// Returns the contents of `cfg().log.file` (flushed by `stop`).
  std::string read_log() const;

  /// Returns the temporary directory (users.json, data/, log files).
  const std::string& dir() const {
    return dir_;
  }

  /// The Bot API emulator; started by the constructor.
  fakes::fake_telegram telegram;

  /// The gateway of users added with `add_user(id)`; started by the
  /// constructor. Per-user overlap and order checks are in its stats.
  fakes::fake_gateway gateway;

  /// The context shared by the router's actors; valid after `start`.
  context_ptr ctx;

private:
  settings cfg_;
  std::string dir_;
  user_map users_;
  std::unique_ptr<io_runtime> io_;
  std::unique_ptr<config> sys_cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::unique_ptr<caf::scoped_actor> waiter_;
  root_actor root_;
  bool root_down_ = false;
  bool stopped_ = false;
  bool logging_ = false;
};

} // namespace zaki::test
