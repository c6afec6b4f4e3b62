#include "emulators/telegram_wire.hpp"

#include <chrono>
#include <cstdlib>
#include <vector>

#include "emulators/json_value.hpp"
#include "json/writer.hpp"

namespace zaki::fakes::tg {

namespace {

void parse_form(std::string_view s, params& out) {
  while (!s.empty()) {
    auto amp = s.find('&');
    auto pair = s.substr(0, amp);
    auto eq = pair.find('=');
    if (!pair.empty())
      out[url_decode(pair.substr(0, eq))] = eq == std::string_view::npos
        ? std::string{}
        : url_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos)
      break;
    s.remove_prefix(amp + 1);
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

bool parse_params(const request& req, params& out) {
  auto target = to_sv(req.target());
  if (auto q = target.find('?'); q != std::string_view::npos)
    parse_form(target.substr(q + 1), out);
  const auto& body = req.body();
  if (body.empty())
    return true;
  auto type = lower(to_sv(req[http::field::content_type]));
  auto first = body.find_first_not_of(" \t\r\n");
  bool looks_json = first != std::string::npos && body[first] == '{';
  if (type.find("json") != std::string::npos || looks_json) {
    auto doc = parse_json(body);
    if (!doc || doc->kind != json_value::object_kind)
      return false;
    for (auto& [k, v] : doc->members)
      if (v.kind != json_value::null_kind)
        out[k] = v.as_text();
    return true;
  }
  if (type.find("multipart") != std::string::npos) {
    // Uploads: each part becomes a field (a file part's name goes into
    // "<field>_filename"); other fields come from the query as well.
    auto b = type.find("boundary=");
    if (b == std::string::npos)
      return false;
    auto boundary = "--"
      + std::string{to_sv(req[http::field::content_type])}.substr(b + 9);
    for (auto at = body.find(boundary); at != std::string::npos;) {
      auto start = at + boundary.size();
      if (body.compare(start, 2, "--") == 0)
        break;
      auto head_end = body.find("\r\n\r\n", start);
      auto next = body.find(boundary, start);
      if (head_end == std::string::npos || next == std::string::npos)
        return false;
      auto head = body.substr(start, head_end - start);
      auto value = body.substr(head_end + 4, next - head_end - 4);
      if (value.size() >= 2 && value.compare(value.size() - 2, 2, "\r\n") == 0)
        value.resize(value.size() - 2);
      auto quoted = [&head](const std::string& key) {
        auto k = head.find(key + "=\"");
        if (k == std::string::npos)
          return std::string{};
        auto from = k + key.size() + 2;
        return head.substr(from, head.find('"', from) - from);
      };
      auto name = quoted("name");
      if (!name.empty()) {
        out[name] = value;
        if (head.find("filename=") != std::string::npos)
          out[name + "_filename"] = quoted("filename");
      }
      at = next;
    }
    return true;
  }
  parse_form(body, out);
  return true;
}

std::optional<int64_t> int_param(const params& ps, const std::string& key) {
  auto i = ps.find(key);
  if (i == ps.end() || i->second.empty() || i->second.size() > 20)
    return std::nullopt;
  char* end = nullptr;
  auto v = std::strtoll(i->second.c_str(), &end, 10);
  if (end != i->second.c_str() + i->second.size())
    return std::nullopt;
  return static_cast<int64_t>(v);
}

std::string str_param(const params& ps, const std::string& key) {
  auto i = ps.find(key);
  return i == ps.end() ? std::string{} : i->second;
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0
               && hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::optional<std::string> check_html(std::string_view text) {
  // Mirrors tdlib's parse_html closely enough to catch unescaped '<' and
  // unbalanced tags; a bare '&' is kept literally there too.
  static const std::vector<std::string_view> allowed
    = {"a",        "b",       "strong", "i",   "em",        "u",
       "ins",      "s",       "strike", "del", "span",      "tg-spoiler",
       "tg-emoji", "tg-time", "code",   "pre", "blockquote"};
  auto is_name = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
      || (c >= '0' && c <= '9') || c == '-';
  };
  std::vector<std::string> open;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '<')
      continue;
    auto begin = i;
    bool closing = i + 1 < text.size() && text[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    auto name_begin = j;
    while (j < text.size() && is_name(text[j]))
      ++j;
    auto name = lower(text.substr(name_begin, j - name_begin));
    auto gt = text.find('>', j);
    auto at = " at byte offset " + std::to_string(begin);
    if (closing) {
      if (open.empty() || gt == std::string_view::npos)
        return "can't parse entities: Unexpected end tag" + at;
      if (open.back() != name)
        return "can't parse entities: Unmatched end tag" + at
          + ", expected \"</" + open.back() + ">\", found \"</" + name + ">\"";
      open.pop_back();
    } else {
      bool ok = false;
      for (auto a : allowed)
        ok = ok || a == name;
      if (!ok)
        return "can't parse entities: Unsupported start tag \"" + name + "\""
          + at;
      if (gt == std::string_view::npos)
        return "can't parse entities: Unclosed start tag" + at;
      open.push_back(name);
    }
    i = gt;
  }
  if (!open.empty())
    return "can't parse entities: Can't find end tag corresponding to start "
           "tag \""
      + open.back() + "\"";
  return std::nullopt;
}

int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

std::string user_json(int64_t user_id) {
  json_writer w;
  w.begin_object()
    .field("id", user_id)
    .field("is_bot", false)
    .field("first_name", "Tester")
    .field("username", "tester_" + std::to_string(user_id))
    .field("language_code", "en")
    .end_object();
  return w.take();
}

std::string bot_json(int64_t bot_id) {
  json_writer w;
  w.begin_object()
    .field("id", bot_id)
    .field("is_bot", true)
    .field("first_name", "Zaki Test Bot")
    .field("username", "zaki_test_bot")
    .field("can_join_groups", true)
    .field("can_read_all_group_messages", false)
    .field("supports_inline_queries", false)
    .end_object();
  return w.take();
}

std::string chat_json(int64_t chat_id) {
  json_writer w;
  w.begin_object().field("id", chat_id);
  if (chat_id > 0)
    w.field("first_name", "Tester")
      .field("username", "tester_" + std::to_string(chat_id))
      .field("type", "private");
  else
    w.field("title", "Test group")
      .field("type", chat_id < -1000000000000 ? "supergroup" : "group");
  w.end_object();
  return w.take();
}

std::string bot_message_json(int64_t bot_id, int64_t message_id,
                             int64_t chat_id, std::string_view text,
                             std::string_view reply_markup) {
  json_writer w;
  w.begin_object()
    .field("message_id", message_id)
    .key("from")
    .raw(bot_json(bot_id))
    .key("chat")
    .raw(chat_json(chat_id))
    .field("date", unix_now())
    .field("text", text);
  if (!reply_markup.empty()) {
    auto doc = parse_json(reply_markup);
    if (doc && doc->kind == json_value::object_kind)
      w.key("reply_markup").raw(reply_markup);
  }
  w.end_object();
  return w.take();
}

std::string text_update_json(int64_t update_id, int64_t message_id,
                             int64_t user_id, std::string_view text) {
  json_writer w;
  w.begin_object()
    .field("update_id", update_id)
    .key("message")
    .begin_object()
    .field("message_id", message_id)
    .key("from")
    .raw(user_json(user_id))
    .key("chat")
    .raw(chat_json(user_id))
    .field("date", unix_now())
    .field("text", text)
    .end_object()
    .end_object();
  return w.take();
}

std::string callback_update_json(int64_t update_id, int64_t bot_id,
                                 std::string_view query_id, int64_t user_id,
                                 int64_t message_id, std::string_view data) {
  json_writer w;
  w.begin_object()
    .field("update_id", update_id)
    .key("callback_query")
    .begin_object()
    .field("id", query_id)
    .key("from")
    .raw(user_json(user_id))
    .key("message")
    .raw(bot_message_json(bot_id, message_id, user_id, "(button message)", {}))
    .field("chat_instance", "-" + std::to_string(user_id * 7 + 3))
    .field("data", data)
    .end_object()
    .end_object();
  return w.take();
}

std::string ok(std::string_view result) {
  std::string out = R"({"ok":true,"result":)";
  out += result;
  out += '}';
  return out;
}

std::string error(int code, std::string_view description, int retry_after) {
  json_writer w;
  w.begin_object()
    .field("ok", false)
    .field("error_code", code)
    .field("description", description);
  if (retry_after > 0)
    w.key("parameters")
      .begin_object()
      .field("retry_after", retry_after)
      .end_object();
  w.end_object();
  return w.take();
}

std::string default_description(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden: bot was blocked by the user";
    case 404: return "Not Found";
    case 409:
      return "Conflict: terminated by other getUpdates request; make sure "
             "that only one bot instance is running";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error " + std::to_string(status);
  }
}

} // namespace zaki::fakes::tg
