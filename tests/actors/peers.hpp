#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <unistd.h>

#include "messages/interfaces.hpp"
#include "runtime/context.hpp"
#include "runtime/io_runtime.hpp"
#include "runtime/users_file.hpp"

// Stand-ins for the router's long-lived actors in deterministic tests: a
// store, a telegram actor and a user supervisor that record what they get.
// They are registered under the real names, so the actors under test find
// them exactly as in the tree.

namespace zaki::test {

/// What the stand-ins saw; read it after `sched.run()`.
struct peers_state {
  /// The users the store knows.
  user_map users;
  /// Store lookups, by user id.
  std::vector<int64_t> lookups;
  /// Texts given to the telegram actor.
  std::vector<outgoing_text> sent;
  /// Chat actions ("typing").
  size_t chat_actions = 0;
  /// Answered callback query ids.
  std::vector<std::string> callbacks;
  /// `done` reports (user, update id) to the supervisor.
  std::vector<std::pair<int64_t, int64_t>> done;
  /// Batches handed to the supervisor.
  std::vector<inbound_batch> batches;
  /// While true, the supervisor holds its answer to `route` until `release`.
  bool hold_batches = false;
  /// When set, the supervisor answers `route` with this error.
  caf::error route_error;
  /// Shutdown requests to the root.
  size_t shutdowns = 0;
};

using peers_ptr = std::shared_ptr<peers_state>;

/// Makes the supervisor stand-in answer the batches it holds.
using release_atom = caf::atom_constant<caf::atom("release")>;

inline caf::behavior fake_store(caf::event_based_actor*, peers_ptr p) {
  return {
    [p](get_atom, int64_t id) {
      p->lookups.push_back(id);
      user_lookup out;
      if (auto i = p->users.find(id); i != p->users.end()) {
        out.found = true;
        out.record = i->second;
      }
      return out;
    },
  };
}

inline caf::behavior fake_telegram_actor(caf::event_based_actor*,
                                         peers_ptr p) {
  return {
    [p](send_atom, const outgoing_text& x) {
      p->sent.push_back(x);
      return static_cast<int64_t>(p->sent.size());
    },
    [p](chat_action_atom, int64_t, const std::string&) { ++p->chat_actions; },
    [p](answer_atom, const std::string& id, const std::string&) {
      p->callbacks.push_back(id);
      return true;
    },
  };
}

inline caf::behavior fake_supervisor(caf::event_based_actor* self,
                                     peers_ptr p) {
  auto held = std::make_shared<std::vector<caf::response_promise>>();
  return {
    [p](done_atom, int64_t user, int64_t update) {
      p->done.emplace_back(user, update);
    },
    [=](route_atom, const inbound_batch& batch) -> caf::result<ok_atom> {
      p->batches.push_back(batch);
      if (p->route_error)
        return p->route_error;
      if (p->hold_batches) {
        held->push_back(self->make_response_promise());
        return caf::delegated<ok_atom>{};
      }
      return ok_atom_v;
    },
    [=](release_atom) {
      for (auto& rp : *held)
        rp.deliver(ok_atom_v);
      held->clear();
    },
  };
}

inline caf::behavior fake_root(caf::event_based_actor*, peers_ptr p) {
  return {
    [p](shutdown_atom) { ++p->shutdowns; },
  };
}

/// A temporary directory removed with the object.
struct temp_dir {
  temp_dir() {
    static int n = 0;
    path = (std::filesystem::temp_directory_path()
            / ("zaki-actors-" + std::to_string(::getpid()) + "-"
               + std::to_string(++n)))
             .string();
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string path;
};

/// A context whose I/O runtime is stopped: HTTP requests of the actors
/// under test never run, the tests inject their completions instead.
struct frozen_context {
  frozen_context() {
    io.stop();
    ctx = std::make_shared<service_context>();
    ctx->io = &io;
    ctx->bot_token = "123456:frozen-test-token";
    ctx->instance_id = "zr-test";
    ctx->cfg.store.data_root = dir.path + "/data";
    std::filesystem::create_directories(ctx->cfg.store.data_root);
    ctx->cfg.store.users_file = dir.path + "/users.json";
    ctx->cfg.telegram.api_root = "http://127.0.0.1:9";
    // The journal acknowledges from a thread of its own, which the
    // deterministic scheduler cannot wait for.
    ctx->cfg.store.inbox_journal = false;
  }
  temp_dir dir;
  io_runtime io{1};
  context_ptr ctx;
};

/// Returns a user record for `id` on `port`.
inline user_record record_of(int64_t id, uint16_t port = 19001) {
  user_record rec;
  rec.user_id = id;
  rec.port = port;
  rec.token = "gw-token-" + std::to_string(id);
  rec.container = "zaki-user-" + std::to_string(id);
  return rec;
}

/// Returns a text message of `user` in their private chat.
inline inbound_message text_message(int64_t update_id, int64_t user,
                                    std::string text) {
  inbound_message msg;
  msg.update_id = update_id;
  msg.user_id = user;
  msg.chat_id = user;
  msg.message_id = update_id;
  msg.text = std::move(text);
  msg.request_id = "rid" + std::to_string(update_id);
  return msg;
}

/// Returns an HTTP result with `status` and `body`.
inline http_result http_status(int status, std::string body = {}) {
  http_result res;
  res.status = status;
  res.body = std::move(body);
  return res;
}

/// Returns a chat completion answer with `content`.
inline http_result completion(const std::string& content) {
  return http_status(200, R"({"choices":[{"message":{"role":"assistant",)"
                          R"("content":")"
                            + content + "\"}}]}");
}

} // namespace zaki::test
