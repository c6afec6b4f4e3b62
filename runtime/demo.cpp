#include "runtime/demo.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/admin.hpp"
#include "actors/provisioner.hpp"
#include "runtime/config.hpp"
#include "runtime/logging.hpp"
#include "runtime/service.hpp"
#include "runtime/users_file.hpp"
#include "tests/fakes/fake_gateway.hpp"
#include "tests/fakes/fake_telegram.hpp"

namespace zaki {

namespace {

const char* const phrases[] = {
  "Hello! Who are you?",
  "What's the weather like on Mars?",
  "Напиши короткое стихотворение о море 🌊",
  "Summarise our chat so far, please.",
  "Tell me a joke about actors and mailboxes.",
};

/// The simulated world: a Bot API emulator and one gateway per user.
struct demo_world {
  fakes::fake_telegram telegram;
  fakes::io_runner gateways_io{1};
  std::vector<std::unique_ptr<fakes::fake_gateway>> gateways;
  std::vector<int64_t> users;
  int64_t unprovisioned_user = 0;
  std::string dir;
};

void chat_loop(demo_world& world, const settings& cfg,
               std::atomic<bool>& stop) {
  auto log = logger("demo");
  size_t round = 0;
  auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(
    cfg.demo.interval);
  auto started = std::chrono::steady_clock::now();
  auto sleep_for = [&](std::chrono::milliseconds d) {
    for (auto waited = std::chrono::milliseconds(0); waited < d && !stop;
         waited += std::chrono::milliseconds(50))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  };
  sleep_for(std::chrono::milliseconds(500));
  while (!stop) {
    for (size_t i = 0; i < world.users.size() && !stop; ++i) {
      auto user = world.users[i];
      std::string text = phrases[(round + i) % std::size(phrases)];
      if (round == 2 && i == 0) {
        text = "This message crashes my user actor once #crash-demo";
        log->info("event=demo_step what=\"user {} sends a message that "
                  "crashes its actor; the supervisor restarts it and "
                  "replays the message\"",
                  user);
      }
      log->info("event=demo_user_says user={} text={}", user,
                log_value(text));
      world.telegram.push_text(user, text);
      sleep_for(interval / std::max<size_t>(1, world.users.size()));
    }
    if (round == 1) {
      log->info("event=demo_step what=\"a user without an assistant writes; "
                "the router explains\"");
      world.telegram.push_text(world.unprovisioned_user, "Hi, anyone here?");
    }
    ++round;
    if (cfg.demo.duration > 0
        && std::chrono::steady_clock::now() - started
             >= std::chrono::seconds(cfg.demo.duration)) {
      log->info("event=demo_finished after_s={}", cfg.demo.duration);
      ::kill(::getpid(), SIGTERM);
      return;
    }
  }
}

} // namespace

int demo_main(std::vector<std::string> args) {
  config cfg;
  std::vector<std::string> positional;
  int exit_code = 0;
  // Demo defaults: a fault-injection trigger to show a crash and restart.
  cfg.values.user.crash_trigger = "#crash-demo";
  if (!parse_command_line(cfg, std::move(args), positional, exit_code))
    return exit_code;
  auto& s = cfg.values;
  init_logging(s);
  auto log = logger("demo");
  demo_world world;
  world.dir = (std::filesystem::temp_directory_path()
               / ("zaki-demo-" + std::to_string(::getpid())))
                .string();
  std::filesystem::create_directories(world.dir + "/data");
  world.telegram.start();
  world.gateways_io.start();
  user_map users;
  for (uint64_t i = 0; i < std::max<uint64_t>(1, s.demo.users); ++i) {
    // Ids above 2^32 are normal on Telegram today.
    int64_t id = i % 2 == 0 ? 100000001 + static_cast<int64_t>(i)
                            : 5000000001 + static_cast<int64_t>(i);
    fakes::fake_gateway_options gopts;
    gopts.token = "gw-token-" + std::to_string(id);
    auto gw = std::make_unique<fakes::fake_gateway>(world.gateways_io.context(),
                                                    gopts);
    gw->behavior().set_prefix("🤖 Assistant of " + std::to_string(id)
                              + " here. You said: ");
    gw->behavior().set_latency(std::chrono::milliseconds(150 + 50 * i));
    user_record rec;
    rec.user_id = id;
    rec.port = gw->start();
    rec.token = gopts.token;
    rec.container = "zaki-user-" + std::to_string(id);
    users[id] = rec;
    world.users.push_back(id);
    world.gateways.push_back(std::move(gw));
  }
  world.unprovisioned_user = 424242;
  s.store.users_file = world.dir + "/users.json";
  s.store.data_root = world.dir + "/data";
  s.telegram.api_root = world.telegram.api_root();
  if (auto err = save_users_file(s.store.users_file, users); !err.empty()) {
    std::cerr << "zaki-router demo: " << err << "\n";
    return 1;
  }
  world.telegram.on_send([log](const fakes::sent_message& m) {
    log->info("event=demo_user_received chat={} text={}", m.chat_id,
              log_value(m.text, 160));
  });
  log->info("event=demo_started bot_api={} users={} users_file={} "
            "admin=http://{} stop=\"Ctrl-C\"",
            s.telegram.api_root, world.users.size(),
            log_value(s.store.users_file), s.admin.address);
  auto ctx = std::make_shared<service_context>();
  ctx->cfg = s;
  ctx->bot_token = world.telegram.token();
  io_runtime io{s.io.threads};
  ctx->io = &io;
  ctx->instance_id = make_instance_id();
  ctx->tls = make_tls_client_context("");
  std::atomic<bool> stop{false};
  std::thread chatter;
  auto loaded = load_users_file(s.store.users_file);
  std::vector<child_spec> extra{admin_child(ctx)};
  for (auto& spec : container_children(ctx))
    extra.push_back(std::move(spec));
  auto code = run_service(cfg, ctx, std::move(loaded), std::move(extra),
                          [&](caf::actor_system&, root_actor) {
                            chatter = std::thread{[&] {
                              chat_loop(world, ctx->cfg, stop);
                            }};
                          });
  stop = true;
  if (chatter.joinable())
    chatter.join();
  auto sent = world.telegram.sent_count();
  world.gateways.clear();
  world.gateways_io.stop();
  world.telegram.stop();
  log->info("event=demo_summary replies_delivered={} data_dir={}", sent,
            log_value(world.dir));
  shutdown_logging();
  std::error_code ignored;
  std::filesystem::remove_all(world.dir, ignored);
  return code;
}

} // namespace zaki
