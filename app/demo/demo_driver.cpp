#include "app/demo/demo_world.hpp"

#include <algorithm>
#include <csignal>
#include <fstream>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/admin.hpp"
#include "actors/process_backend.hpp"
#include "containers/spawn_child.hpp"
#include "messages/peer.hpp"
#include "messages/status_detail.hpp"
#include "runtime/logging.hpp"
#include "storage/user_paths.hpp"
#include "storage/users_file.hpp"

namespace zaki::demo {

// What the victim of the container crash says while its gateway is down.
const char* const held_text
  = "Are you still there? I wrote this while your container was down.";

const char* const newcomer_text
  = "Hi! A friend told me about this bot. Can I use it?";

int64_t ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now() - t)
    .count();
}

pid_entry read_pid_file(const std::string& data_root, int64_t user) {
  pid_entry e;
  std::ifstream in{user_data_dir(data_root, user) + "/gateway.pid"};
  long long pid = 0;
  if (!(in >> pid >> e.start >> e.port) || pid <= 0)
    return {};
  e.pid = static_cast<pid_t>(pid);
  if (process_start_time(e.pid) != e.start)
    return {};
  return e;
}

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

const char* const phrases[] = {
  "Hello! Who are you?",
  "What's the weather like on Mars?",
  "Напиши короткое стихотворение о море 🌊",
  "Summarise our chat so far, please.",
  "Tell me a joke about actors and mailboxes.",
};

/// The state the health supervisor reports for `user` ("" if not watched),
/// from the detail JSON of its status node.
std::string health_state_of(const caf::settings& detail, int64_t user) {
  auto containers = detail_list(detail, "containers");
  if (containers == nullptr)
    return {};
  for (auto& c : *containers)
    if (auto row = as_object(c); row && detail_int(*row, "user") == user)
      return detail_string(*row, "state");
  return {};
}

// -- the driver: an actor that plays the script -------------------------------
//
// It sends the simulated users' messages on timers (no thread sleeps) and
// asks the health supervisor for the victim's state while the container
// crash plays. It ends with the root supervisor.

enum class crash_phase {
  /// Not yet (or static mode).
  pending,
  /// SIGKILL sent; waiting for the health supervisor to see the exit.
  killed,
  /// The held message was sent; waiting for the startup probe to pass.
  recovering,
  done,
};

struct driver_state {
  static inline const char* name = "demo_driver";
  demo_world* world = nullptr;
  settings cfg;
  steady_clock::time_point started;
  /// Round of the script and the next user in it.
  size_t round = 0;
  size_t next = 0;
  /// The round in which the container crash plays (retried if the victim
  /// has no gateway yet).
  size_t crash_round = 3;
  crash_phase phase = crash_phase::pending;
  pid_t killed_pid = 0;
  bool finished = false;
  /// Whether the admin decided about the newcomer and the stranger.
  bool admin_decided = false;
};

using driver_ptr = caf::stateful_actor<driver_state>*;

/// The round in which the first user sends media (after the crash rounds).
constexpr size_t media_round = 4;

milliseconds step_of(const driver_state& st) {
  auto interval
    = std::chrono::duration_cast<milliseconds>(st.cfg.demo.interval);
  auto n = std::max<size_t>(1, st.world->users.size());
  return std::max(milliseconds(10), interval / static_cast<int64_t>(n));
}

void say(driver_ptr self, int64_t user, const std::string& text) {
  logger("demo")->info("event=demo_user_says user={} text={}", user,
                       log_value(text));
  self->state.world->record_inbound(user, "message", text);
  self->state.world->telegram.push_text(user, text);
}

/// A message update of `user` in `chat` (of `type`) with `body`, the
/// members of its kind (a photo, a sticker, ...).
std::string update_of(int64_t user, int64_t chat, const char* type,
                      const std::string& body) {
  return R"({"message":{"message_id":)" + std::to_string(9000 + user)
    + R"(,"from":{"id":)" + std::to_string(user)
    + R"(,"is_bot":false,"first_name":"Demo"},"chat":{"id":)"
    + std::to_string(chat) + R"(,"type":")" + type + R"("},"date":1796601600,)"
    + body + "}}";
}

