#include "emulators/fake_telegram_state.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace zaki::fakes {

using namespace std::chrono;
using namespace detail;

void fake_telegram::state::flush(std::vector<outgoing>& out) {
  for (auto& o : out) {
    auto res = make_response(o.status, std::move(o.body));
    if (o.retry_after > 0)
      res.set(http::field::retry_after, std::to_string(o.retry_after));
    o.res->send(std::move(res));
  }
  out.clear();
}

void fake_telegram::state::handle(const request& req,
                                  std::shared_ptr<responder> res) {
  std::vector<outgoing> out;
  auto reply = [&](int status, std::string body, int retry_after = 0) {
    out.push_back(
      {res, static_cast<http::status>(status), std::move(body), retry_after});
  };
  // The target is /bot<token>/<method>; the token is never logged or echoed.
  auto target = to_sv(req.target());
  auto path = target.substr(0, target.find('?'));
  if (path.substr(0, 9) == "/file/bot") {
    auto end = path.find('/', 9);
    auto token = path.substr(
      9, end == std::string_view::npos ? std::string_view::npos : end - 9);
    auto file = end == std::string_view::npos ? std::string_view{}
                                              : path.substr(end + 1);
    serve_file(token, file, out, res);
    flush(out);
    return;
  }
  auto slash = path.find('/', 4);
  if (path.substr(0, 4) != "/bot" || slash == std::string_view::npos) {
    reply(404, tg::error(404, "Not Found"));
    flush(out);
    return;
  }
  auto token = path.substr(4, slash - 4);
  auto method = tg::lower(path.substr(slash + 1));
  tg::params ps;
  bool params_ok = tg::parse_params(req, ps);
  const sent_message* sent_now = nullptr;
  std::shared_ptr<std::function<void(const sent_message&)>> observer;
  sent_message copy;
  {
    std::lock_guard<std::mutex> guard{mtx};
    ++method_calls[method];
    if (method == "getupdates") {
      ++polls;
      changed.notify_all();
    }
    if (token != opts.token || unauthorized) {
      reply(401, tg::error(401, "Unauthorized"));
    } else if (!params_ok) {
      reply(400, tg::error(400, "Bad Request: can't parse JSON request"));
    } else {
      auto f = std::find_if(faults.begin(), faults.end(), [&](auto& x) {
        return x.remaining > 0 && (x.method == method || x.method == "*");
      });
      if (f != faults.end()) {
        --f->remaining;
        auto desc = f->status == 429
          ? "Too Many Requests: retry after " + std::to_string(f->retry_after)
          : tg::default_description(f->status);
        reply(f->status, tg::error(f->status, desc, f->retry_after),
              f->retry_after);
        faults.erase(std::remove_if(faults.begin(), faults.end(),
                                    [](auto& x) {
                                      return x.remaining == 0;
                                    }),
                     faults.end());
      } else {
        dispatch(method, ps, res, out, &sent_now);
        if (sent_now && on_send) {
          observer = on_send;
          copy = *sent_now;
        }
      }
    }
  }
  // The observer runs before the answer leaves, outside the lock: a client
  // that has its answer can rely on the observer having seen the message.
  if (observer)
    (*observer)(copy);
  flush(out);
}

void fake_telegram::state::serve_file(std::string_view token,
                                      std::string_view path,
                                      std::vector<outgoing>& out,
                                      std::shared_ptr<responder> res) {
  std::lock_guard<std::mutex> guard{mtx};
  ++method_calls["file"];
  file_requests.emplace_back(path);
  changed.notify_all();
  auto reply = [&](int status, std::string body) {
    out.push_back({res, static_cast<http::status>(status), std::move(body)});
  };
  if (token != opts.token)
    return reply(401, tg::error(401, "Unauthorized"));
  for (auto& [id, f] : files)
    if (f.path == path && !f.gone)
      return reply(200, f.bytes);
  reply(404, tg::error(404, "Not Found"));
}

