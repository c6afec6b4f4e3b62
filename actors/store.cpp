#include "actors/store.hpp"

#include "json/writer.hpp"
#include "runtime/logging.hpp"

namespace zaki {

store_actor::behavior_type store(store_actor::stateful_pointer<store_state> self,
                                 context_ptr ctx, user_registry initial) {
  self->state.ctx = ctx;
  self->state.users = std::move(initial);
  auto log = logger("store");
  auto persist = [self, log]() -> bool {
    auto& path = self->state.ctx->cfg.store.users_file;
    // Writing is a short local-disk operation (a few ms with fsync) and
    // only happens on provisioning and removal, never per message.
    auto err = save_users_file(path, self->state.users);
    if (!err.empty()) {
      self->state.last_error = err;
      log->error("event=users_write_failed file={} error={}", log_value(path),
                 log_value(err));
      return false;
    }
    ++self->state.writes;
    return true;
  };
  return {
    [self](get_atom, int64_t user_id) {
      user_lookup result;
      if (auto rec = self->state.users.find(user_id)) {
        result.found = true;
        result.record = std::move(*rec);
      }
      return result;
    },
    [self, persist](put_atom, user_record rec) {
      self->state.users.put(rec);
      return persist();
    },
    [self, persist](remove_atom, int64_t user_id) {
      if (!self->state.users.erase(user_id))
        return false;
      return persist();
    },
    [self, log](reload_atom) -> uint64_t {
      auto& path = self->state.ctx->cfg.store.users_file;
      auto res = load_user_registry(path, self->state.users);
      if (!res.ok) {
        self->state.last_error = res.error;
        log->error("event=reload_failed file={} error={} kept_users={}",
                   log_value(path), log_value(res.error), self->state.users.size());
        return self->state.users.size();
      }
      for (auto& w : res.warnings)
        log->warn("event=users_entry_skipped detail={}", log_value(w));
      self->state.last_error.clear();
      ++self->state.reloads;
      log->info("event=reloaded file={} users={}", log_value(path),
                self->state.users.size());
      return self->state.users.size();
    },
    [self](status_atom) {
      status_node node;
      node.name = "store";
      node.id = self->id();
      node.state = self->state.last_error.empty() ? "running" : "degraded";
      node.mailbox_size = self->mailbox().size();
      json_writer w;
      w.begin_object().field("users", uint64_t{self->state.users.size()});
      w.field("reloads", self->state.reloads).field("writes",
                                                    self->state.writes);
      w.field("file", self->state.ctx->cfg.store.users_file);
      if (!self->state.last_error.empty())
        w.field("last_error", self->state.last_error);
      node.detail_json = w.end_object().take();
      return node;
    },
  };
}

} // namespace zaki
