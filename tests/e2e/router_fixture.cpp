#include "tests/e2e/router_fixture.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

#include <caf/all.hpp>

#include "runtime/io_scheduler.hpp"
#include "runtime/logging.hpp"
#include "runtime/service.hpp"

namespace zaki::test {

namespace {

fakes::fake_telegram_options telegram_options() {
  fakes::fake_telegram_options opts;
  opts.token = router_fixture::bot_token;
  opts.threads = 1;
  return opts;
}

fakes::fake_gateway_options gateway_options() {
  fakes::fake_gateway_options opts;
  // Every user gets a token of its own (set_user_token in add_user).
  opts.token.clear();
  opts.threads = 2;
  return opts;
}

std::string make_temp_dir() {
  static int counter = 0;
  auto path = std::filesystem::temp_directory_path()
              / ("zaki-e2e-" + std::to_string(::getpid()) + "-"
                 + std::to_string(++counter));
  std::filesystem::create_directories(path / "data");
  return path.string();
}

} // namespace

router_fixture::router_fixture()
  : telegram(telegram_options()), gateway(gateway_options()) {
  dir_ = make_temp_dir();
  telegram.start();
  gateway.start();
  using namespace std::chrono;
  auto& s = cfg_;
  s.telegram.api_root = telegram.api_root();
  s.telegram.poll_timeout = seconds(2);
  s.telegram.backoff_initial = milliseconds(50);
  s.telegram.backoff_max = milliseconds(500);
  s.telegram.request_timeout = seconds(5);
  // Pacing is tested on its own; here it would only slow the tests down.
  s.telegram.global_rate = 100000;
  s.telegram.global_burst = 100000;
  s.telegram.chat_rate = 100000;
  s.telegram.chat_burst = 100000;
  s.gateway.timeout = seconds(5);
  s.gateway.backoff_initial = milliseconds(50);
  s.user.idle_timeout = seconds(30);
  s.supervisor.backoff_initial = milliseconds(50);
  s.supervisor.backoff_max = milliseconds(500);
  s.lock.timeout = seconds(5);
  s.shutdown.grace = seconds(5);
  s.store.users_file = dir_ + "/users.json";
  s.store.data_root = dir_ + "/data";
  s.io.threads = 2;
  s.log.level = "info";
}

router_fixture::~router_fixture() {
  stop();
  gateway.stop();
  telegram.stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string router_fixture::add_user(int64_t user_id) {
  auto token = "gw-secret-" + std::to_string(user_id);
  gateway.behavior().set_user_token(std::to_string(user_id), token);
  add_user(user_id, gateway.port(), token);
  return token;
}

void router_fixture::add_user(int64_t user_id, uint16_t port,
                              std::string token) {
  user_record rec;
  rec.user_id = user_id;
  rec.port = port;
  rec.token = std::move(token);
  rec.container = "zaki-user-" + std::to_string(user_id);
  users_[user_id] = std::move(rec);
}

void router_fixture::start(std::vector<child_spec> extra) {
  if (auto err = save_users_file(cfg_.store.users_file, users_); !err.empty())
    throw std::runtime_error("router_fixture: " + err);
  if (!cfg_.log.file.empty()) {
    init_logging(cfg_);
    logging_ = true;
  }
  ctx = std::make_shared<service_context>();
  ctx->cfg = cfg_;
  ctx->bot_token = bot_token;
  io_ = std::make_unique<io_runtime>(cfg_.io.threads);
  ctx->io = io_.get();
  ctx->instance_id = make_instance_id();
  sys_cfg_ = std::make_unique<config>();
  sys_cfg_->values = cfg_;
  sys_ = make_actor_system(*sys_cfg_, *io_);
  user_registry loaded;
  auto res = load_user_registry(cfg_.store.users_file, loaded);
  if (!res.ok)
    throw std::runtime_error("router_fixture: " + res.error);
  auto specs = core_children(ctx, std::move(loaded));
  for (auto& spec : extra)
    specs.push_back(std::move(spec));
  root_ = sys_->spawn(zaki::root, ctx, std::move(specs));
  waiter_ = std::make_unique<caf::scoped_actor>(*sys_);
  (*waiter_)->monitor(root_);
  ctx->started = true;
}

bool router_fixture::running() const {
  return sys_ != nullptr && !root_down_;
}

bool router_fixture::wait_for_exit(std::chrono::milliseconds timeout) {
  if (root_down_)
    return true;
  if (!waiter_)
    return false;
  (*waiter_)->receive([this](const caf::down_msg&) { root_down_ = true; },
                      caf::after(timeout) >> [] {});
  return root_down_;
}

int router_fixture::stop(std::chrono::milliseconds timeout) {
  if (stopped_ || !sys_)
    return ctx ? ctx->exit_code.load() : 0;
  stopped_ = true;
  if (!root_down_) {
    caf::anon_send(root_, shutdown_atom_v);
    if (!wait_for_exit(timeout)) {
      std::cerr << "router_fixture: no orderly stop within "
                << timeout.count() << " ms, killing the root\n";
      caf::anon_send_exit(root_, caf::exit_reason::kill);
      wait_for_exit(std::chrono::seconds(5));
    }
  }
  root_ = nullptr;
  waiter_.reset();
  // Every thread that sends into the system stops before it goes away.
  io_->stop();
  sys_.reset();
  if (logging_) {
    shutdown_logging();
    logging_ = false;
  }
  return ctx->exit_code.load();
}

caf::actor_system& router_fixture::system() {
  return *sys_;
}

std::string router_fixture::read_log() const {
  std::ifstream in{cfg_.log.file, std::ios::binary};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

} // namespace zaki::test
