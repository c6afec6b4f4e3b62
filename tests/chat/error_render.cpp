#define CAF_SUITE chat.error_render
#include "caf/test/unit_test.hpp"

#include "chat/error_render.hpp"

#include "chat/callback_data.hpp"
#include "telegram/html.hpp"

#include <simdjson.h>

#include <string>
#include <vector>

using namespace zaki;

namespace {

constexpr std::string_view rid = "3kq0v7x2m9ab";
constexpr std::string_view help = "https://help.example.org/errors#{code}";

// One button of a parsed inline keyboard.
struct button {
  std::string text;
  std::string callback_data; // empty for URL buttons
  std::string url;           // empty for callback buttons
};

// Parses reply_markup JSON with simdjson and returns its single row; any
// deviation from the InlineKeyboardMarkup shape fails the test.
std::vector<button> parse_keyboard(const std::string& json) {
  std::vector<button> result;
  simdjson::dom::parser parser;
  simdjson::padded_string padded{json};
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc)) {
    CAF_FAIL("reply_markup is not JSON: " << simdjson::error_message(err));
  }
  simdjson::dom::object root;
  CAF_REQUIRE(!doc.get(root));
  CAF_REQUIRE_EQUAL(root.size(), 1u);
  simdjson::dom::array rows;
  CAF_REQUIRE(!root["inline_keyboard"].get(rows));
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  simdjson::dom::array row;
  CAF_REQUIRE(!rows.at(0).get(row));
  for (auto element : row) {
    simdjson::dom::object obj;
    CAF_REQUIRE(!element.get(obj));
    CAF_REQUIRE_EQUAL(obj.size(), 2u);
    button b;
    std::string_view sv;
    CAF_REQUIRE(!obj["text"].get(sv));
    b.text = std::string{sv};
    if (!obj["callback_data"].get(sv))
      b.callback_data = std::string{sv};
    else if (!obj["url"].get(sv))
      b.url = std::string{sv};
    else
      CAF_FAIL("button without callback_data or url");
    result.push_back(std::move(b));
  }
  return result;
}

} // namespace

CAF_TEST(exact payload of a gateway timeout) {
  auto r = render_for_telegram(error_code::gateway_timeout, rid,
                               {std::string{help}, ""});
  CAF_CHECK_EQUAL(r.text_html,
                  "\xE2\x8C\x9B <b>Your assistant is taking too long</b>\n"
                  "\n"
                  "It did not answer in time, so I stopped waiting. It may be "
                  "stuck on a long task, or its AI service may be slow.\n"
                  "\n"
                  "Press Retry to send your message again. For big tasks, try "
                  "smaller steps.\n"
                  "\n"
                  "Error code: <code>ZR-GATEWAY-TIMEOUT</code> \xC2\xB7 "
                  "Request: <code>3kq0v7x2m9ab</code>");
  CAF_CHECK_EQUAL(
    r.reply_markup_json,
    R"({"inline_keyboard":[[{"text":"🔄 Retry","callback_data":"z1:r:3kq0v7x2m9ab"},)"
    R"({"text":"❓ Help","url":"https://help.example.org/errors#ZR-GATEWAY-TIMEOUT"},)"
    R"({"text":"✖️ Dismiss","callback_data":"z1:d:3kq0v7x2m9ab"}]]})");
  auto buttons = parse_keyboard(r.reply_markup_json);
  CAF_REQUIRE_EQUAL(buttons.size(), 3u);
  auto retry = decode_callback(buttons[0].callback_data);
  CAF_REQUIRE(retry);
  CAF_CHECK(retry->kind == callback_kind::retry);
  CAF_CHECK_EQUAL(retry->id, rid);
  CAF_CHECK_EQUAL(buttons[1].url,
                  "https://help.example.org/errors#ZR-GATEWAY-TIMEOUT");
  auto dismiss = decode_callback(buttons[2].callback_data);
  CAF_REQUIRE(dismiss);
  CAF_CHECK(dismiss->kind == callback_kind::dismiss);
  CAF_CHECK_EQUAL(dismiss->id, rid);
}

