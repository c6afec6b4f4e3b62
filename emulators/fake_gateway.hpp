#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "emulators/gateway_behavior.hpp"
#include "emulators/http_names.hpp"

namespace zaki::fakes {

/// Settings of a `fake_gateway`.
struct fake_gateway_options {
  /// The shared bearer token (empty: any token is accepted).
  std::string token = "gateway-token";

  /// io threads when the gateway owns its io_context.
  size_t threads = 1;

  /// Address, port, body limit and deadlines of the HTTP server.
  server_options http;

  /// Called for `gw:crash` and `set_crash_after`; by default the connection
  /// is dropped without an answer. The standalone program exits instead.
  std::function<void()> on_crash;

  /// Receives one line per request (never the token), if set.
  std::function<void(std::string_view line)> log;
};

/// An OpenAI-compatible gateway on 127.0.0.1 in the shape of OpenClaw's HTTP
/// endpoint, serving any number of users on one port and checking that no
/// user's requests overlap and that they arrive in order (see
/// gateway_behavior.hpp for the markers that steer single messages).
class fake_gateway {
public:
  /// Creates a gateway with its own io_context and threads.
  explicit fake_gateway(fake_gateway_options opts = {});

  /// Creates a gateway on a shared io_context that the caller runs; cheap
  /// enough to create dozens of them on one context.
  fake_gateway(net::io_context& ioc, fake_gateway_options opts = {});

  ~fake_gateway();

  fake_gateway(const fake_gateway&) = delete;
  fake_gateway& operator=(const fake_gateway&) = delete;

  /// Binds, starts serving and returns the bound port.
  uint16_t start();

  /// Stops serving, releases hanging requests and joins own threads.
  void stop();

  /// Returns the bound port, or 0 before `start`.
  uint16_t port() const;

  /// Returns the behaviour: runtime configuration, counters and records.
  gateway_behavior& behavior() {
    return *behavior_;
  }

  /// Shorthand for `behavior().stats()`.
  gateway_stats stats() const {
    return behavior_->stats();
  }

private:
  struct impl;

  void init(net::io_context& ioc, fake_gateway_options opts);

  std::unique_ptr<io_runtime> runner_;
  std::shared_ptr<gateway_behavior> behavior_;
  std::shared_ptr<impl> impl_;
};

} // namespace zaki::fakes
