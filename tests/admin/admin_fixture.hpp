#pragma once

// A whole router in the test process: the real actor tree (root, store,
// telegram, user_supervisor, poller, admin) against the loopback Bot API
// fake and one fake gateway serving every user, with the admin server on an
// ephemeral 127.0.0.1 port. Tests talk to it over real HTTP.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <caf/all.hpp>

#include "actors/admin.hpp"
#include "actors/root.hpp"
#include "runtime/config.hpp"
#include "runtime/io_scheduler.hpp"
#include "runtime/logging.hpp"
#include "runtime/users_file.hpp"
#include "tests/fakes/fake_gateway.hpp"
#include "tests/fakes/fake_telegram.hpp"
#include "tests/fakes/sync_client.hpp"

namespace zaki::test {

/// An HTTP answer as the tests see it.
struct http_reply {
  /// 0 when no answer arrived.
  int status = 0;
  std::string body;
  std::string allow;
  std::string content_type;
};

/// Builds and runs one router; see the file comment.
struct admin_fixture {
  /// Users known to users.json (all served by `gateway`).
  static constexpr int64_t first_user = 7000001;

  config cfg;
  fakes::fake_telegram telegram;
  fakes::fake_gateway gateway;
  std::string dir;
  std::unique_ptr<io_runtime> io;
  context_ptr ctx;
  std::unique_ptr<caf::actor_system> sys;
  root_actor root;
  uint16_t port = 0;

  explicit admin_fixture(size_t users = 3) {
    dir = (std::filesystem::temp_directory_path()
           / ("zaki-admin-" + std::to_string(::getpid()) + "-"
              + std::to_string(counter()++)))
            .string();
    std::filesystem::create_directories(dir + "/data");
    telegram.start();
    gateway.start();
    auto& s = cfg.values;
    s.telegram.api_root = telegram.api_root();
    s.telegram.poll_timeout = std::chrono::seconds(1);
    s.telegram.backoff_initial = std::chrono::milliseconds(100);
    s.telegram.backoff_max = std::chrono::milliseconds(500);
    s.store.users_file = dir + "/users.json";
    s.store.data_root = dir + "/data";
    s.admin.address = "127.0.0.1:0";
    s.admin.request_timeout = std::chrono::seconds(2);
    s.shutdown.grace = std::chrono::seconds(2);
    // ZAKI_TEST_LOG=info shows the router's log while debugging a test.
    auto level = std::getenv("ZAKI_TEST_LOG");
    s.log.level = level != nullptr ? level : "error";
    user_map map;
    for (size_t i = 0; i < users; ++i)
      add_user(map, first_user + static_cast<int64_t>(i));
    save_users_file(s.store.users_file, map);
    cfg.set("scheduler.max-threads", 3);
  }

  ~admin_fixture() {
    stop();
    telegram.stop();
    gateway.stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  void add_user(user_map& map, int64_t id) {
    user_record rec;
    rec.user_id = id;
    rec.port = gateway.port();
    rec.token = "gateway-token";
    rec.container = "zaki-user-" + std::to_string(id);
    map[id] = rec;
  }

  /// Starts the tree with the admin and `extra` children; returns once the
  /// admin server listens.
  void start(std::vector<child_spec> extra = {}, admin_options opts = {}) {
    init_logging(cfg.values);
    io = std::make_unique<io_runtime>(1);
    ctx = std::make_shared<service_context>();
    ctx->cfg = cfg.values;
    ctx->bot_token = telegram.token();
    ctx->io = io.get();
    ctx->instance_id = "zr-admin-test";
    ctx->tls = make_tls_client_context("");
    sys = make_actor_system(cfg, *io);
    user_registry users;
    load_user_registry(cfg.values.store.users_file, users);
    auto specs = core_children(ctx, std::move(users));
    specs.push_back(admin_child(ctx, std::move(opts)));
    for (auto& spec : extra)
      specs.push_back(std::move(spec));
    root = sys->spawn(zaki::root, ctx, std::move(specs));
    ctx->started = true;
    caf::scoped_actor self{*sys};
    for (int i = 0; i < 100 && port == 0; ++i) {
      auto adm = sys->registry().get<admin_actor>(names::admin);
      if (adm)
        self->request(adm, std::chrono::seconds(2), get_atom_v, port_atom_v)
          .receive([&](uint16_t p) { port = p; }, [](caf::error&) {});
      if (port == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  /// Shuts the tree down in order and waits for it.
  void stop() {
    if (!sys)
      return;
    if (root) {
      caf::scoped_actor self{*sys};
      self->monitor(root);
      self->send(root, shutdown_atom_v);
      root = nullptr;
      self->receive([](const caf::down_msg&) {},
                    caf::after(std::chrono::seconds(15)) >> [] {});
    }
    io->stop();
    sys.reset();
    // Destroying the context closes sockets whose close was still queued
    // (the admin server's acceptor), so the port refuses connections.
    ctx.reset();
    io.reset();
  }

  /// Sends one request on a fresh connection.
  http_reply call(boost::beast::http::verb method, const std::string& target,
                  const std::string& bearer = {},
                  std::chrono::milliseconds timeout
                  = std::chrono::seconds(10)) {
    fakes::sync_client client{port, timeout};
    http_reply result;
    auto res = client.call(method, target, {}, bearer);
    if (!res)
      return result;
    result.status = static_cast<int>(res->result_int());
    result.body = res->body();
    result.allow = std::string{(*res)[boost::beast::http::field::allow]};
    result.content_type
      = std::string{(*res)[boost::beast::http::field::content_type]};
    return result;
  }

  http_reply get(const std::string& target, const std::string& bearer = {}) {
    return call(boost::beast::http::verb::get, target, bearer);
  }

  http_reply post(const std::string& target, const std::string& bearer = {}) {
    return call(boost::beast::http::verb::post, target, bearer);
  }

  /// Writes `bytes` on a raw connection and returns everything the server
  /// sends until it closes the connection or `timeout` passes.
  std::string raw(const std::string& bytes,
                  std::chrono::milliseconds timeout
                  = std::chrono::seconds(5)) {
    namespace net = boost::asio;
    net::io_context ioc;
    net::ip::tcp::socket sock{ioc};
    boost::system::error_code ec;
    sock.connect({net::ip::make_address("127.0.0.1"), port}, ec);
    if (ec)
      return "connect failed: " + ec.message();
    net::write(sock, net::buffer(bytes), ec);
    timeval tv{};
    tv.tv_sec = timeout.count() / 1000;
    tv.tv_usec = (timeout.count() % 1000) * 1000;
    ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv,
                 sizeof(tv));
    std::string out;
    char buf[4096];
    for (;;) {
      auto n = ::recv(sock.native_handle(), buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  /// Sends updates of `users` consecutive users and waits for the replies.
  bool chat(size_t users, const std::string& text = "hello") {
    auto before = telegram.sent_count();
    for (size_t i = 0; i < users; ++i)
      telegram.push_text(first_user + static_cast<int64_t>(i), text);
    return telegram.wait_for_sent(before + users, std::chrono::seconds(20));
  }

  static int& counter() {
    static int n = 0;
    return n;
  }
};

} // namespace zaki::test