std::string fake_telegram::state::batch(size_t limit) const {
  std::string result = "[";
  size_t n = 0;
  for (auto& u : queue) {
    if (n == limit)
      break;
    if (n++ > 0)
      result += ',';
    result += u.json;
  }
  result += ']';
  return tg::ok(result);
}

void fake_telegram::state::get_updates(const tg::params& ps,
                                       std::shared_ptr<responder> res,
                                       std::vector<outgoing>& out) {
  auto reply = [&](int status, std::string body) {
    out.push_back({res, static_cast<http::status>(status), std::move(body)});
  };
  if (webhook) {
    reply(409,
          tg::error(409,
                    "Conflict: can't use getUpdates method while "
                    "webhook is active; use deleteWebhook to "
                    "delete the webhook first"));
    return;
  }
  // A held poll whose client went away no longer counts.
  bool held = std::any_of(waiters.begin(), waiters.end(), [](auto& w) {
    return !w.res->answered();
  });
  if (conflict_on_concurrent && held) {
    ++conflicts;
    reply(409, tg::error(409, tg::default_description(409)));
    return;
  }
  // Confirmation: an offset drops every update below it; a negative offset
  // keeps only that many of the newest.
  auto offset = tg::int_param(ps, "offset").value_or(0);
  if (offset > 0) {
    while (!queue.empty() && queue.front().id < offset)
      queue.pop_front();
    confirmed = std::max(confirmed, offset);
  } else if (offset < 0) {
    while (static_cast<int64_t>(queue.size()) > -offset)
      queue.pop_front();
  }
  changed.notify_all();
  auto limit = std::clamp<int64_t>(tg::int_param(ps, "limit").value_or(100), 1,
                                   100);
  auto timeout_s = std::max<int64_t>(tg::int_param(ps, "timeout").value_or(0),
                                     0);
  auto hold = std::min<milliseconds>(
    seconds{std::min<int64_t>(timeout_s, 86400)}, opts.max_poll);
  bool gather = !queue.empty() && hold.count() > 0 && !stopped
    && opts.poll_gather.count() > 0;
  if ((!queue.empty() && !gather) || hold.count() == 0 || stopped) {
    reply(200, batch(static_cast<size_t>(limit)));
    return;
  }
  // Hold the request until an update arrives, the timeout expires, or the
  // client goes away (with updates there already and `poll_gather` set:
  // until the gathering time is over).
  auto id = next_waiter_id++;
  waiters.push_back({id, res, static_cast<size_t>(limit), nullptr, gather});
  arm_waiter_timer(waiters.back(), gather ? opts.poll_gather : hold);
  std::weak_ptr<state> weak = weak_from_this();
  // The hook may run at once (we hold the lock), so it only posts.
  res->on_cancel([weak, id, &ioc = ioc] {
    net::post(ioc, [weak, id] {
      if (auto st = weak.lock())
        st->drop_waiter(id);
    });
  });
}

void fake_telegram::state::arm_waiter_timer(poll_waiter& w, milliseconds d) {
  if (w.timer)
    net::post(w.timer->get_executor(), [t = w.timer] {
      t->cancel();
    });
  // Each timer lives on its own strand, so cancelling it from a test thread
  // is safe; its expiry answers the poll with what there is then.
  w.timer = std::make_shared<net::steady_timer>(net::make_strand(ioc), d);
  std::weak_ptr<state> weak = weak_from_this();
  w.timer->async_wait([weak, id = w.id](boost::system::error_code ec) {
    if (ec)
      return;
    if (auto st = weak.lock())
      st->drop_waiter(id);
  });
}

void fake_telegram::state::wake_waiters(std::vector<outgoing>& out) {
  if (opts.poll_gather.count() > 0) {
    // The first update starts the gathering; later ones join the batch.
    for (auto& w : waiters)
      if (!w.gathering) {
        w.gathering = true;
        arm_waiter_timer(w, opts.poll_gather);
      }
    return;
  }
  for (auto& w : waiters) {
    out.push_back({w.res, http::status::ok, batch(w.limit)});
    net::post(w.timer->get_executor(), [t = w.timer] {
      t->cancel();
    });
  }
  waiters.clear();
}