CAF_TEST(exact payload of a rate limit with an escaped detail) {
  auto r = render_for_telegram(error_code::rate_limited, "0a1b2c3d4e5f",
                               {std::string{help},
                                "Try again in 30 s <after the burst> & relax"});
  CAF_CHECK_EQUAL(r.text_html,
                  "\xF0\x9F\x9A\xA6 <b>You're sending messages very fast</b>\n"
                  "\n"
                  "To keep things fair for everyone, I paused your messages "
                  "for a moment.\n"
                  "<i>Try again in 30 s &lt;after the burst&gt; &amp; "
                  "relax</i>\n"
                  "\n"
                  "Wait a little, then press Retry.\n"
                  "\n"
                  "Error code: <code>ZR-CHAT-RATE-LIMITED</code> \xC2\xB7 "
                  "Request: <code>0a1b2c3d4e5f</code>");
  CAF_CHECK(is_balanced_telegram_html(r.text_html));
  auto buttons = parse_keyboard(r.reply_markup_json);
  CAF_REQUIRE_EQUAL(buttons.size(), 3u);
  CAF_CHECK_EQUAL(buttons[0].text, "\xF0\x9F\x94\x84 Retry");
  CAF_CHECK_EQUAL(buttons[0].callback_data, "z1:r:0a1b2c3d4e5f");
  CAF_CHECK_EQUAL(buttons[2].callback_data, "z1:d:0a1b2c3d4e5f");
}

CAF_TEST(exact payload of a rejected provider key has no retry) {
  auto r = render_for_telegram(error_code::provider_auth_failed, rid,
                               {std::string{help}, ""});
  CAF_CHECK_EQUAL(r.text_html,
                  "\xF0\x9F\x94\x91 <b>Your assistant's AI service rejected "
                  "its key</b>\n"
                  "\n"
                  "Your assistant is running, but the AI service it uses did "
                  "not accept its API key. The key may be wrong, expired or "
                  "revoked.\n"
                  "\n"
                  "If you set up the key yourself, check it with your AI "
                  "provider and update it. Otherwise, contact support with "
                  "the error code below.\n"
                  "\n"
                  "Error code: <code>ZR-PROVIDER-AUTH</code> \xC2\xB7 "
                  "Request: <code>3kq0v7x2m9ab</code>");
  CAF_CHECK_EQUAL(
    r.reply_markup_json,
    R"({"inline_keyboard":[[{"text":"❓ Help","url":"https://help.example.org/errors#ZR-PROVIDER-AUTH"},)"
    R"({"text":"✖️ Dismiss","callback_data":"z1:d:3kq0v7x2m9ab"}]]})");
  // The other 401 reads differently.
  auto other = render_for_telegram(error_code::gateway_unauthorized, rid);
  CAF_CHECK(other.text_html.find("ZR-GATEWAY-UNAUTHORIZED")
            != std::string::npos);
  CAF_CHECK(other.text_html.find("access key does not match")
            != std::string::npos);
}

CAF_TEST(every entry renders valid html and a valid keyboard) {
  for (const auto& e : all_errors()) {
    for (std::string_view url : {std::string_view{help}, std::string_view{}}) {
      render_options opts{std::string{url}, "detail <&> \"q\""};
      auto r = render_for_telegram(e.code, rid, opts);
      CAF_CHECK(is_balanced_telegram_html(r.text_html));
      CAF_CHECK(html_fits(r.text_html, 4096));
      CAF_CHECK(r.text_html.find(e.id) != std::string::npos);
      CAF_CHECK(r.text_html.find(rid) != std::string::npos);
      if (e.operator_only) {
        CAF_CHECK(r.reply_markup_json.empty());
        continue;
      }
      auto buttons = parse_keyboard(r.reply_markup_json);
      size_t expected = e.retry_button + e.dismiss_button
        + (e.help_button && !url.empty());
      CAF_CHECK_EQUAL(buttons.size(), expected);
      for (const auto& b : buttons) {
        CAF_CHECK(!b.text.empty());
        if (b.url.empty()) {
          CAF_CHECK(b.callback_data.size() <= max_callback_data_size);
          auto action = decode_callback(b.callback_data);
          CAF_REQUIRE(action);
          CAF_CHECK_EQUAL(action->id, rid);
        } else {
          CAF_CHECK(is_safe_link_url(b.url));
        }
      }
    }
  }
}

