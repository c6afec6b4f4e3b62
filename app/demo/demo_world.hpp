#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <vector>

#include <caf/fwd.hpp>

#include "emulators/fake_gateway.hpp"
#include "emulators/fake_telegram.hpp"
#include "messages/interfaces.hpp"
#include "runtime/io_runtime.hpp"
#include "runtime/settings.hpp"

// The parts of `zaki-router demo` shared by its setup (runtime/demo.cpp)
// and the actor that plays its script (runtime/demo_driver.cpp).

namespace zaki::demo {

extern const char* const held_text;

/// The container crash, shared by the driver actor and the Bot API
/// emulator's send observer (an I/O thread of the fake).
struct crash_record {
  std::mutex mtx;
  int64_t victim = 0;
  std::chrono::steady_clock::time_point killed_at;
  bool killed = false;
  bool answered = false;
};

/// The simulated world: a Bot API emulator and, in static mode, one
/// in-process gateway per user.
struct demo_world {
  fakes::fake_telegram telegram;
  io_runtime gateways_io{1, io_start::deferred};
  std::vector<std::unique_ptr<fakes::fake_gateway>> gateways;
  std::vector<int64_t> users;
  /// The user the router cannot serve (not provisioned / no capacity).
  int64_t extra_user = 424242;
  bool process_mode = false;
  std::string dir;
  std::string data_root;
  crash_record crash;
};

/// Milliseconds since `t`.
int64_t ms_since(std::chrono::steady_clock::time_point t);

/// A gateway process as its pid file names it.
struct pid_entry {
  pid_t pid = 0;
  unsigned long long start = 0;
  unsigned port = 0;
};

/// Reads `{data_root}/users/user-{id}/gateway.pid` (written by the process
/// backend); pid 0 when missing or stale (the pid now runs something else).
pid_entry read_pid_file(const std::string& data_root, int64_t user);

/// Spawns the driver actor: it sends the simulated users' messages on
/// timers and plays the container crash; it ends with `root`.
void spawn_demo_driver(caf::actor_system& sys, demo_world* world, settings cfg,
                       root_actor root);

} // namespace zaki::demo