void fake_telegram::state::drop_waiter(uint64_t id) {
  std::vector<outgoing> out;
  {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = std::find_if(waiters.begin(), waiters.end(), [id](auto& w) {
      return w.id == id;
    });
    if (i == waiters.end())
      return;
    // Timed out, gathered, or the client left: answer with what there is.
    out.push_back({i->res, http::status::ok, batch(i->limit)});
    net::post(i->timer->get_executor(), [t = i->timer] {
      t->cancel();
    });
    waiters.erase(i);
  }
  flush(out);
}

void fake_telegram::state::dispatch(const std::string& method,
                                    const tg::params& ps,
                                    std::shared_ptr<responder> res,
                                    std::vector<outgoing>& out,
                                    const sent_message** sent_now) {
  auto reply = [&](int status, std::string body) {
    out.push_back({res, static_cast<http::status>(status), std::move(body)});
  };
  auto bad = [&](std::string_view what) {
    reply(400, tg::error(400, "Bad Request: " + std::string{what}));
  };
  auto chat_id = tg::int_param(ps, "chat_id");
  auto text = tg::str_param(ps, "text");
  // Shared by sendMessage and editMessageText: Telegram's text checks.
  auto text_error = [&]() -> std::optional<std::string> {
    if (text.empty())
      return "message text is empty";
    if (tg::utf16_length(text) > 4096)
      return "message is too long";
    auto mode = tg::lower(tg::str_param(ps, "parse_mode"));
    if (mode.empty())
      return std::nullopt;
    if (parse_error || text.find("tg:badentities") != std::string::npos)
      return "can't parse entities: Unsupported start tag \"bad\" at byte "
             "offset 0";
    if (mode == "html" && opts.validate_html)
      return tg::check_html(text);
    return std::nullopt;
  };
  auto now = steady_clock::now();
  if (method == "getupdates") {
    get_updates(ps, res, out);
  } else if (method == "sendmessage") {
    if (!chat_id)
      return bad("chat not found");
    if (auto err = text_error())
      return bad(*err);
    auto id = next_message_id++;
    auto markup = tg::str_param(ps, "reply_markup");
    sent.push_back({*chat_id, id, text, tg::str_param(ps, "parse_mode"), markup,
                    now, tg::int_param(ps, "reply_to_message_id").value_or(0)});
    messages[id] = {*chat_id, text, markup};
    *sent_now = &sent.back();
    changed.notify_all();
    reply(200,
          tg::ok(tg::bot_message_json(bot_id, id, *chat_id, text, markup)));
  } else if (method == "editmessagetext") {
    auto msg_id = tg::int_param(ps, "message_id");
    if (!chat_id || !msg_id)
      return bad("message to edit not found");
    auto i = messages.find(*msg_id);
    if (i == messages.end() || i->second.chat_id != *chat_id)
      return bad("message to edit not found");
    if (auto err = text_error())
      return bad(*err);
    auto markup = tg::str_param(ps, "reply_markup");
    if (edit_flood) {
      auto last = last_edit.find(*chat_id);
      if (last != last_edit.end() && now - last->second < seconds(1)) {
        ++edit_429s;
        return reply(429,
                     tg::error(429, "Too Many Requests: retry after 1", 1));
      }
    }
    if (i->second.text == text && i->second.markup == markup) {
      ++not_modified;
      return bad("message is not modified: specified new message content "
                 "and reply markup are exactly the same as a current content "
                 "and reply markup of the message");
    }
    last_edit[*chat_id] = now;
    i->second.text = text;
    i->second.markup = markup;
    calls.push_back({method, *chat_id, *msg_id, text, {}, now});
    changed.notify_all();
    reply(
      200,
      tg::ok(tg::bot_message_json(bot_id, *msg_id, *chat_id, text, markup)));
  } else if (method == "sendmessagedraft") {
    // Bot API 9.5+: private chats only; groups get TEXTDRAFT_PEER_INVALID.
    auto draft_id = tg::int_param(ps, "draft_id");
    if (!chat_id || *chat_id < 0)
      return bad("TEXTDRAFT_PEER_INVALID");
    if (!draft_id || *draft_id == 0)
      return bad("draft_id must be non-zero");
    if (tg::utf16_length(text) > 4096)
      return bad("message is too long");
    calls.push_back(
      {method, *chat_id, 0, text, std::to_string(*draft_id), now});
    changed.notify_all();
    reply(200, tg::ok("true"));
  } else if (method == "deletemessage") {
    auto msg_id = tg::int_param(ps, "message_id");
    auto i = msg_id ? messages.find(*msg_id) : messages.end();
    if (!chat_id || i == messages.end() || i->second.chat_id != *chat_id)
      return bad("message to delete not found");
    messages.erase(i);
    calls.push_back({method, *chat_id, *msg_id, {}, {}, now});
    changed.notify_all();
    reply(200, tg::ok("true"));
  } else if (method == "answercallbackquery") {
    auto qid = tg::str_param(ps, "callback_query_id");
    if (queries.erase(qid) == 0)
      return bad("query is too old and response timeout expired or query ID "
                 "is invalid");
    calls.push_back({method, 0, 0, text, qid, now});
    changed.notify_all();
    reply(200, tg::ok("true"));
  } else if (method == "sendchataction") {
    auto action = tg::str_param(ps, "action");
    if (!chat_id)
      return bad("chat not found");
    if (action.empty())
      return bad("wrong parameter action in request");
    calls.push_back({method, *chat_id, 0, {}, action, now});
    changed.notify_all();
    reply(200, tg::ok("true"));
  } else if (method == "senddocument") {
    // Recorded as a call: text is the file name, data the file's bytes.
    auto doc = ps.find("document");
    if (!chat_id)
      return bad("chat not found");
    if (doc == ps.end() || doc->second.empty())
      return bad("file must be non-empty");
    auto id = next_message_id++;
    calls.push_back({method, *chat_id, id,
                     tg::str_param(ps, "document_filename"), doc->second, now});
    changed.notify_all();
    reply(200, tg::ok(tg::bot_message_json(bot_id, id, *chat_id, "", "")));
  } else if (method == "getfile") {
    auto id = tg::str_param(ps, "file_id");
    auto f = files.find(id);
    if (f == files.end())
      return bad("invalid file_id");
    auto size = f->second.reported_size >= 0
      ? f->second.reported_size
      : static_cast<int64_t>(f->second.bytes.size());
    reply(200,
          tg::ok(R"({"file_id":")" + id + R"(","file_unique_id":"u)"
                 + std::to_string(size) + R"(","file_size":)"
                 + std::to_string(size) + R"(,"file_path":")" + f->second.path
                 + R"("})"));
  } else if (method == "getme") {
    reply(200, tg::ok(tg::bot_json(bot_id)));
  } else if (method == "deletewebhook") {
    webhook = false;
    if (tg::str_param(ps, "drop_pending_updates") == "true")
      queue.clear();
    reply(200, tg::ok("true"));
  } else if (method == "setwebhook") {
    webhook = true;
    reply(200, tg::ok("true"));
  } else if (method == "getwebhookinfo") {
    reply(200,
          tg::ok(R"({"url":"","has_custom_certificate":false,)"
                 R"("pending_update_count":)"
                 + std::to_string(queue.size()) + "}"));
  } else if (method == "setmycommands" || method == "deletemycommands") {
    // Recorded: text = the commands, data = the scope (JSON as sent).
    calls.push_back({method, 0, 0, tg::str_param(ps, "commands"),
                     tg::str_param(ps, "scope"), now});
    changed.notify_all();
    reply(200, tg::ok("true"));
  } else {
    reply(404, tg::error(404, "Not Found"));
  }
}

} // namespace zaki::fakes
