// The Telegram-eye transcript of the demo (`--demo.transcript=FILE`): what
// each chat saw, from the Bot API emulator's records, with what the
// simulated users sent in between.

#include <algorithm>
#include <cstdio>
#include <fstream>

#include <simdjson.h>

#include "app/demo/demo_world.hpp"
#include "json/parse.hpp"

namespace zaki::demo {

namespace {

struct transcript_line {
  std::chrono::steady_clock::time_point at;
  int64_t chat = 0;
  /// "->" from the user to the bot, "<-" from the bot.
  const char* direction = "<-";
  std::string method;
  std::string text;
  std::string buttons;
};

/// Returns the button labels of an inline keyboard, "[a | b]", or "".
std::string buttons_of(const std::string& markup) {
  if (markup.empty())
    return {};
  auto& parser = thread_dom_parser();
  simdjson::dom::element doc;
  simdjson::dom::array rows;
  if (parser.parse(markup).get(doc)
      || doc["inline_keyboard"].get_array().get(rows))
    return {};
  std::string out;
  for (auto row : rows) {
    simdjson::dom::array buttons;
    if (row.get_array().get(buttons))
      continue;
    for (auto b : buttons) {
      std::string_view label;
      std::string_view data;
      if (b["text"].get_string().get(label))
        continue;
      out += out.empty() ? "[" : " | ";
      out += label;
      if (!b["callback_data"].get_string().get(data)) {
        out += " <";
        out += data;
        out += ">";
      }
    }
  }
  return out.empty() ? out : out + "]";
}

/// One line of text: newlines shown as "\n".
std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text)
    if (c == '\n')
      out += "\\n";
    else
      out += c;
  return out;
}

std::string role_of(const demo_world& world, int64_t chat) {
  if (world.access.enabled) {
    if (chat == world.access.admin)
      return "admin";
    if (chat == world.access.newcomer)
      return "newcomer";
    if (chat == world.access.stranger)
      return "stranger";
  }
  return "user";
}

} // namespace

int64_t write_transcript(demo_world& world, const std::string& path) {
  std::vector<transcript_line> lines;
  for (auto& m : world.telegram.sent())
    lines.push_back({m.at, m.chat_id, "<-", "sendMessage", m.text,
                     buttons_of(m.reply_markup)});
  for (auto& c : world.telegram.calls()) {
    if (c.method == "editmessagetext")
      lines.push_back(
        {c.at, c.chat_id, "<-",
         "editMessageText #" + std::to_string(c.message_id), c.text,
         buttons_of(world.telegram.message_markup(c.message_id))});
    else if (c.method == "answercallbackquery")
      lines.push_back({c.at,
                       world.telegram.query_user(c.data),
                       "<-",
                       "answerCallbackQuery",
                       c.text,
                       {}});
    else if (c.method == "deletemessage")
      lines.push_back({c.at,
                       c.chat_id,
                       "<-",
                       "deleteMessage #" + std::to_string(c.message_id),
                       {},
                       {}});
  }
  {
    std::lock_guard<std::mutex> guard{world.inbound_mtx};
    for (auto& e : world.inbound)
      lines.push_back({e.at, e.chat, "->", e.kind, e.text, {}});
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const transcript_line& x, const transcript_line& y) {
                     return x.at < y.at;
                   });
  std::ofstream out{path, std::ios::trunc};
  if (!out)
    return -1;
  out << "# zaki-router demo: what each chat saw (Bot API calls of the "
         "router and what the simulated users sent), in time order.\n"
      << "# seconds  chat  role  direction  method  text  [buttons "
         "<callback data>]\n";
  for (auto& l : lines) {
    char when[32];
    std::snprintf(when, sizeof(when), "%8.3f",
                  std::chrono::duration<double>(l.at - world.started).count());
    out << when << "  chat=" << l.chat << " " << role_of(world, l.chat) << " "
        << l.direction << " " << l.method;
    if (!l.text.empty())
      out << "  \"" << one_line(l.text) << "\"";
    if (!l.buttons.empty())
      out << "  " << l.buttons;
    out << "\n";
  }
  out.flush();
  return out ? static_cast<int64_t>(lines.size()) : -1;
}

} // namespace zaki::demo
