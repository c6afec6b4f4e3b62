#define CAF_SUITE telegram.stream_edit
#include "caf/test/unit_test.hpp"

#include "telegram/stream_edit.hpp"

#include <string>

// The edit loop of a streamed answer, driven by a hand-moved clock: first
// preview at 30 characters or after first-preview, one call per interval,
// single-flight, identical text skipped, 429 pauses (at most 60 s), and the
// final call after the interval.

using namespace zaki;
using namespace std::chrono_literals;

namespace {

using kind = stream_edit::call_kind;
using clock_type = stream_edit::clock;

struct fixture {
  clock_type::time_point t0 = clock_type::time_point{} + 1000s;
  clock_type::time_point now = t0;
  stream_edit loop{stream_edit::options{}, t0};

  stream_edit::call next() {
    return loop.next(now);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(stream_edit_tests, fixture)

CAF_TEST(the first preview waits for 30 characters) {
  loop.update("Hello");
  CAF_CHECK_EQUAL(next().kind, kind::none);
  CAF_CHECK(loop.due() == t0 + 1s);
  now += 100ms;
  loop.update("Hello, this is an answer that is long enough");
  auto c = next();
  CAF_CHECK_EQUAL(c.kind, kind::send_preview);
  CAF_CHECK_EQUAL(c.text, "Hello, this is an answer that is long enough");
  CAF_CHECK(loop.in_flight());
}

CAF_TEST(deltas appended show the same text as whole updates) {
  loop.append("Hello, this is ");
  CAF_CHECK_EQUAL(next().kind, kind::none);
  loop.append("an answer that is long enough");
  auto c = next();
  CAF_CHECK_EQUAL(c.kind, kind::send_preview);
  CAF_CHECK_EQUAL(c.text, "Hello, this is an answer that is long enough");
  loop.on_success(now, 7);
  // Blanks change nothing visible: skipped, and no edit is due.
  loop.append("\n\n");
  CAF_CHECK_EQUAL(loop.skipped, 1u);
  CAF_CHECK(loop.due() == clock_type::time_point::max());
  loop.append("More.");
  now += 1s;
  c = next();
  CAF_CHECK_EQUAL(c.kind, kind::edit_preview);
  CAF_CHECK_EQUAL(c.text,
                  "Hello, this is an answer that is long enough"
                  "\n\nMore.");
}

CAF_TEST(or goes out after first - preview with any text) {
  CAF_CHECK(loop.due() == clock_type::time_point::max());
  loop.update("Hi");
  now += 999ms;
  CAF_CHECK_EQUAL(next().kind, kind::none);
  now += 1ms;
  CAF_CHECK_EQUAL(next().kind, kind::send_preview);
}

CAF_TEST(edits are single flight and at most one per interval) {
  loop.update(std::string(40, 'a'));
  CAF_REQUIRE_EQUAL(next().kind, kind::send_preview);
  loop.update(std::string(50, 'a'));
  CAF_CHECK_EQUAL(next().kind, kind::none); // in flight
  now += 2s;
  CAF_CHECK_EQUAL(next().kind, kind::none); // still in flight
  loop.on_success(now, 42);
  CAF_CHECK_EQUAL(loop.message_id(), 42);
  // The interval counts from the previous call's answer.
  CAF_CHECK_EQUAL(next().kind, kind::none);
  CAF_CHECK(loop.due() == now + 1s);
  now += 1s;
  auto c = next();
  CAF_CHECK_EQUAL(c.kind, kind::edit_preview);
  CAF_CHECK_EQUAL(c.text.size(), 50u);
  loop.on_success(now);
  loop.update(std::string(60, 'a'));
  CAF_CHECK_EQUAL(next().kind, kind::none);
  CAF_CHECK(loop.due() == now + 1s);
  now += 999ms;
  CAF_CHECK_EQUAL(next().kind, kind::none);
  now += 1ms;
  CAF_CHECK_EQUAL(next().kind, kind::edit_preview);
  CAF_CHECK_EQUAL(loop.calls, 3u);
  CAF_CHECK(c.text.size() == 50u);
}

CAF_TEST(identical text is skipped) {
  loop.update(std::string(40, 'a'));
  CAF_REQUIRE_EQUAL(next().kind, kind::send_preview);
  loop.on_success(now, 7);
  now += 5s;
  loop.update(std::string(40, 'a') + "\n\n");
  CAF_CHECK_EQUAL(next().kind, kind::none);
  CAF_CHECK(loop.due() == clock_type::time_point::max());
  CAF_CHECK_EQUAL(loop.skipped, 1u);
}

CAF_TEST(a 429 pauses the loop for retry_after) {
  loop.update(std::string(40, 'a'));
  CAF_REQUIRE_EQUAL(next().kind, kind::send_preview);
  loop.on_success(now, 7);
  now += 1s;
  loop.update(std::string(45, 'a'));
  CAF_REQUIRE_EQUAL(next().kind, kind::edit_preview);
  loop.on_rate_limited(now, 7s);
  now += 6s;
  CAF_CHECK_EQUAL(next().kind, kind::none);
  now += 1s;
  // The text that was refused goes out again.
  auto c = next();
  CAF_CHECK_EQUAL(c.kind, kind::edit_preview);
  CAF_CHECK_EQUAL(c.text.size(), 45u);
}

CAF_TEST(a 429 above 60 s abandons the preview) {
  loop.update(std::string(40, 'a'));
  CAF_REQUIRE_EQUAL(next().kind, kind::send_preview);
  loop.on_success(now, 7);
  now += 1s;
  loop.update(std::string(45, 'a'));
  CAF_REQUIRE_EQUAL(next().kind, kind::edit_preview);
  loop.on_rate_limited(now, 120s);
  CAF_CHECK_EQUAL(loop.message_id(), 0);
  loop.update(std::string(90, 'a'));
  now += 5s;
  CAF_CHECK_EQUAL(next().kind, kind::none);
  loop.finish();
  CAF_CHECK_EQUAL(next().kind, kind::final);
  CAF_CHECK(loop.done());
}

CAF_TEST(the final call waits for the interval and the in-flight call) {
  loop.update(std::string(40, 'a'));
  CAF_REQUIRE_EQUAL(next().kind, kind::send_preview);
  loop.update(std::string(80, 'a'));
  loop.finish();
  CAF_CHECK_EQUAL(next().kind, kind::none);
  now += 300ms;
  loop.on_success(now, 9);
  CAF_CHECK_EQUAL(next().kind, kind::none);
  CAF_CHECK(loop.due() == t0 + 1300ms);
  now = t0 + 1300ms;
  CAF_CHECK_EQUAL(next().kind, kind::final);
  CAF_CHECK_EQUAL(loop.message_id(), 9);
  CAF_CHECK_EQUAL(next().kind, kind::none);
}

CAF_TEST(a short answer that ends early has no preview) {
  loop.update("Hi!");
  loop.finish();
  CAF_CHECK_EQUAL(next().kind, kind::final);
  CAF_CHECK_EQUAL(loop.message_id(), 0);
  CAF_CHECK_EQUAL(loop.calls, 0u);
}

CAF_TEST(three failures abandon the preview) {
  loop.update(std::string(40, 'a'));
  for (int i = 0; i < 3; ++i) {
    auto c = next();
    CAF_CHECK_EQUAL(c.kind, kind::send_preview);
    loop.on_failure(now);
    now += 1s;
  }
  CAF_CHECK_EQUAL(next().kind, kind::none);
  loop.finish();
  CAF_CHECK_EQUAL(next().kind, kind::final);
}

CAF_TEST(long previews show their first 4000 units) {
  std::string text;
  for (int i = 0; i < 3000; ++i)
    text += "\xF0\x9F\x8C\x8A"; // two UTF-16 units each
  loop.update(text);
  auto c = next();
  CAF_CHECK_EQUAL(c.kind, kind::send_preview);
  CAF_CHECK_EQUAL(c.text.size(), 2000u * 4);
}

CAF_TEST(edit bodies) {
  CAF_CHECK_EQUAL(encode_edit_message_text(5, 9, "a\"b", "", ""),
                  R"({"chat_id":5,"message_id":9,"text":"a\"b",)"
                  R"("link_preview_options":{"is_disabled":true}})");
}

CAF_TEST_FIXTURE_SCOPE_END()
