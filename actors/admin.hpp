#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "actors/root.hpp"
#include "admin/http.hpp"
#include "http/server.hpp"
#include "messages/interfaces.hpp"
#include "runtime/context.hpp"

namespace zaki {

/// What outlives one incarnation of the admin actor: the access policy and
/// the registered readiness checks (a restarted admin keeps them).
struct admin_shared {
  admin_access access;
  std::map<std::string, readiness_check_actor> checks;
};

/// State of the ADMIN actor: owns the HTTP server, which hands every request
/// to this actor. The server runs on an I/O thread of its own, not on the
/// router's: when the actors' thread is wedged (a blocking bug), the
/// server's own deadline still answers /health/live with a 503 instead of
/// leaving the probe hanging.
struct admin_state {
  static inline const char* name = "admin";
  context_ptr ctx;
  std::shared_ptr<admin_shared> shared;
  /// Declared before `server`, so the server goes first.
  std::unique_ptr<io_runtime> io;
  std::unique_ptr<http_server> server;
  /// The bound port (0 while not listening).
  uint16_t port = 0;
  /// Why the server does not listen, if it does not.
  std::string listen_error;
  uint64_t requests = 0;

  ~admin_state();
};

using admin_self = admin_actor::stateful_pointer<admin_state>;

/// Settings of `admin_child` beyond `settings::admin`.
struct admin_options {
  /// Replaces the policy derived from admin.address and the token (tests:
  /// enforce a token while bound to loopback).
  std::optional<admin_access> access;
};

/// Starts the admin HTTP server on `ctx->cfg.admin.address` and answers
/// /health/*, /metrics and /admin/* by asking the other actors. Never
/// blocks: I/O runs on the io_context, sweeps of lock files too.
admin_actor::behavior_type admin(admin_self self, context_ptr ctx,
                                 std::shared_ptr<admin_shared> shared);

/// Returns the root's child spec of the admin actor. Put it first among the
/// extra children, so that actors started after it can register readiness
/// checks at once. Reads the admin token (ZAKI_ADMIN_TOKEN or
/// admin.token-file) once, unless `opts.access` is given.
child_spec admin_child(const context_ptr& ctx, admin_options opts = {});

} // namespace zaki
