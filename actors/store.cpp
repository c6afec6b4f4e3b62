#include "actors/store.hpp"

#include <algorithm>
#include <chrono>

#include "messages/errors.hpp"
#include "messages/status_detail.hpp"
#include "runtime/logging.hpp"
#include "storage/users_import.hpp"

namespace zaki {

namespace {

using self_ptr = store_actor::stateful_pointer<store_state>;

/// How long usage counters collect before one commit writes them all.
constexpr auto usage_flush_delay = std::chrono::milliseconds(200);

/// How long to wait before writing again after the database refused.
constexpr auto usage_retry_delay = std::chrono::seconds(5);

/// Runs `work(db)` on the worker and then `then(result, error)` inside the
/// actor, where `error` is the job's own error or the batch's commit error.
/// `work` returns a pair of its result and its error text.
template <class Work, class Then>
void submit(self_ptr self, Work work, Then then) {
  auto hdl = caf::actor_cast<store_actor>(self);
  self->state.worker->post(
    [hdl, work = std::move(work),
     then = std::move(then)](database& db) mutable -> db_worker::completion {
      auto out = std::make_shared<decltype(work(db))>(work(db));
      return [hdl, out, then](const std::string& commit_error) {
        auto reply = std::make_shared<store_reply>();
        reply->fn = [out, then, commit_error]() mutable {
          auto err = out->second.empty() ? commit_error : out->second;
          then(std::move(out->first), err);
        };
        caf::anon_send(hdl, internal_atom_v, done_atom_v, std::move(reply));
      };
    });
}

/// Remembers a failed write (or its end) for status, readiness and logs.
void note_write(self_ptr self, const std::string& err, const char* what) {
  auto& st = self->state;
  if (err.empty()) {
    if (!st.db_error.empty())
      logger("store")->info("event=db_writable again_after={}", what);
    st.db_error.clear();
    ++st.writes;
    return;
  }
  ++st.write_failures;
  if (st.db_error != err)
    logger("store")->error("event=db_write_failed what={} error={}", what,
                           log_value(err, 300));
  st.db_error = err;
}

caf::error unavailable(self_ptr self) {
  return make_error(errc::internal,
                    "the database is not available: " + self->state.open_error);
}

void arm_flush(self_ptr self, caf::timespan delay) {
  if (self->state.flush_armed)
    return;
  self->state.flush_armed = true;
  self->delayed_send(self, delay, internal_atom_v, flush_usage_atom_v);
}

/// Adds the counters of `u` to the usage not yet written.
void add_usage(store_state& st, const usage_record& u) {
  auto& p = st.pending_usage[u.user_id];
  p.user_id = u.user_id;
  p.requests += u.requests;
  p.prompt_tokens += u.prompt_tokens;
  p.completion_tokens += u.completion_tokens;
}

/// Writes the usage counters and transcript entries collected since the
/// last flush in one job (one commit): a message costs the worker one
/// wake-up per flush, not three.
void flush_usage(self_ptr self) {
  auto& st = self->state;
  st.flush_armed = false;
  if ((st.pending_usage.empty() && st.pending_transcripts.empty())
      || st.flush_in_flight || !st.worker)
    return;
  std::vector<usage_record> batch;
  batch.reserve(st.pending_usage.size());
  for (auto& [id, u] : st.pending_usage)
    batch.push_back(u);
  st.pending_usage.clear();
  auto entries = std::move(st.pending_transcripts);
  st.pending_transcripts.clear();
  auto waiters = std::move(st.transcript_waiters);
  st.transcript_waiters.clear();
  auto limit = st.ctx->cfg.store.transcript_limit;
  st.flush_in_flight = true;
  submit(
    self,
    [batch, entries, limit](database& db) {
      auto day = utc_day();
      std::string err;
      for (auto& u : batch)
        if (err = db.add_usage(u, day); !err.empty())
          break;
      if (err.empty() && !entries.empty())
        err = db.add_transcripts(entries, limit);
      return std::make_pair(batch, err);
    },
    [self, waiters, n = entries.size()](std::vector<usage_record> batch,
                                        const std::string& err) mutable {
      auto& st = self->state;
      st.flush_in_flight = false;
      note_write(self, err, "usage");
      for (auto& rp : waiters)
        rp.deliver(err.empty());
      if (!err.empty()) {
        // Usage is counted in memory until the disk takes writes again;
        // transcript entries are dropped (the log says how many).
        if (n > 0)
          logger("store")->warn("event=transcript_dropped entries={}", n);
        for (auto& u : batch) {
          auto& p = st.pending_usage[u.user_id];
          p.user_id = u.user_id;
          p.requests += u.requests;
          p.prompt_tokens += u.prompt_tokens;
          p.completion_tokens += u.completion_tokens;
        }
        arm_flush(self, usage_retry_delay);
      } else if (!st.pending_usage.empty() || !st.pending_transcripts.empty()) {
        arm_flush(self, usage_flush_delay);
      }
    });
}

std::string import_detail(const import_report& rep) {
  return rep.missing ? rep.error + ": the current users stay" : rep.error;
}

/// Imports users.json (reload, admin import) and answers the user count.
caf::result<uint64_t> import_file(self_ptr self, std::string path,
                                  bool reload) {
  auto& st = self->state;
  if (!st.worker)
    return unavailable(self);
  auto rp = self->make_response_promise<uint64_t>();
  bool unique = st.ctx->cfg.backend.kind != "static";
  submit(
    self,
    [path, unique](database& db) {
      auto rep = import_users(db, path, unique);
      std::string err;
      auto n = db.count_users(err);
      return std::make_pair(std::make_pair(rep, n), std::string{});
    },
    [self, rp, path, reload](std::pair<import_report, uint64_t> out,
                             const std::string& err) mutable {
      auto& st = self->state;
      auto& rep = out.first;
      auto log = logger("store");
      if (!err.empty() || !rep.ok) {
        auto why = err.empty() ? import_detail(rep) : err;
        st.last_error = why;
        log->error("event={} file={} error={} kept_users={}",
                   reload ? "reload_failed" : "import_failed", log_value(path),
                   log_value(why, 300), st.users);
        if (reload)
          rp.deliver(st.users);
        else
          rp.deliver(make_error(errc::internal, why));
        return;
      }
      for (auto& w : rep.warnings)
        log->warn("event=users_entry_skipped detail={}", log_value(w));
      if (!rep.shared_note.empty())
        log->info("event=users_share_gateways detail={}",
                  log_value(rep.shared_note, 300));
      st.last_error.clear();
      st.users = out.second;
      ++st.reloads;
      log->info("event={} file={} imported={} users={}",
                reload ? "reloaded" : "imported", log_value(path), rep.imported,
                st.users);
      rp.deliver(reload ? st.users : rep.imported);
    });
  return rp;
}

caf::settings store_detail(self_ptr self) {
  auto& st = self->state;
  status_detail w;
  w.begin_object().field("users", st.users);
  w.field("reloads", st.reloads).field("writes", st.writes);
  w.field("file", st.ctx->cfg.store.users_file);
  w.field("database", st.db_path);
  w.field("write_failures", st.write_failures);
  w.field("pending_usage", uint64_t{st.pending_usage.size()});
  if (st.worker) {
    w.field("queue_depth", uint64_t{st.worker->queue_depth()});
    w.field("jobs", st.worker->jobs_done());
    w.field("batches", st.worker->batches());
    w.field("latency_ns_sum", st.worker->latency_ns_sum());
    w.field("latency_ns_max", st.worker->latency_ns_max());
  }
  if (!st.last_error.empty())
    w.field("last_error", st.last_error);
  if (!st.open_error.empty())
    w.field("db_error", st.open_error);
  else if (!st.db_error.empty())
    w.field("db_error", st.db_error);
  return w.end_object().take();
}

/// Runs the read `work` on the worker and delivers its result, or an
/// internal error when the job or its batch failed, unless `stands` says
/// the result holds anyway (a lookup that found its user needs no commit).
template <class T, class Work>
caf::result<T>
read_db(self_ptr self, Work work, bool (*stands)(const T&) = nullptr) {
  if (!self->state.worker)
    return unavailable(self);
  auto rp = self->make_response_promise<T>();
  submit(self, std::move(work),
         [rp, stands](T result, const std::string& err) mutable {
           if (!err.empty() && (stands == nullptr || !stands(result)))
             rp.deliver(make_error(errc::internal, err));
           else
             rp.deliver(std::move(result));
         });
  return rp;
}

/// Opens the database (or, failing that, an in-memory copy of users.json
/// so that routing goes on) and starts its worker.
void open_database(self_ptr self) {
  auto& st = self->state;
  auto& cfg = st.ctx->cfg;
  st.db_path = database_path(cfg.store.database, cfg.store.data_root);
  auto log = logger("store");
  if (auto db = database::open(st.db_path, st.open_error)) {
    if (cfg.store.max_size_mb > 0)
      db->limit_size(cfg.store.max_size_mb << 20);
    std::string err;
    st.users = db->count_users(err);
    st.worker = std::make_unique<db_worker>(std::move(db));
    return;
  }
  log->error("event=db_unavailable error={}", log_value(st.open_error));
  // Routing goes on from an in-memory copy of users.json; open_error stays
  // set, so readiness fails with the reason until a restart finds the
  // database writable again.
  std::string ignored;
  if (auto mem = database::open(":memory:", ignored)) {
    auto rep = import_users(*mem, cfg.store.users_file,
                            cfg.backend.kind != "static");
    log->warn("event=db_in_memory users={} import_error={}", rep.imported,
              log_value(rep.error));
    st.users = mem->count_users(ignored);
    st.worker = std::make_unique<db_worker>(std::move(mem));
  }
}

/// Writes the seed users (tests, demo) in one job, one transaction.
void seed_users(self_ptr self, const user_registry& initial) {
  if (!self->state.worker || initial.empty())
    return;
  auto records = std::make_shared<std::vector<user_record>>();
  for (auto id : initial.sorted_ids())
    records->push_back(*initial.find(id));
  submit(
    self,
    [records](database& db) {
      std::string err;
      for (auto& rec : *records)
        if (err = db.put_user(rec); !err.empty())
          break;
      std::string ignored;
      return std::make_pair(db.count_users(ignored), err);
    },
    [self](uint64_t n, const std::string& err) {
      note_write(self, err, "seed");
      self->state.users = n;
    });
}

caf::result<user_lookup> lookup_user(self_ptr self, int64_t user_id) {
  return read_db<user_lookup>(
    self,
    [user_id](database& db) {
      std::string err;
      user_lookup result;
      if (auto rec = db.find_user(user_id, err)) {
        result.found = true;
        result.record = std::move(*rec);
      }
      return std::make_pair(result, err);
    },
    [](const user_lookup& x) {
      return x.found;
    });
}

caf::result<bool> put_user(self_ptr self, user_record rec) {
  if (!self->state.worker)
    return unavailable(self);
  auto rp = self->make_response_promise<bool>();
  submit(
    self,
    [rec](database& db) {
      std::string err;
      bool fresh = !db.find_user(rec.user_id, err) && err.empty();
      err = db.put_user(rec);
      return std::make_pair(fresh, err);
    },
    [self, rp](bool fresh, const std::string& err) mutable {
      note_write(self, err, "user");
      if (err.empty() && fresh)
        ++self->state.users;
      rp.deliver(err.empty());
    });
  return rp;
}

caf::result<bool> remove_user(self_ptr self, int64_t user_id) {
  if (!self->state.worker)
    return unavailable(self);
  auto rp = self->make_response_promise<bool>();
  submit(
    self,
    [user_id](database& db) {
      bool removed = false;
      auto err = db.remove_user(user_id, removed);
      return std::make_pair(removed, err);
    },
    [self, rp](bool removed, const std::string& err) mutable {
      note_write(self, err, "user");
      if (err.empty() && removed && self->state.users > 0)
        --self->state.users;
      rp.deliver(err.empty() && removed);
    });
  return rp;
}

caf::result<user_page> list_users(self_ptr self, std::string status,
                                  uint32_t limit, int64_t after) {
  limit = std::max(1u, std::min(limit, 1000u));
  return read_db<user_page>(
    self,
    [status, limit, after](database& db) {
      std::string err;
      user_page page;
      page.users = db.list_users(status, limit, after, err);
      if (page.users.size() == limit)
        page.next_after = page.users.back().user_id;
      return std::make_pair(page, err);
    },
    [](const user_page& x) {
      return !x.users.empty();
    });
}

/// An answer's usage and its two transcript entries, written with the next
/// batch when the database takes writes (dropped and logged with it when
/// it does not).
void record_answer(self_ptr self, const usage_record& u,
                   transcript_entry& question, transcript_entry& answer) {
  auto& st = self->state;
  add_usage(st, u);
  if (st.worker) {
    st.pending_transcripts.push_back(std::move(question));
    st.pending_transcripts.push_back(std::move(answer));
  }
  arm_flush(self, usage_flush_delay);
}

caf::result<bool> add_transcript(self_ptr self, const transcript_entry& e) {
  auto& st = self->state;
  if (!st.worker)
    return unavailable(self);
  st.pending_transcripts.push_back(e);
  auto rp = self->make_response_promise<bool>();
  st.transcript_waiters.push_back(rp);
  // A database that refuses writes is retried on the usage's slower
  // schedule; transcripts then wait with it.
  arm_flush(self, usage_flush_delay);
  return rp;
}

caf::result<usage_record> usage_of(self_ptr self, int64_t user_id,
                                   std::string from, std::string to) {
  if (!self->state.worker)
    return unavailable(self);
  auto rp = self->make_response_promise<usage_record>();
  // Counters not committed yet belong to today.
  usage_record unflushed;
  if (auto i = self->state.pending_usage.find(user_id);
      i != self->state.pending_usage.end() && to >= utc_day())
    unflushed = i->second;
  submit(
    self,
    [user_id, from, to](database& db) {
      std::string err;
      auto u = db.usage_between(user_id, from, to, err);
      return std::make_pair(u, err);
    },
    [rp, unflushed](usage_record u, const std::string& err) mutable {
      if (!err.empty()) {
        rp.deliver(make_error(errc::internal, err));
        return;
      }
      u.requests += unflushed.requests;
      u.prompt_tokens += unflushed.prompt_tokens;
      u.completion_tokens += unflushed.completion_tokens;
      rp.deliver(std::move(u));
    });
  return rp;
}

caf::result<bool> set_access(self_ptr self, const access_record& rec) {
  if (!self->state.worker)
    return unavailable(self);
  auto rp = self->make_response_promise<bool>();
  submit(
    self,
    [rec](database& db) {
      auto err = db.set_access(rec);
      return std::make_pair(err.empty(), err);
    },
    [self, rp](bool ok, const std::string& err) mutable {
      note_write(self, err, "access");
      rp.deliver(ok);
    });
  return rp;
}

caf::result<uint64_t> forget_user(self_ptr self, int64_t user_id) {
  if (!self->state.worker)
    return unavailable(self);
  auto rp = self->make_response_promise<uint64_t>();
  // Entries still waiting for the next batched commit are forgotten too:
  // written after the delete, they would outlive it.
  auto& pending = self->state.pending_transcripts;
  auto kept = std::remove_if(pending.begin(), pending.end(),
                             [user_id](const transcript_entry& e) {
                               return e.user_id == user_id;
                             });
  auto unwritten = static_cast<uint64_t>(pending.end() - kept);
  pending.erase(kept, pending.end());
  submit(
    self,
    [user_id, unwritten](database& db) {
      uint64_t n = 0;
      auto err = db.forget(user_id, n);
      return std::make_pair(n + unwritten, err);
    },
    [self, rp, user_id](uint64_t n, const std::string& err) mutable {
      note_write(self, err, "forget");
      if (!err.empty()) {
        rp.deliver(make_error(errc::internal, err));
        return;
      }
      logger("store")->info("event=transcript_forgotten user={} entries={}",
                            user_id, n);
      rp.deliver(n);
    });
  return rp;
}

caf::result<bool, std::string> readiness(self_ptr self) {
  auto& st = self->state;
  if (!st.open_error.empty())
    return {false, st.open_error};
  if (!st.db_error.empty())
    return {false, "the database refuses writes: " + st.db_error};
  return {true, st.db_path + " takes writes"};
}

status_node store_status(self_ptr self) {
  auto& st = self->state;
  status_node node;
  node.name = "store";
  node.id = self->id();
  bool healthy = st.last_error.empty() && st.db_error.empty()
    && st.open_error.empty();
  node.state = healthy ? "running" : "degraded";
  node.mailbox_size = self->mailbox().size();
  node.detail = store_detail(self);
  return node;
}

} // namespace

store_state::~store_state() {
  if (!worker || (pending_usage.empty() && pending_transcripts.empty()))
    return;
  std::vector<usage_record> batch;
  for (auto& [id, u] : pending_usage)
    batch.push_back(u);
  auto limit = ctx->cfg.store.transcript_limit;
  worker->post([batch, entries = std::move(pending_transcripts),
                limit](database& db) -> db_worker::completion {
    auto day = utc_day();
    for (auto& u : batch)
      db.add_usage(u, day);
    db.add_transcripts(entries, limit);
    return {};
  });
}

store_actor::behavior_type
store(store_actor::stateful_pointer<store_state> self, context_ptr ctx,
      user_registry initial) {
  self->state.ctx = ctx;
  open_database(self);
  seed_users(self, initial);
  return {
    [self](get_atom, int64_t user_id) {
      return lookup_user(self, user_id);
    },
    [self](put_atom, user_record& rec) {
      return put_user(self, std::move(rec));
    },
    [self](remove_atom, int64_t user_id) {
      return remove_user(self, user_id);
    },
    [self](reload_atom) {
      return import_file(self, self->state.ctx->cfg.store.users_file, true);
    },
    [self](list_atom, std::string& status, uint32_t limit, int64_t after) {
      return list_users(self, std::move(status), limit, after);
    },
    [self](usage_atom, const usage_record& u) {
      add_usage(self->state, u);
      arm_flush(self, usage_flush_delay);
    },
    [self](usage_atom, const usage_record& u, transcript_entry& question,
           transcript_entry& answer) {
      record_answer(self, u, question, answer);
    },
    [self](transcript_atom, const transcript_entry& e) {
      return add_transcript(self, e);
    },
    [self](usage_atom, int64_t user_id, std::string& from, std::string& to) {
      return usage_of(self, user_id, std::move(from), std::move(to));
    },
    [self](access_atom, int64_t user_id) {
      return read_db<access_record>(self, [user_id](database& db) {
        std::string err;
        auto rec = db.access_of(user_id, err);
        return std::make_pair(rec, err);
      });
    },
    [self](access_atom, const access_record& rec) {
      return set_access(self, rec);
    },
    [self](access_atom, list_atom, std::string& status, uint32_t limit) {
      limit = std::max(1u, std::min(limit, 10000u));
      return read_db<access_list>(
        self, [status = std::move(status), limit](database& db) {
          std::string err;
          auto list = db.list_access(status, limit, err);
          return std::make_pair(list, err);
        });
    },
    [self](forget_atom, int64_t user_id) {
      return forget_user(self, user_id);
    },
    [self](import_atom, const std::string& path) {
      return import_file(self, path, false);
    },
    [self](export_atom, const std::string& path) {
      return read_db<uint64_t>(self, [path](database& db) {
        uint64_t n = 0;
        auto err = export_users(db, path, n);
        return std::make_pair(n, err);
      });
    },
    [self](ready_atom) {
      return readiness(self);
    },
    [self](internal_atom, done_atom, const store_reply_ptr& reply) {
      reply->fn();
    },
    [self](internal_atom, flush_usage_atom) {
      flush_usage(self);
    },
    [self](status_atom) {
      return store_status(self);
    },
  };
}

} // namespace zaki