CAF_TEST(unsafe help urls and missing request ids drop buttons) {
  auto r = render_for_telegram(error_code::internal, rid,
                               {"javascript:alert(1)", ""});
  auto buttons = parse_keyboard(r.reply_markup_json);
  CAF_REQUIRE_EQUAL(buttons.size(), 2u);
  CAF_CHECK(buttons[0].url.empty() && buttons[1].url.empty());
  // Without a valid request id there is nothing to retry or dismiss.
  r = render_for_telegram(error_code::internal, "", {});
  CAF_CHECK(r.reply_markup_json.empty());
  CAF_CHECK(r.text_html.find("Request:") == std::string::npos);
  CAF_CHECK(is_balanced_telegram_html(r.text_html));
  r = render_for_telegram(error_code::internal, "<bad&id>",
                          {std::string{help}, ""});
  CAF_CHECK(is_balanced_telegram_html(r.text_html));
  CAF_CHECK(r.text_html.find("<code>&lt;bad&amp;id&gt;</code>")
            != std::string::npos);
  buttons = parse_keyboard(r.reply_markup_json);
  CAF_REQUIRE_EQUAL(buttons.size(), 1u);
  CAF_CHECK(!buttons[0].url.empty());
}

CAF_TEST(plain text fallback) {
  auto t = render_plain_text(error_code::queue_full, rid,
                             "Messages ahead: 4 <x>");
  CAF_CHECK_EQUAL(t,
                  "\xF0\x9F\x93\xAC Too many messages are waiting\n"
                  "\n"
                  "Your assistant still has several messages to answer, and "
                  "I can't queue more right now.\n"
                  "Messages ahead: 4 <x>\n"
                  "\n"
                  "Wait for the answers to arrive, then press Retry to send "
                  "this one.\n"
                  "\n"
                  "Error code: ZR-QUEUE-FULL \xC2\xB7 Request: 3kq0v7x2m9ab");
}

CAF_TEST(json rendering) {
  auto json = render_json(error_code::gateway_timeout, rid,
                          "waited \"90 s\"\n");
  simdjson::dom::parser parser;
  simdjson::padded_string padded{json};
  simdjson::dom::object obj;
  CAF_REQUIRE(!parser.parse(padded).get(obj));
  std::string_view sv;
  CAF_REQUIRE(!obj["code"].get(sv));
  CAF_CHECK_EQUAL(sv, "ZR-GATEWAY-TIMEOUT");
  CAF_REQUIRE(!obj["title"].get(sv));
  CAF_CHECK_EQUAL(sv, describe(error_code::gateway_timeout).title);
  CAF_REQUIRE(!obj["message"].get(sv));
  CAF_CHECK_EQUAL(sv, describe(error_code::gateway_timeout).explanation);
  CAF_REQUIRE(!obj["action"].get(sv));
  CAF_CHECK_EQUAL(sv, describe(error_code::gateway_timeout).user_action);
  CAF_REQUIRE(!obj["request_id"].get(sv));
  CAF_CHECK_EQUAL(sv, rid);
  CAF_REQUIRE(!obj["detail"].get(sv));
  CAF_CHECK_EQUAL(sv, "waited \"90 s\"\n");
  bool retryable = false;
  CAF_REQUIRE(!obj["retryable"].get(retryable));
  CAF_CHECK(retryable);
  int64_t status = 0;
  CAF_REQUIRE(!obj["http_status"].get(status));
  CAF_CHECK_EQUAL(status, 504);
  // No detail, no field; a non-retryable code says so.
  auto other = render_json(error_code::not_provisioned, "", "");
  CAF_CHECK_EQUAL(other.find("detail"), std::string::npos);
  CAF_CHECK(other.find("\"retryable\":false") != std::string::npos);
  CAF_CHECK(other.find("\"request_id\":\"\"") != std::string::npos);
}
