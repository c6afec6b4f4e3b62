#define CAF_SUITE e2e.stream
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <thread>

#include "tests/fixtures/checks.hpp"
#include "tests/fixtures/router_fixture.hpp"

// Streamed answers end to end: the real router against the fake gateway
// speaking Server-Sent Events (slow, fast, failing midway, stalling, an
// error event under 200) and the fake Bot API, which records every
// sendMessage and editMessageText and answers 429 to a second edit within a
// second in a chat. Checked as the user sees it: the preview grows, the
// final text is exact, edits never overlap nor come too fast, failures keep
// the text shown and add an error with Retry.

using namespace zaki;
using namespace zaki::test;
using namespace std::chrono;

namespace {

constexpr int64_t user = 7001;

struct fixture : router_fixture {
  fixture() {
    add_user(user);
    cfg().stream.mode = "edit";
    // Answers here stream for up to 10 s; the deadline bounds the whole.
    cfg().gateway.timeout = seconds(30);
    cfg().stream.edit_interval = milliseconds(1000);
    cfg().stream.first_preview = milliseconds(300);
    telegram.set_edit_flood_limit(true);
  }

  std::vector<fakes::api_call> edits() {
    return telegram.calls("editMessageText");
  }

  /// Returns the current text of the first message sent to the user.
  std::string first_message_text() {
    auto sent = telegram.sent_to(user);
    if (sent.empty())
      return "<none>";
    return telegram.message_text(sent.front().message_id).value_or("<gone>");
  }
};

/// A user text whose echo is long enough to stream for about `seconds_`.
std::string slow_text(const std::string& tag, int events, int gap_ms) {
  std::string text = tag + " gw:slow=" + std::to_string(gap_ms)
    + " gw:piece=10 ";
  while (text.size() < static_cast<size_t>(events) * 10)
    text += "words flow ";
  text += "end";
  return text;
}

} // namespace

/// Returns the callback data of the first button in `markup`, or empty.
std::string button_data(const std::string& markup) {
  static const std::string key = "\"callback_data\":\"";
  auto pos = markup.find(key);
  if (pos == std::string::npos)
    return {};
  pos += key.size();
  return markup.substr(pos, markup.find('"', pos) - pos);
}

CAF_TEST_FIXTURE_SCOPE(stream_tests, fixture)

