#include "chat/error_render.hpp"

#include "chat/callback_data.hpp"
#include "chat/request_id.hpp"
#include "json/writer.hpp"
#include "telegram/html.hpp"

namespace zaki {

namespace {

constexpr std::string_view retry_label = "\xF0\x9F\x94\x84 Retry";
constexpr std::string_view help_label = "\xE2\x9D\x93 Help";
constexpr std::string_view dismiss_label = "\xE2\x9C\x96\xEF\xB8\x8F Dismiss";
constexpr std::string_view separator = " \xC2\xB7 "; // " · "

std::string help_target(std::string_view url, std::string_view id) {
  std::string out{url};
  auto pos = out.find("{code}");
  if (pos != std::string::npos)
    out.replace(pos, 6, id.data(), id.size());
  // A bad URL in a button makes Telegram reject the whole message, so the
  // error would not arrive at all; drop the button instead.
  if (!is_safe_link_url(out))
    return {};
  return out;
}

std::string keyboard(const error_entry& e, std::string_view request_id,
                     const render_options& options) {
  bool has_id = is_valid_request_id(request_id);
  auto help = e.help_button ? help_target(options.help_url, e.id)
                            : std::string{};
  bool retry = !e.operator_only && e.retry_button && has_id;
  bool dismiss = !e.operator_only && e.dismiss_button && has_id;
  if (e.operator_only)
    help.clear();
  if (!retry && !dismiss && help.empty())
    return {};
  json_writer w;
  w.begin_object().key("inline_keyboard").begin_array().begin_array();
  if (retry)
    w.begin_object()
      .field("text", retry_label)
      .field("callback_data", encode_callback(callback_kind::retry, request_id))
      .end_object();
  if (!help.empty())
    w.begin_object()
      .field("text", help_label)
      .field("url", std::string_view{help})
      .end_object();
  if (dismiss)
    w.begin_object()
      .field("text", dismiss_label)
      .field("callback_data",
             encode_callback(callback_kind::dismiss, request_id))
      .end_object();
  w.end_array().end_array().end_object();
  return w.take();
}

} // namespace

rendered_error render_for_telegram(error_code code, std::string_view request_id,
                                   const render_options& options) {
  const auto& e = describe(code);
  rendered_error result;
  auto& t = result.text_html;
  t.reserve(512);
  t += e.emoji;
  t += " <b>";
  append_html_escaped(t, e.title);
  t += "</b>\n\n";
  append_html_escaped(t, e.explanation);
  if (!options.detail.empty()) {
    t += "\n<i>";
    append_html_escaped(t, options.detail);
    t += "</i>";
  }
  t += "\n\n";
  append_html_escaped(t, e.user_action);
  t += "\n\nError code: <code>";
  t += e.id;
  t += "</code>";
  if (!request_id.empty()) {
    t += separator;
    t += "Request: <code>";
    append_html_escaped(t, request_id);
    t += "</code>";
  }
  result.reply_markup_json = keyboard(e, request_id, options);
  return result;
}

std::string render_plain_text(error_code code, std::string_view request_id,
                              std::string_view detail) {
  const auto& e = describe(code);
  std::string t;
  t.reserve(512);
  t += e.emoji;
  t += ' ';
  t += e.title;
  t += "\n\n";
  t += e.explanation;
  if (!detail.empty()) {
    t += '\n';
    t += detail;
  }
  t += "\n\n";
  t += e.user_action;
  t += "\n\nError code: ";
  t += e.id;
  if (!request_id.empty()) {
    t += separator;
    t += "Request: ";
    t += request_id;
  }
  return t;
}

std::string render_json(error_code code, std::string_view request_id,
                        std::string_view detail) {
  const auto& e = describe(code);
  json_writer w;
  w.begin_object()
    .field("code", e.id)
    .field("title", e.title)
    .field("message", e.explanation)
    .field("action", e.user_action)
    .field("request_id", request_id)
    .field("retryable", e.retry_button)
    .field("http_status", e.http_status);
  if (!detail.empty())
    w.field("detail", detail);
  w.end_object();
  return w.take();
}

} // namespace zaki
