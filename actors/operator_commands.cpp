#include "actors/operator_commands.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <caf/all.hpp>

#include "access/pages.hpp"
#include "access/policy.hpp"
#include "access/texts.hpp"
#include "actors/broadcast.hpp"
#include "actors/user_commands.hpp"
#include "chat/request_id.hpp"
#include "messages/peer.hpp"
#include "messages/status_detail.hpp"
#include "runtime/logging.hpp"

namespace zaki {

namespace {

constexpr std::string_view help_html
  = "\n\n<b>Operator</b>\n"
    "/users [pending|approved|rejected|revoked] \xE2\x80\x94 list users\n"
    "/approve ID \xE2\x80\x94 let a user in\n"
    "/reject ID \xE2\x80\x94 turn a request down\n"
    "/revoke ID [purge] \xE2\x80\x94 stop a user's assistant (purge: "
    "remove its data too)\n"
    "/containers \xE2\x80\x94 every container's state and restarts\n"
    "/restart ID \xE2\x80\x94 restart a user's container\n"
    "/broadcast TEXT \xE2\x80\x94 a message to every approved user";

/// Page buttons kept per admin: a few listings' worth.
constexpr size_t max_open_pages = 32;

/// The current message is answered by the router itself.
void done_locally(user_self self) {
  user_finish(self);
}

/// Parses a Telegram user id: digits only, positive, at most 15 of them.
std::optional<int64_t> parse_operator_id(std::string_view word) {
  if (word.empty() || word.size() > 15
      || word.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  auto id = std::stoll(std::string{word});
  if (id <= 0)
    return std::nullopt;
  return id;
}

/// Returns the words after the command of `text`.
std::vector<std::string> arguments(std::string_view text) {
  std::vector<std::string> words;
  size_t pos = text.find_first_of(" \t\n");
  while (pos != std::string_view::npos && pos < text.size()) {
    auto start = text.find_first_not_of(" \t\n", pos);
    if (start == std::string_view::npos)
      break;
    auto end = text.find_first_of(" \t\n", start);
    words.emplace_back(text.substr(
      start,
      end == std::string_view::npos ? std::string_view::npos : end - start));
    pos = end;
  }
  return words;
}

// -- paged listings (/users, /containers) -------------------------------------

/// A rendered page: its text and how many pages there are.
struct rendered_page {
  std::string html;
  size_t pages = 1;
  /// The page shown (clamped).
  size_t page = 0;
};

using page_sink = std::function<void(rendered_page)>;

operator_pages& pages_of(user_self self) {
  auto& st = self->state;
  if (!st.pages)
    st.pages = std::make_shared<operator_pages>();
  return *st.pages;
}

/// Opens a button for `page` of `view`; returns its nonce.
std::string open_button(user_self self, const page_button& proto,
                        uint32_t page) {
  auto& open = pages_of(self).open;
  if (open.size() >= max_open_pages)
    open.erase(open.begin());
  page_button b = proto;
  b.nonce = new_request_id();
  b.page = page;
  open.push_back(b);
  return b.nonce;
}

/// Returns the keyboard of a page (buttons opened for its neighbours) and
/// adds the nonces of those buttons to `opened`.
std::string keyboard_for(user_self self, const page_button& proto,
                         const rendered_page& r,
                         std::vector<std::string>& opened) {
  std::string prev;
  std::string next;
  if (r.page > 0)
    opened.push_back(
      prev = open_button(self, proto, static_cast<uint32_t>(r.page - 1)));
  if (r.page + 1 < r.pages)
    opened.push_back(
      next = open_button(self, proto, static_cast<uint32_t>(r.page + 1)));
  return page_keyboard(prev, next);
}

void fetch_users_page(user_self self, const std::string& status, size_t page,
                      page_sink sink, std::function<void()> failed) {
  auto gate = peer<access_actor>(self);
  if (!gate)
    return failed();
  self->request(gate, std::chrono::seconds(10), list_atom_v, status)
    .then(
      [status, page, sink](const access_list& list) {
        rendered_page r;
        r.pages = page_count(list.size());
        r.page = std::min(page, r.pages - 1);
        r.html = users_page_html(list, status, r.page);
        sink(std::move(r));
      },
      [failed](caf::error&) {
        failed();
      });
}

/// Adds the health supervisor's view (state, restarts) to the rows.
void merge_health(const caf::settings& detail,
                  std::map<int64_t, container_row>& rows) {
  auto containers = detail_list(detail, "containers");
  if (containers == nullptr)
    return;
  for (auto& c : *containers) {
    auto fields = as_object(c);
    if (fields == nullptr || detail_member(*fields, "user") == nullptr)
      continue;
    auto id = detail_int(*fields, "user");
    auto& row = rows[id];
    row.user_id = id;
    if (auto state = detail_string(*fields, "state"); !state.empty())
      row.state = std::move(state);
    row.restarts = static_cast<uint64_t>(
      detail_int(*fields, "restarts", static_cast<int64_t>(row.restarts)));
    if (row.port == 0)
      row.port = static_cast<uint16_t>(detail_int(*fields, "port"));
  }
}

struct container_scan {
  std::map<int64_t, container_row> rows;
  size_t page = 0;
  page_sink sink;
  std::function<void()> failed;
};

void render_containers(user_self self, std::shared_ptr<container_scan> scan) {
  std::vector<container_row> rows;
  rows.reserve(scan->rows.size());
  for (auto& [id, row] : scan->rows)
    rows.push_back(row);
  rendered_page r;
  r.pages = page_count(rows.size());
  r.page = std::min(scan->page, r.pages - 1);
  r.html = containers_page_html(rows, self->state.ctx->cfg.containers.memory_mb,
                                r.page);
  scan->sink(std::move(r));
}

/// Asks the health supervisor (if any) after the store's pages.
void scan_health(user_self self, std::shared_ptr<container_scan> scan) {
  auto health = peer<health_actor>(self);
  if (!health)
    return render_containers(self, scan);
  self->request(health, std::chrono::seconds(10), status_atom_v)
    .then(
      [self, scan](const status_node& node) {
        merge_health(node.detail, scan->rows);
        render_containers(self, scan);
      },
      [self, scan](caf::error&) {
        render_containers(self, scan);
      });
}

/// Pages through the store's users (every user with a container record).
void scan_store(user_self self, std::shared_ptr<container_scan> scan,
                int64_t after) {
  auto store = peer<store_actor>(self);
  if (!store)
    return scan->failed();
  self
    ->request(store, std::chrono::seconds(30), list_atom_v, std::string{},
              uint32_t{1000}, after)
    .then(
      [self, scan](const user_page& page) {
        bool watched = static_cast<bool>(peer<health_actor>(self));
        for (auto& rec : page.users) {
          if (rec.container.empty() && rec.port == 0)
            continue;
          auto& row = scan->rows[rec.user_id];
          row.user_id = rec.user_id;
          row.container = rec.container;
          row.port = rec.port;
          // Not watched by the health supervisor: not running. Without
          // one (static backend) the gateways run outside this bot.
          row.state = watched ? "stopped" : "external";
        }
        if (page.next_after != 0 && scan->rows.size() < 100000)
          return scan_store(self, scan, page.next_after);
        scan_health(self, scan);
      },
      [scan](caf::error&) {
        scan->failed();
      });
}

void fetch_page(user_self self, const page_button& view, size_t page,
                page_sink sink, std::function<void()> failed) {
  if (view.view == "users")
    return fetch_users_page(self, view.status, page, std::move(sink),
                            std::move(failed));
  auto scan = std::make_shared<container_scan>();
  scan->page = page;
  scan->sink = std::move(sink);
  scan->failed = std::move(failed);
  scan_store(self, scan, 0);
}

/// Sends page 0 of a listing as a new message with its buttons.
void show_listing(user_self self, page_button view) {
  auto reply = replier(self);
  auto seq = self->state.seq;
  auto failed = [reply, view] {
    reply(view.view == "users" ? "Could not list the users right now."
                               : "Could not list the containers right now.");
  };
  fetch_page(
    self, view, 0,
    [self, seq, view](rendered_page r) {
      auto& st = self->state;
      if (st.seq != seq || !st.current)
        return;
      auto tg = peer<telegram_actor>(self);
      if (!tg)
        return done_locally(self);
      outgoing_text out;
      out.chat_id = st.current->chat_id;
      out.request_id = st.current->request_id;
      out.parse_mode = "HTML";
      out.text = std::move(r.html);
      // The buttons are opened before the message id is known; the id is
      // filled in when Telegram answers.
      std::vector<std::string> nonces;
      out.reply_markup = keyboard_for(self, view, r, nonces);
      self->request(tg, std::chrono::seconds(60), send_atom_v, std::move(out))
        .then(
          [self, nonces](int64_t message_id) {
            for (auto& b : pages_of(self).open)
              if (std::find(nonces.begin(), nonces.end(), b.nonce)
                  != nonces.end())
                b.message_id = message_id;
          },
          [](caf::error&) {});
      done_locally(self);
    },
    failed);
}

// -- /broadcast ----------------------------------------------------------------

void start_broadcast(user_self self, std::string text) {
  auto& st = self->state;
  auto job = std::make_shared<broadcast_job>();
  job->text = std::move(text);
  job->chat_id = st.current->chat_id;
  job->by = st.user_id;
  run_broadcast(self, job);
  done_locally(self);
}

// -- decisions -----------------------------------------------------------------

void decide(user_self self, user_command cmd,
            const std::vector<std::string>& words) {
  auto& st = self->state;
  auto reply = replier(self);
  const char* name = cmd == user_command::approve ? "approve"
    : cmd == user_command::reject                 ? "reject"
                                                  : "revoke";
  auto id = words.empty() ? std::nullopt : parse_operator_id(words[0]);
  if (!id)
    return reply(std::string{"Usage: /"} + name + " ID"
                 + (cmd == user_command::revoke ? " [purge]" : "")
                 + " (a numeric Telegram user id)");
  std::string action = name;
  if (cmd == user_command::revoke && words.size() > 1 && words[1] == "purge")
    action = "purge";
  auto gate = peer<access_actor>(self);
  if (!gate)
    return reply("Access control is not running.");
  self
    ->request(gate, std::chrono::seconds(30), decide_atom_v, *id, action,
              st.user_id)
    .then(
      [reply, id](const std::string& what) {
        reply("User " + std::to_string(*id) + ": " + what + ".");
      },
      [reply, id, self](caf::error& err) {
        reply("User " + std::to_string(*id) + ": "
              + self->system().render(err));
      });
}

} // namespace

bool sender_is_admin(user_self self) {
  std::string bad;
  auto ids = parse_admin_ids(self->state.ctx->cfg.access.admins, bad);
  return ids
    && std::find(ids->begin(), ids->end(), self->state.user_id) != ids->end();
}

std::string_view operator_help_html() {
  return help_html;
}

void handle_operator_restart(user_self self) {
  auto reply = replier(self);
  auto words = arguments(self->state.current->text);
  auto id = words.empty() ? std::nullopt : parse_operator_id(words[0]);
  if (!id)
    return reply("Usage: /restart ID (a numeric Telegram user id); /restart "
                 "alone restarts your own assistant.");
  auto prov = peer<provisioner_actor>(self);
  auto store = peer<store_actor>(self);
  if (!prov || !store)
    return reply("Containers are run outside this bot: nothing to restart.");
  logger("user")->info("event=operator_restart by={} user={} request_id={}",
                       self->state.user_id, *id,
                       self->state.current->request_id);
  auto timeout = self->state.ctx->cfg.user.ensure_timeout;
  // Only a user the store knows has a container to restart.
  self->request(store, std::chrono::seconds(10), get_atom_v, *id)
    .then(
      [self, prov, reply, id, timeout](const user_lookup& found) {
        if (!found.found)
          return reply("User " + std::to_string(*id)
                       + ": unknown user (no container to restart).");
        self->request(prov, timeout, restart_atom_v, *id)
          .then(
            [reply, id](bool ok) {
              reply("User " + std::to_string(*id) + ": "
                    + (ok ? "container restarted." : "restart failed."));
            },
            [reply, id, self](caf::error& err) {
              reply("User " + std::to_string(*id) + ": "
                    + self->system().render(err));
            });
      },
      [reply, id](caf::error&) {
        reply("User " + std::to_string(*id)
              + ": the store is unavailable, nothing was restarted.");
      });
}

void handle_operator_command(user_self self, user_command cmd) {
  auto& st = self->state;
  auto reply = replier(self);
  if (!sender_is_admin(self)) {
    logger("user")->info("event=operator_command_refused user={} "
                         "request_id={}",
                         st.user_id, st.current->request_id);
    return reply("Unknown command. /help lists what you can use.");
  }
  std::string_view text = st.current->text;
  auto words = arguments(text);
  switch (cmd) {
    case user_command::broadcast: {
      auto start = text.find_first_of(" \t\n");
      auto body = start == std::string_view::npos
        ? std::string{}
        : std::string{text.substr(start + 1)};
      if (body.find_first_not_of(" \t\n") == std::string::npos)
        return reply("Usage: /broadcast TEXT");
      return start_broadcast(self, std::move(body));
    }
    case user_command::users: {
      auto status = words.empty() ? std::string{} : words[0];
      if (!status.empty() && status != "pending" && status != "approved"
          && status != "rejected" && status != "revoked")
        return reply("Usage: /users [pending|approved|rejected|revoked]");
      page_button view;
      view.view = "users";
      view.status = std::move(status);
      return show_listing(self, std::move(view));
    }
    case user_command::containers: {
      page_button view;
      view.view = "containers";
      return show_listing(self, std::move(view));
    }
    case user_command::approve:
    case user_command::reject:
    case user_command::revoke: return decide(self, cmd, words);
    default: return reply("Unknown command. /help lists what you can use.");
  }
}

void press_page(user_self self, const callback_action& action) {
  auto& st = self->state;
  auto& msg = *st.current;
  if (!sender_is_admin(self))
    return press_unknown(self, "page_not_admin");
  auto& open = pages_of(self).open;
  auto i = std::find_if(open.begin(), open.end(), [&](const page_button& b) {
    return b.nonce == action.id;
  });
  if (i == open.end())
    return press_unknown(self, "page_unknown_nonce");
  if (i->message_id != 0 && i->message_id != msg.message_id)
    return press_unknown(self, "page_other_message");
  auto tg = peer<telegram_actor>(self);
  if (!tg || msg.message_id == 0)
    return press_unknown(self, "page_without_message");
  auto view = *i;
  // The message gets new buttons: the old ones of this message are spent,
  // so a second press of the same button (a replay) matches nothing.
  auto message_id = msg.message_id;
  open.erase(std::remove_if(open.begin(), open.end(),
                            [&](const page_button& b) {
                              return b.message_id == message_id
                                || b.nonce == view.nonce;
                            }),
             open.end());
  auto chat_id = msg.chat_id;
  auto callback_id = msg.callback_id;
  auto request_id = msg.request_id;
  logger("user")->info("event=page_pressed user={} view={} page={} "
                       "request_id={}",
                       st.user_id, view.view, view.page, request_id);
  fetch_page(
    self, view, view.page,
    [self, tg, view, chat_id, message_id, callback_id](rendered_page r) {
      auto proto = view;
      proto.message_id = message_id;
      std::vector<std::string> opened;
      auto markup = keyboard_for(self, proto, r, opened);
      auto toast = "Page " + std::to_string(r.page + 1) + " of "
        + std::to_string(r.pages);
      self
        ->request(tg, std::chrono::seconds(60), edit_atom_v, chat_id,
                  message_id, r.html, markup)
        .then([](bool) {}, [](caf::error&) {});
      self
        ->request(tg, std::chrono::seconds(30), answer_atom_v, callback_id,
                  toast)
        .then([](bool) {}, [](caf::error&) {});
    },
    [self, tg, callback_id] {
      self
        ->request(tg, std::chrono::seconds(30), answer_atom_v, callback_id,
                  std::string{"Could not load that page right now."})
        .then([](bool) {}, [](caf::error&) {});
    });
  done_locally(self);
}

} // namespace zaki