/// A user sends what is not plain text (issue 25), in one burst whose order
/// is kept: a sticker (a short notice of what the bot reads), a photo with
/// a caption (an image part to the gateway), a PDF and a voice note (saved
/// in the user's inbox, the assistant told where). Another user writes in
/// a group: the group is told once that the bot works in private chats.
void send_media(driver_ptr self, int64_t user, int64_t group_member) {
  auto& world = *self->state.world;
  auto& tg = world.telegram;
  logger("demo")->info(
    "event=demo_step what=\"user {} sends a sticker, a photo with a "
    "caption, a PDF and a voice note; user {} writes in a group: each gets "
    "an answer, never silence\"",
    user, group_member);
  tg.add_file("demo-photo", "\xFF\xD8\xFF\xE0 demo JPEG", "photos/file_1.jpg");
  tg.add_file("demo-pdf", "%PDF-1.4 demo report", "documents/file_2.pdf");
  tg.add_file("demo-voice", "OggS demo voice", "voice/file_3.oga");
  world.record_inbound(user, "sticker", "\xF0\x9F\x98\x80 (a sticker)");
  tg.push_raw(update_of(user, user, "private",
                        R"("sticker":{"file_id":"S","file_unique_id":"s",)"
                        R"("width":512,"height":512,"emoji":"😀"})"));
  world.record_inbound(user, "photo", "[photo] What is in this picture?");
  tg.push_raw(update_of(
    user, user, "private",
    R"("photo":[{"file_id":"demo-photo","file_unique_id":"p","file_size":19,)"
    R"("width":1280,"height":960}],"caption":"What is in this picture?")"));
  world.record_inbound(user, "document", "[file] report.pdf");
  tg.push_raw(update_of(user, user, "private",
                        R"("document":{"file_id":"demo-pdf","file_unique_id")"
                        R"(:"d","file_size":20,"file_name":"report.pdf"})"));
  world.record_inbound(user, "voice", "[voice note, 3 s]");
  tg.push_raw(update_of(user, user, "private",
                        R"("voice":{"file_id":"demo-voice","file_unique_id")"
                        R"(:"v","file_size":15,"duration":3})"));
  constexpr int64_t group = -1001234567890;
  world.record_inbound(group, "group message",
                       "(from " + std::to_string(group_member)
                         + ") Hi bot, can you help us plan the trip?");
  tg.push_raw(update_of(group_member, group, "supergroup",
                        R"("text":"Hi bot, can you help us plan the trip?")"));
}

/// The newcomer and the stranger write: under access.policy=approval both
/// are held, told once that they wait, and the admin gets the buttons.
void strangers_write(driver_ptr self) {
  auto& access = self->state.world->access;
  logger("demo")->info(
    "event=demo_step what=\"a newcomer ({}) and a stranger ({}) write for "
    "the first time: access.policy=approval holds their messages (no "
    "container, no gateway), tells each once that an admin decides, and "
    "sends the admin ({}) Approve/Reject buttons\"",
    access.newcomer, access.stranger, access.admin);
  say(self, access.newcomer, newcomer_text);
  say(self, access.stranger, "Hello? Is this the bot of my bank?");
}

/// Returns the callback data starting with `prefix` ("z1:a:") of the
/// approval request about `user` in the admin's chat, and its message id.
std::pair<std::string, int64_t> find_button(const demo_world& world,
                                            int64_t admin, int64_t user,
                                            const std::string& prefix) {
  for (auto& m : world.telegram.sent_to(admin)) {
    if (m.text.find("id <code>" + std::to_string(user) + "</code>")
        == std::string::npos)
      continue;
    auto pos = m.reply_markup.find(prefix);
    if (pos != std::string::npos)
      return {m.reply_markup.substr(pos, prefix.size() + 12), m.message_id};
  }
  return {};
}

/// The admin presses Approve for the newcomer and Reject for the stranger,
/// as a real admin would: callback queries through the Bot API. False
/// when the requests have not reached the admin yet.
bool admin_decides(driver_ptr self) {
  auto& world = *self->state.world;
  auto& access = world.access;
  auto approve = find_button(world, access.admin, access.newcomer, "z1:a:");
  auto reject = find_button(world, access.admin, access.stranger, "z1:x:");
  if (approve.first.empty() || reject.first.empty()) {
    logger("demo")->info("event=demo_step_postponed what=\"admin decision\" "
                         "reason=\"the approval requests are not there yet\"");
    return false;
  }
  auto log = logger("demo");
  log->info("event=demo_step what=\"the admin presses Approve for {}: the "
            "newcomer is told, gets a container, and the held message is "
            "answered; both admins' requests say who decided\"",
            access.newcomer);
  {
    std::lock_guard<std::mutex> guard{access.mtx};
    access.approved_at = steady_clock::now();
  }
  world.record_inbound(access.admin, "press",
                       "\xE2\x9C\x85 Approve (" + approve.first + ")");
  world.telegram.push_callback(access.admin, approve.first, approve.second);
  log->info("event=demo_step what=\"the admin presses Reject for {}: the "
            "stranger is told politely, once\"",
            access.stranger);
  world.record_inbound(access.admin, "press",
                       "\xE2\x9D\x8C Reject (" + reject.first + ")");
  world.telegram.push_callback(access.admin, reject.first, reject.second);
  return true;
}

