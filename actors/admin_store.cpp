// The store's endpoints of the admin actor: paging through users, removal,
// transcripts, import and export. Each asks the store (or, for removal, the
// provisioner, which also removes the container) and answers from the
// continuation. Gateway tokens never leave: pages carry no token.

#include <charconv>

#include "actors/admin_endpoints.hpp"
#include "admin/query.hpp"
#include "json/writer.hpp"
#include "runtime/logging.hpp"

namespace zaki {

namespace http = boost::beast::http;

namespace {

store_actor find_store(admin_self self, const admin_exchange_ptr& ex) {
  auto store = self->system().registry().get<store_actor>(names::store);
  if (!store)
    ex->fail(http::status::service_unavailable, "the store is not running");
  return store;
}

template <class T>
bool parse_number(const std::optional<std::string>& text, T& out) {
  if (!text || text->empty())
    return true;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(),
                                   out);
  return ec == std::errc{} && end == text->data() + text->size();
}

void fail_from(admin_self self, const admin_exchange_ptr& ex,
               const caf::error& err) {
  if (err == caf::sec::request_timeout)
    ex->fail(http::status::gateway_timeout, "the store did not answer");
  else
    ex->fail(http::status::internal_server_error, self->system().render(err));
}

void reply_count(const admin_exchange_ptr& ex, const char* key, uint64_t n,
                 const std::string& path) {
  json_writer w;
  w.begin_object().field(key, n).field("file", path);
  ex->reply(http::status::ok, w.end_object().take());
}

} // namespace

void serve_users_list(admin_self self, const admin_exchange_ptr& ex) {
  auto& q = ex->route.query;
  auto status = query_param(q, "status").value_or("");
  if (status == "pending" || status == "approved" || status == "rejected"
      || status == "revoked")
    return serve_access_list(self, ex, status);
  uint32_t limit = 100;
  int64_t after = 0;
  if (!parse_number(query_param(q, "limit"), limit)
      || !parse_number(query_param(q, "after"), after) || limit == 0
      || limit > 1000 || after < 0) {
    ex->fail(http::status::bad_request,
             "limit must be 1..1000 and after a user id");
    return;
  }
  auto store = find_store(self, ex);
  if (!store)
    return;
  self
    ->request(store, self->state.ctx->cfg.admin.action_timeout, list_atom_v,
              status, limit, after)
    .then(
      [ex](const user_page& page) {
        json_writer w;
        w.begin_object().key("users").begin_array();
        for (auto& rec : page.users) {
          w.begin_object().field("user_id", rec.user_id);
          w.field("host", rec.host).field("port", uint64_t{rec.port});
          w.field("container", rec.container).field("status", rec.status);
          w.field("created_at", rec.created_at).end_object();
        }
        w.end_array().field("next_after", page.next_after);
        ex->reply(http::status::ok, w.end_object().take());
      },
      [self, ex](caf::error& err) {
        fail_from(self, ex, err);
      });
}

void serve_user_remove(admin_self self, const admin_exchange_ptr& ex) {
  auto id = ex->route.user_id;
  auto timeout = self->state.ctx->cfg.admin.action_timeout;
  logger("admin")->info("event=admin_action action=remove user={}", id);
  auto done = [ex, id](bool removed, const char* via) {
    json_writer w;
    w.begin_object().field("user_id", id).field("action", "remove");
    w.field("via", via).field("ok", removed);
    ex->reply(removed ? http::status::ok : http::status::not_found,
              w.end_object().take());
  };
  // The provisioner removes the container and data dir too, then the
  // store's entry; without one (static backend) the store alone.
  if (auto prov
      = self->system().registry().get<provisioner_actor>(names::provisioner);
      prov && self->state.ctx->cfg.backend.kind != "static") {
    self->request(prov, timeout, remove_atom_v, id)
      .then(
        [done](bool ok) {
          done(ok, "provisioner");
        },
        [self, ex](caf::error& err) {
          fail_from(self, ex, err);
        });
    return;
  }
  auto store = find_store(self, ex);
  if (!store)
    return;
  self->request(store, timeout, remove_atom_v, id)
    .then(
      [done](bool ok) {
        done(ok, "store");
      },
      [self, ex](caf::error& err) {
        fail_from(self, ex, err);
      });
}

void serve_user_transcript(admin_self self, const admin_exchange_ptr& ex) {
  auto id = ex->route.user_id;
  auto store = find_store(self, ex);
  if (!store)
    return;
  logger("admin")->info("event=admin_action action=forget user={}", id);
  self
    ->request(store, self->state.ctx->cfg.admin.action_timeout, forget_atom_v,
              id)
    .then(
      [ex, id](uint64_t n) {
        json_writer w;
        w.begin_object().field("user_id", id).field("deleted", n);
        ex->reply(http::status::ok, w.end_object().take());
      },
      [self, ex](caf::error& err) {
        fail_from(self, ex, err);
      });
}

void serve_users_transfer(admin_self self, const admin_exchange_ptr& ex,
                          bool import) {
  auto path = query_param(ex->route.query, import ? "file" : "out");
  auto& cfg = self->state.ctx->cfg;
  if (!import && (!path || path->empty()))
    path = cfg.store.users_file;
  if (!path || path->empty() || path->front() != '/') {
    ex->fail(http::status::bad_request, "name the file with an absolute path");
    return;
  }
  auto store = find_store(self, ex);
  if (!store)
    return;
  logger("admin")->info("event=admin_action action={} file={}",
                        import ? "import" : "export", log_value(*path));
  // An import of a million users takes seconds: a deadline of its own.
  auto timeout = std::max<caf::timespan>(cfg.admin.action_timeout,
                                         std::chrono::seconds(120));
  auto on_ok = [ex, path = *path, import](uint64_t n) {
    reply_count(ex, import ? "imported" : "exported", n, path);
  };
  auto on_err = [self, ex](caf::error& err) {
    if (err == caf::sec::request_timeout)
      return fail_from(self, ex, err);
    ex->fail(http::status::unprocessable_entity, self->system().render(err));
  };
  if (import)
    self->request(store, timeout, import_atom_v, *path).then(on_ok, on_err);
  else
    self->request(store, timeout, export_atom_v, *path).then(on_ok, on_err);
}

} // namespace zaki
