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

/// What the newcomer writes before an admin approved them (held, then
/// answered once the admin pressed Approve).
extern const char* const newcomer_text;

/// The approval flow of issue 23: a simulated admin (in access.admins), a
/// newcomer the admin approves by pressing Approve, and a stranger the
/// admin rejects. The flags are set by the Bot API emulator's send
/// observer (an I/O thread of the fake) and the driver.
struct access_script {
  /// Off when the demo runs with another access policy than approval.
  bool enabled = false;
  int64_t admin = 0;
  int64_t newcomer = 0;
  int64_t stranger = 0;
  std::mutex mtx;
  bool newcomer_waiting_told = false;
  bool newcomer_approved = false;
  bool newcomer_answered = false;
  bool stranger_rejected = false;
  std::chrono::steady_clock::time_point approved_at;
};

/// A simulated user's message or button press, for the transcript.
struct inbound_event {
  std::chrono::steady_clock::time_point at;
  int64_t chat = 0;
  /// "message" or "press".
  std::string kind;
  std::string text;
};

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
  access_script access;
  /// What the simulated users sent (guarded by `inbound_mtx`).
  std::mutex inbound_mtx;
  std::vector<inbound_event> inbound;
  std::chrono::steady_clock::time_point started
    = std::chrono::steady_clock::now();

  /// Records what a simulated user sent, for the transcript.
  void record_inbound(int64_t chat, std::string kind, std::string text) {
    std::lock_guard<std::mutex> guard{inbound_mtx};
    inbound.push_back({std::chrono::steady_clock::now(), chat, std::move(kind),
                       std::move(text)});
  }
};

/// Writes the Telegram-eye transcript to `path`: every Bot API call the
/// router made (sendMessage, editMessageText, answerCallbackQuery,
/// deleteMessage) and every message and press of the simulated users, per
/// chat, in time order, with the buttons. Returns the lines written, or -1
/// when the file cannot be written.
int64_t write_transcript(demo_world& world, const std::string& path);

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