/// The victim writes while its gateway is down: the provisioner holds the
/// message until the restarted container passed its startup probe.
void send_held_message(driver_ptr self, const std::string& seen_state) {
  auto& st = self->state;
  auto victim = st.world->crash.victim;
  logger("demo")->info(
    "event=demo_step what=\"user {} writes while its container is {}: the "
    "provisioner holds the message (no error, nothing lost) and it is "
    "answered once the restarted gateway passed its startup probe\"",
    victim, seen_state.empty() ? "down" : seen_state);
  say(self, victim, held_text);
  st.phase = crash_phase::recovering;
}

void on_health_state(driver_ptr self, const std::string& state) {
  auto& st = self->state;
  auto log = logger("demo");
  auto& crash = st.world->crash;
  if (st.phase == crash_phase::killed) {
    if (state == "restarting" || state == "starting") {
      send_held_message(self, state);
    } else if (ms_since(crash.killed_at) >= 5000) {
      log->warn("event=demo_exit_not_seen user={} waited_ms={} state={}",
                crash.victim, ms_since(crash.killed_at), log_value(state));
      send_held_message(self, state);
    }
  } else if (st.phase == crash_phase::recovering && state == "running") {
    auto now = read_pid_file(st.world->data_root, crash.victim);
    log->info("event=demo_container_recovered user={} old_pid={} new_pid={} "
              "kill_to_healthy_ms={}",
              crash.victim, st.killed_pid, now.pid, ms_since(crash.killed_at));
    st.phase = crash_phase::done;
    return;
  } else if (st.phase == crash_phase::recovering
             && ms_since(crash.killed_at) >= 240000) {
    log->warn("event=demo_container_not_back user={} waited_ms={} state={}",
              crash.victim, ms_since(crash.killed_at), log_value(state));
    st.phase = crash_phase::done;
    return;
  }
  self->delayed_send(self, milliseconds(50), internal_atom_v, probe_atom_v);
}

void poll_health(driver_ptr self) {
  auto health = peer<health_actor>(self);
  if (!health) {
    on_health_state(self, "");
    return;
  }
  self->request(health, std::chrono::seconds(2), status_atom_v)
    .then(
      [self](status_node& node) {
        on_health_state(
          self, health_state_of(node.detail, self->state.world->crash.victim));
      },
      [self](caf::error&) {
        on_health_state(self, "");
      });
}

/// Kills the victim's gateway process; false if it has none (yet).
bool kill_container(driver_ptr self, int64_t victim) {
  auto& st = self->state;
  auto log = logger("demo");
  auto gw = read_pid_file(st.world->data_root, victim);
  if (gw.pid <= 0 || program_of(gw.pid) != gateway_program(st.cfg)) {
    log->warn("event=demo_step_postponed what=\"container crash\" user={} "
              "reason=\"no running gateway yet (gateway.pid)\"",
              victim);
    return false;
  }
  log->info("event=demo_step what=\"the container of user {} crashes: the "
            "demo kills its zaki-test-gateway (pid {}, port {}) with SIGKILL; "
            "the health supervisor sees the exit and restarts it through the "
            "provisioner after a backoff of health.backoff-initial\"",
            victim, gw.pid, gw.port);
  {
    std::lock_guard<std::mutex> guard{st.world->crash.mtx};
    st.world->crash.victim = victim;
    st.world->crash.killed_at = steady_clock::now();
    st.world->crash.killed = true;
  }
  if (::kill(gw.pid, SIGKILL) != 0) {
    log->error("event=demo_kill_failed user={} pid={} error={}", victim, gw.pid,
               log_value(std::strerror(errno)));
    return true;
  }
  log->info("event=demo_container_killed user={} pid={} signal=SIGKILL", victim,
            gw.pid);
  st.killed_pid = gw.pid;
  st.phase = crash_phase::killed;
  self->delayed_send(self, milliseconds(50), internal_atom_v, probe_atom_v);
  return true;
}