CAF_TEST(a slow answer grows in one message and ends exact) {
  start();
  auto text = slow_text("u7001-m1", 30, 100); // about 3 s
  telegram.push_text(user, text);
  CAF_REQUIRE(eventually([&] {
    return telegram.sent_to(user).size() >= 1;
  }));
  auto preview = telegram.sent_to(user).front();
  auto answer = "echo: " + text;
  // The preview is plain text: the beginning of the answer.
  CAF_CHECK_EQUAL(answer.compare(0, preview.text.size(), preview.text), 0);
  CAF_CHECK_LESS(preview.text.size(), answer.size());
  CAF_CHECK(eventually([&] {
    return first_message_text() == answer;
  }));
  CAF_CHECK_EQUAL(first_message_text(), answer);
  // One message, grown by edits; never two edits within a second.
  CAF_CHECK_EQUAL(telegram.sent_to(user).size(), 1u);
  auto xs = edits();
  CAF_CHECK_GREATER_OR_EQUAL(xs.size(), 2u);
  CAF_CHECK_LESS_OR_EQUAL(xs.size(), 6u);
  CAF_CHECK_EQUAL(telegram.edit_flood_429s(), 0u);
  CAF_CHECK_EQUAL(telegram.not_modified(), 0u);
  for (size_t i = 1; i < xs.size(); ++i)
    CAF_CHECK(xs[i].at - xs[i - 1].at >= milliseconds(1000));
  // Each edit shows more of the same text.
  for (size_t i = 1; i < xs.size(); ++i)
    CAF_CHECK_GREATER_OR_EQUAL(xs[i].text.size(), xs[i - 1].text.size());
  CAF_CHECK_EQUAL(gateway.stats().streamed, 1u);
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST(a fast answer goes out as one message) {
  start();
  telegram.push_text(user, "u7001-m1 short");
  CAF_REQUIRE(telegram.wait_for_sent_to(user, 1, seconds(10)));
  // The final text replaced whatever preview there was: one message.
  CAF_CHECK(eventually([&] {
    return first_message_text() == "echo: u7001-m1 short";
  }));
  CAF_CHECK_EQUAL(telegram.sent_to(user).size(), 1u);
  CAF_CHECK_EQUAL(telegram.not_modified(), 0u);
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST(mode off sends one message at the end) {
  cfg().stream.mode = "off";
  start();
  telegram.push_text(user, slow_text("u7001-m1", 12, 100));
  CAF_REQUIRE(telegram.wait_for_sent_to(user, 1, seconds(10)));
  std::this_thread::sleep_for(milliseconds(300));
  CAF_CHECK_EQUAL(telegram.sent_to(user).size(), 1u);
  CAF_CHECK(edits().empty());
  CAF_CHECK(contains(telegram.sent_to(user).front().text, " end"));
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST(gateway stream false asks for one JSON answer) {
  cfg().stream.gateway = false;
  start();
  telegram.push_text(user, "u7001-m1 hello there");
  CAF_REQUIRE(telegram.wait_for_sent_to(user, 1, seconds(10)));
  CAF_CHECK_EQUAL(gateway.stats().streamed, 0u);
  // A copy: CAF_CHECK_EQUAL keeps references past the full expression.
  auto text = telegram.sent_to(user).front().text;
  CAF_CHECK_EQUAL(text, "echo: u7001-m1 hello there");
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST(a stream failing midway keeps its text and adds an error) {
  start();
  telegram.push_text(user, slow_text("u7001-m1 gw:midfail", 30, 60));
  // The preview, then the error with Retry; the gateway is not asked again.
  CAF_REQUIRE(telegram.wait_for_sent_to(user, 2, seconds(15)));
  auto sent = telegram.sent_to(user);
  CAF_CHECK(contains(first_message_text(), "echo: u7001-m1"));
  CAF_CHECK(contains(sent[1].reply_markup, "z1:r:"));
  CAF_CHECK_EQUAL(gateway.stats().chat_requests, 1u);
  // The Stop button went with the final edit.
  CAF_CHECK(eventually([&] {
    return !contains(telegram.message_markup(sent[0].message_id), "z1:s:");
  }));
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST(an error event under 200 after text is a failure with Retry) {
  start();
  telegram.push_text(user, slow_text("u7001-m1 gw:sseerror", 30, 60));
  CAF_REQUIRE(telegram.wait_for_sent_to(user, 2, seconds(15)));
  auto sent = telegram.sent_to(user);
  CAF_CHECK(!contains(first_message_text(), "upstream provider error"));
  CAF_CHECK(contains(sent[1].reply_markup, "z1:r:"));
  CAF_CHECK_EQUAL(gateway.stats().chat_requests, 1u);
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST(a stalled stream is a timeout) {
  cfg().stream.idle_timeout = milliseconds(800);
  start();
  telegram.push_text(user, slow_text("u7001-m1 gw:stall", 30, 50));
  CAF_REQUIRE(telegram.wait_for_sent_to(user, 2, seconds(15)));
  auto sent = telegram.sent_to(user);
  CAF_MESSAGE("error after the stall: " << sent[1].text);
  CAF_CHECK(contains(sent[1].text, "TIMEOUT"));
  CAF_CHECK_EQUAL(gateway.stats().chat_requests, 1u);
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST(a failure before any text is retried as before) {
  start();
  gateway.behavior().fail_next(502, 1);
  telegram.push_text(user, "u7001-m1 retried");
  CAF_REQUIRE(telegram.wait_for_sent_to(user, 1, seconds(10)));
  CAF_CHECK(eventually([&] {
    return first_message_text() == "echo: u7001-m1 retried";
  }));
  CAF_CHECK_EQUAL(gateway.stats().chat_requests, 2u);
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST(typing goes on until the first preview) {
  // Text arrives from the start, but 30 characters only after about 1.5 s
  // and first-preview is later still: "typing" must go on meanwhile (it
  // stopped at the first text before), and stop once the preview is out.
  cfg().user.typing_delay = milliseconds(0);
  cfg().user.typing_interval = milliseconds(200);
  cfg().stream.first_preview = seconds(5);
  start();
  telegram.push_text(user,
                     "u7001-m1 gw:slow=150 gw:piece=3 typing until preview");
  CAF_REQUIRE(telegram.wait_for_sent_to(user, 1, seconds(10)));
  auto preview_at = telegram.sent_to(user).front().at;
  CAF_CHECK(eventually([&] {
    return first_message_text()
      == "echo: u7001-m1 gw:slow=150 gw:piece=3 typing until preview";
  }));
  size_t before = 0;
  size_t after = 0;
  for (auto& c : telegram.calls("sendChatAction"))
    if (c.chat_id == user)
      ++(c.at < preview_at ? before : after);
  CAF_CHECK_GREATER_OR_EQUAL(before, 3u);
  // One may have been under way as the preview went out.
  CAF_CHECK_LESS_OR_EQUAL(after, 1u);
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST(stop closes the gateway request and keeps the text) {
  start();
  telegram.push_text(user, slow_text("u7001-m1", 100, 100)); // ~10 s
  CAF_REQUIRE(telegram.wait_for_sent_to(user, 1, seconds(10)));
  auto preview = telegram.sent_to(user).front();
  auto data = button_data(preview.reply_markup);
  CAF_REQUIRE(contains(data, "z1:s:"));
  telegram.push_callback(user, data, preview.message_id);
  // The gateway sees the client go away (OpenClaw cancels the run).
  CAF_CHECK(eventually(
    [&] {
      return gateway.stats().in_flight == 0;
    },
    seconds(5)));
  CAF_CHECK(eventually([&] {
    return contains(first_message_text(), "Stopped");
  }));
  auto text = first_message_text();
  CAF_CHECK(contains(text, "echo: u7001-m1"));
  CAF_CHECK(!contains(text, " end"));
  CAF_CHECK(eventually([&] {
    return !contains(telegram.message_markup(preview.message_id), "z1:s:");
  }));
  // The next message proceeds at once.
  telegram.push_text(user, "u7001-m2 next");
  CAF_CHECK(eventually([&] {
    for (auto& m : telegram.sent_to(user))
      if (telegram.message_text(m.message_id).value_or("")
          == "echo: u7001-m2 next")
        return true;
    return false;
  }));
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST(slash stop works as the button) {
  start();
  telegram.push_text(user, slow_text("u7001-m1", 100, 100));
  CAF_REQUIRE(telegram.wait_for_sent_to(user, 1, seconds(10)));
  telegram.push_text(user, "/stop");
  CAF_CHECK(eventually([&] {
    return contains(first_message_text(), "Stopped");
  }));
  CAF_CHECK(eventually([&] {
    return gateway.stats().in_flight == 0;
  }));
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST(a 429 on an edit pauses the edits) {
  start();
  telegram.rate_limit_next("editMessageText", 2);
  telegram.push_text(user, slow_text("u7001-m1", 40, 100)); // ~4 s
  CAF_REQUIRE(telegram.wait_for_sent_to(user, 1, seconds(10)));
  CAF_CHECK(eventually([&] {
    return contains(first_message_text(), " end");
  }));
  auto xs = edits();
  // The refused edit is not recorded; the next one waited out the 2 s.
  CAF_REQUIRE_GREATER_OR_EQUAL(xs.size(), 1u);
  auto preview_at = telegram.sent_to(user).front().at;
  CAF_CHECK(xs.front().at - preview_at >= milliseconds(2900));
  CAF_CHECK_EQUAL(telegram.sent_to(user).size(), 1u);
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST(draft mode streams drafts then sends the answer once) {
  cfg().stream.mode = "draft";
  start();
  auto text = slow_text("u7001-m1", 30, 100);
  telegram.push_text(user, text);
  CAF_REQUIRE(telegram.wait_for_sent_to(user, 1, seconds(15)));
  auto drafts = telegram.calls("sendMessageDraft");
  CAF_CHECK_GREATER_OR_EQUAL(drafts.size(), 2u);
  // Every draft shows a beginning of the answer, under one draft id.
  auto answer = "echo: " + text;
  for (auto& d : drafts) {
    CAF_CHECK_EQUAL(answer.compare(0, d.text.size(), d.text), 0);
    CAF_CHECK_EQUAL(d.data, drafts.front().data);
  }
  CAF_CHECK_EQUAL(telegram.sent_to(user).size(), 1u);
  auto sent = telegram.sent_to(user).front().text;
  CAF_CHECK_EQUAL(sent, answer);
  CAF_CHECK(edits().empty());
  CAF_CHECK_EQUAL(stop(), 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
