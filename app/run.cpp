#include "app/run.hpp"

#include <csignal>
#include <random>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <caf/all.hpp>

#include "media/bot_identity.hpp"
#include "messages/peer.hpp"
#include "runtime/io_scheduler.hpp"
#include "runtime/logging.hpp"

namespace zaki {

namespace {

/// Forwards SIGINT/SIGTERM (orderly shutdown, a second one exits at once)
/// and SIGHUP (reload users.json) to the actor tree. Runs on the io_context,
/// so no signal handler ever touches the actor system directly.
class signal_forwarder : public std::enable_shared_from_this<signal_forwarder> {
public:
  signal_forwarder(boost::asio::io_context& ioc, caf::actor_system& sys,
                   root_actor root)
    : signals_(ioc, SIGINT, SIGTERM, SIGHUP), sys_(sys), root_(root) {
    // nop
  }

  void arm() {
    signals_.async_wait([self = shared_from_this()](auto ec, int sig) {
      if (ec)
        return;
      self->on_signal(sig);
      self->arm();
    });
  }

  void cancel() {
    boost::system::error_code ignored;
    signals_.cancel(ignored);
  }

private:
  void on_signal(int sig) {
    auto log = logger("main");
    if (sig == SIGHUP) {
      log->info("event=signal signal=SIGHUP action=reload_users");
      if (auto store = peer<store_actor>(sys_))
        caf::anon_send(store, reload_atom_v);
      return;
    }
    if (++stops_ > 1) {
      log->warn("event=signal signal={} action=exit_now", sig);
      shutdown_logging();
      std::_Exit(130);
    }
    log->info("event=signal signal={} action=graceful_shutdown",
              sig == SIGINT ? "SIGINT" : "SIGTERM");
    caf::anon_send(root_, shutdown_atom_v);
  }

  boost::asio::signal_set signals_;
  caf::actor_system& sys_;
  root_actor root_;
  int stops_ = 0;
};

} // namespace

std::string make_instance_id() {
  std::random_device rd;
  std::mt19937_64 rng{(uint64_t{rd()} << 32) ^ rd() ^ uint64_t(::getpid())};
  static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id = "zr-";
  for (int i = 0; i < 10; ++i)
    id += alphabet[rng() % 36];
  return id;
}

int run_service(config& cfg, const context_ptr& ctx,
                std::vector<child_spec> children, started_hook on_started) {
  auto log = logger("main");
  int exit_code = 0;
  {
    // Mentions in groups and the link to the private chat need the bot's
    // username; asked once here, before any actor reads the settings.
    if (ctx->cfg.chat.bot_username.empty() && !ctx->bot_token.empty()) {
      auto me = fetch_bot_identity(ctx->io->context(), ctx->tls,
                                   ctx->cfg.telegram.api_root, ctx->bot_token,
                                   std::chrono::seconds(3));
      if (me.error.empty())
        ctx->cfg.chat.bot_username = me.username;
      else
        log->warn("event=get_me_failed error={} effect=\"mentions in groups "
                  "are not recognised, only replies\"",
                  log_value(me.error));
    }
    auto sys_ptr = make_actor_system(cfg, *ctx->io);
    auto& sys = *sys_ptr;
    auto root_hdl = sys.spawn(root, ctx, std::move(children));
    auto signals = std::make_shared<signal_forwarder>(ctx->io->context(), sys,
                                                      root_hdl);
    signals->arm();
    ctx->started = true;
    log->info("event=started version={} instance={} api_root={} "
              "users_file={} backend={} admin={}",
              ZAKI_VERSION, ctx->instance_id, ctx->cfg.telegram.api_root,
              log_value(ctx->cfg.store.users_file), ctx->cfg.backend.kind,
              ctx->cfg.admin.address);
    if (on_started)
      on_started(sys, root_hdl);
    {
      caf::scoped_actor waiter{sys};
      waiter->monitor(root_hdl);
      root_hdl = nullptr;
      waiter->receive([](const caf::down_msg&) {});
    }
    signals->cancel();
    exit_code = ctx->exit_code;
    log->info("event=stopped exit_code={}", exit_code);
    // Every thread that sends into the system stops before it goes away.
    ctx->io->stop();
  }
  return exit_code;
}

} // namespace zaki