/// Shows what the provisioner wrote to users.json.
void log_users_json(const driver_state& st) {
  auto res = load_users_file(st.cfg.store.users_file);
  std::string entries;
  for (auto user : st.world->users)
    if (auto i = res.users.find(user); i != res.users.end())
      entries += (entries.empty() ? "" : " ") + std::to_string(user) + ":"
        + std::to_string(i->second.port);
  logger("demo")->info("event=demo_users_json file={} users={} "
                       "user_ports={} message=\"written by the provisioner "
                       "once each container passed its startup probe\"",
                       log_value(st.cfg.store.users_file), res.users.size(),
                       log_value(entries));
}

/// One step of the script: the next user of the current round writes.
void play_step(driver_ptr self) {
  auto& st = self->state;
  auto& users = st.world->users;
  auto log = logger("demo");
  auto user = users[st.next];
  bool process = st.world->process_mode;
  auto victim_index = 1 % users.size();
  // The admin decides one round after the strangers wrote (retried while
  // the requests are on their way).
  if (st.round >= 1 && st.next == 0 && st.world->access.enabled
      && !st.admin_decided)
    st.admin_decided = admin_decides(self);
  if (st.round == 0) {
    if (st.next == 0)
      log->info(
        "event=demo_step what=\"{} /start: {}\"",
        users.size() == 1 ? std::string{"1 user sends"}
                          : std::to_string(users.size()) + " users send",
        process
          ? "the provisioner starts one zaki-test-gateway process per user "
            "as its container (containers.max-provisioning at once), waits "
            "for its startup probe, records it in users.json, and the user "
            "hears that the assistant is ready"
          : "users.json already lists their gateways, so each hears at once "
            "that the assistant is ready");
    say(self, user, "/start");
    if (st.next == 0 && st.world->access.enabled)
      strangers_write(self);
  } else if (st.round == st.crash_round && st.next == victim_index && process
             && st.phase == crash_phase::pending) {
    if (!kill_container(self, user))
      ++st.crash_round; // its container is not up yet: next round
  } else {
    std::string text = phrases[(st.round + st.next) % std::size(phrases)];
    if (st.round == media_round && st.next == 0) {
      send_media(self, user, users[(st.next + 2) % users.size()]);
      text.clear();
    } else if (st.round == 2 && st.next == 0) {
      text = "This message crashes my user actor once #crash-demo";
      log->info("event=demo_step what=\"user {} sends a message that "
                "crashes its actor; the supervisor restarts it and replays "
                "the message\"",
                user);
    }
    if (!text.empty())
      say(self, user, text);
  }
  if (++st.next < users.size())
    return;
  st.next = 0;
  if (st.round == 1) {
    if (process)
      log_users_json(st);
    if (process)
      log->info("event=demo_step what=\"user {} writes while all {} "
                "container places are taken (containers.max-containers): "
                "the router explains instead of starting one more\"",
                st.world->extra_user, st.cfg.containers.max_containers);
    else
      log->info("event=demo_step what=\"a user without an assistant writes; "
                "the router explains\"");
    say(self, st.world->extra_user, "Hi, anyone here?");
  }
  ++st.round;
  if (st.cfg.demo.duration > 0
      && steady_clock::now() - st.started
        >= std::chrono::seconds(st.cfg.demo.duration)) {
    log->info("event=demo_finished after_s={}", st.cfg.demo.duration);
    st.finished = true;
    ::kill(::getpid(), SIGTERM); // the orderly shutdown of Ctrl-C
  }
}

caf::behavior demo_driver(driver_ptr self, demo_world* world, settings cfg,
                          root_actor root) {
  auto& st = self->state;
  st.world = world;
  st.cfg = std::move(cfg);
  st.started = steady_clock::now();
  self->monitor(root);
  self->set_down_handler([self](caf::down_msg&) {
    self->quit();
  });
  self->delayed_send(self, milliseconds(500), tick_atom_v);
  return {
    [self](tick_atom) {
      if (self->state.finished)
        return;
      play_step(self);
      if (!self->state.finished)
        self->delayed_send(self, step_of(self->state), tick_atom_v);
    },
    [self](internal_atom, probe_atom) {
      poll_health(self);
    },
  };
}

} // namespace

void spawn_demo_driver(caf::actor_system& sys, demo_world* world, settings cfg,
                       root_actor root) {
  sys.spawn(demo_driver, world, std::move(cfg), root);
}

} // namespace zaki::demo
