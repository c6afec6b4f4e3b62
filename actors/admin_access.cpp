// The access endpoints of the admin actor (issue 23): decisions about users
// and the lists of pending, approved, rejected and revoked users. Each asks
// the access actor, which decides exactly as an admin's button or command.

#include <simdjson.h>

#include "access/texts.hpp"
#include "actors/admin_endpoints.hpp"
#include "actors/broadcast.hpp"
#include "admin/query.hpp"
#include "json/parse.hpp"
#include "json/writer.hpp"
#include "messages/peer.hpp"
#include "runtime/logging.hpp"

namespace zaki {

namespace http = boost::beast::http;

namespace {

access_actor find_access(admin_self self, const admin_exchange_ptr& ex) {
  auto gate = peer<access_actor>(self);
  if (!gate)
    ex->fail(http::status::service_unavailable,
             "access control is not running");
  return gate;
}

} // namespace

void serve_user_access(admin_self self, const admin_exchange_ptr& ex) {
  auto gate = find_access(self, ex);
  if (!gate)
    return;
  auto user_id = ex->route.user_id;
  auto action = ex->route.access_action;
  if (action == "revoke" && query_param(ex->route.query, "purge") == "1")
    action = "purge";
  logger("admin")->info("event=admin_access user={} action={}", user_id,
                        action);
  self
    ->request(gate, self->state.ctx->cfg.admin.action_timeout, decide_atom_v,
              user_id, action, int64_t{0})
    .then(
      [ex, user_id](const std::string& outcome) {
        json_writer w;
        w.begin_object().field("user_id", user_id).field("result", outcome);
        auto unknown = outcome.rfind("unknown user", 0) == 0;
        ex->reply(unknown ? http::status::not_found : http::status::ok,
                  w.end_object().take());
      },
      [self, ex](caf::error& err) {
        ex->fail(http::status::internal_server_error,
                 self->system().render(err));
      });
}

void serve_broadcast(admin_self self, const admin_exchange_ptr& ex) {
  auto& parser = thread_dom_parser();
  simdjson::dom::element doc;
  std::string_view text;
  if (parser.parse(ex->body).get(doc) || doc["text"].get_string().get(text)) {
    ex->fail(http::status::bad_request,
             R"(the body must be JSON {"text": "..."})");
    return;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    ex->fail(http::status::bad_request, "the text is empty");
    return;
  }
  auto job = std::make_shared<broadcast_job>();
  job->text = std::string{text};
  job->on_collected = [ex](int64_t recipients) {
    if (recipients < 0) {
      ex->fail(http::status::service_unavailable,
               "the recipients could not be collected");
      return;
    }
    json_writer w;
    w.begin_object().field("result", "broadcasting");
    w.field("recipients", recipients);
    ex->reply(http::status::accepted, w.end_object().take());
  };
  logger("admin")->info("event=admin_broadcast bytes={}", text.size());
  run_broadcast(self, job);
}

void serve_access_list(admin_self self, const admin_exchange_ptr& ex,
                       const std::string& status) {
  auto gate = find_access(self, ex);
  if (!gate)
    return;
  self
    ->request(gate, self->state.ctx->cfg.admin.action_timeout, list_atom_v,
              status)
    .then(
      [ex](const access_list& list) {
        json_writer w;
        w.begin_object().key("users").begin_array();
        for (auto& rec : list) {
          w.begin_object().field("user_id", rec.user_id);
          // "port" keeps the lines of `users list` (no container: 0).
          w.field("port", uint64_t{0}).field("status", rec.status);
          w.field("decided_by", rec.decided_by);
          w.field("decided_at", rec.decided_at);
          w.field("requested_at", rec.requested_at);
          w.field("container", rec.has_container).end_object();
        }
        w.end_array().field("next_after", int64_t{0});
        ex->reply(http::status::ok, w.end_object().take());
      },
      [self, ex](caf::error& err) {
        ex->fail(http::status::internal_server_error,
                 self->system().render(err));
      });
}

} // namespace zaki
