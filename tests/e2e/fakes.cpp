#define CAF_SUITE e2e.fakes

#include "caf/test/unit_test.hpp"

#include <cstdio>
#include <fcntl.h>
#include <future>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "emulators/fake_gateway.hpp"
#include "emulators/fake_telegram.hpp"
#include "emulators/gateway_behavior.hpp"
#include "emulators/json_value.hpp"
#include "emulators/sync_client.hpp"
#include "gateway/sse.hpp"

// The loopback fakes, driven over real HTTP by a blocking client in the test
// thread: Bot API semantics (offsets, long poll, 409, 401, 429, recording)
// and the gateway's answers, failures and per-user checks; then the
// standalone zaki-test-gateway as a child process.

using namespace std::chrono;
using namespace zaki::fakes;
using verb = http::verb;

namespace {

// CAF_CHECK_EQUAL binds its arguments to references: copy anything that
// lives inside a temporary before comparing it.
template <class T>
T copy(const T& x) {
  return x;
}

json_value parse(const std::string& body) {
  auto doc = parse_json(body);
  CAF_REQUIRE(doc.has_value());
  return *doc;
}

struct telegram_fixture {
  telegram_fixture() : tg(make_options()) {
    port = tg.start();
  }

  static fake_telegram_options make_options() {
    fake_telegram_options opts;
    opts.token = "42:secret";
    return opts;
  }

  std::string url(std::string_view method, std::string_view query = {}) {
    std::string out = "/bot42:secret/";
    out += method;
    if (!query.empty()) {
      out += '?';
      out += query;
    }
    return out;
  }

  json_value get_updates(sync_client& c, std::string body) {
    auto res = c.call(verb::post, url("getUpdates"), std::move(body));
    CAF_REQUIRE(res.has_value());
    CAF_REQUIRE_EQUAL(res->result_int(), 200u);
    return parse(res->body());
  }

  fake_telegram tg;
  uint16_t port = 0;
};

std::vector<int64_t> update_ids(const json_value& answer) {
  std::vector<int64_t> out;
  for (auto& u : answer.get("result")->items)
    out.push_back(u.get("update_id")->as_int().value_or(-1));
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(fake_telegram_tests, telegram_fixture)

CAF_TEST(getUpdates confirms by offset and honours limit) {
  sync_client c{port};
  auto a = tg.push_text(7, "one");
  auto b = tg.push_text(7, "two");
  auto d = tg.push_text(8, "три 🙂");
  CAF_CHECK(a < b && b < d);
  auto all = get_updates(c, R"({"offset":0,"timeout":0})");
  CAF_CHECK_EQUAL(update_ids(all), (std::vector<int64_t>{a, b, d}));
  auto& msg = *all.get("result")->items[2].get("message");
  CAF_CHECK_EQUAL(msg.get("text")->text, "три 🙂");
  CAF_CHECK_EQUAL(msg.get("from")->get("id")->as_int().value_or(-1), 8);
  CAF_CHECK_EQUAL(msg.get("chat")->get("id")->as_int().value_or(-1), 8);
  CAF_CHECK_EQUAL(msg.get("chat")->get("type")->text, "private");
  // Without a higher offset nothing is confirmed: the same updates again.
  CAF_CHECK_EQUAL(update_ids(get_updates(c, "{}")).size(), 3u);
  auto rest
    = get_updates(c, R"({"offset":)" + std::to_string(b) + R"(,"limit":1})");
  CAF_CHECK_EQUAL(update_ids(rest), (std::vector<int64_t>{b}));
  CAF_CHECK_EQUAL(tg.confirmed_offset(), b);
  CAF_CHECK_EQUAL(tg.pending_updates(), 2u);
  // Query string and form encoding work as well; method names ignore case.
  auto res = c.call(verb::get,
                    url("GETUPDATES", "offset=" + std::to_string(d + 1)));
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(update_ids(parse(res->body())).size(), 0u);
  CAF_CHECK_EQUAL(tg.pending_updates(), 0u);
  CAF_CHECK_EQUAL(tg.get_updates_calls(), 4u);
}

CAF_TEST(getUpdates long - polls until an update arrives or the timeout) {
  sync_client c{port};
  auto start = steady_clock::now();
  auto empty = get_updates(c, R"({"timeout":1})");
  auto waited = steady_clock::now() - start;
  CAF_CHECK(update_ids(empty).empty());
  CAF_CHECK(waited >= milliseconds(900) && waited < milliseconds(2500));
  auto pusher = std::async(std::launch::async, [this] {
    std::this_thread::sleep_for(milliseconds(200));
    return tg.push_text(5, "wake up");
  });
  start = steady_clock::now();
  auto woken = get_updates(c, R"({"timeout":10})");
  waited = steady_clock::now() - start;
  CAF_CHECK_EQUAL(update_ids(woken), (std::vector<int64_t>{pusher.get()}));
  CAF_CHECK(waited < milliseconds(2000));
}

CAF_TEST(a second concurrent getUpdates gets 409) {
  sync_client first{port};
  sync_client second{port};
  first.send(
    sync_client::request_type{verb::post, url("getUpdates", "timeout=5"), 11});
  CAF_REQUIRE(tg.wait_for_polls(1, seconds(2)));
  std::this_thread::sleep_for(milliseconds(50));
  auto res = second.call(verb::post, url("getUpdates"), R"({"timeout":5})");
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->result_int(), 409u);
  auto err = parse(res->body());
  CAF_CHECK_EQUAL(err.get("ok")->boolean, false);
  CAF_CHECK_EQUAL(err.get("error_code")->as_int().value_or(-1), 409);
  CAF_CHECK(err.get("description")->text.rfind("Conflict: terminated", 0) == 0);
  CAF_CHECK_EQUAL(tg.conflicts(), 1u);
  // The held poll is still served: an update wakes it.
  auto id = tg.push_text(3, "for the first poller");
  auto first_res = first.receive();
  CAF_REQUIRE(first_res);
  CAF_CHECK_EQUAL(first_res->result_int(), 200u);
  CAF_CHECK_EQUAL(update_ids(parse(first_res->body())),
                  (std::vector<int64_t>{id}));
  tg.set_conflict_on_concurrent_poll(false);
  second.send(
    sync_client::request_type{verb::post, url("getUpdates", "timeout=1"), 11});
  CAF_CHECK_EQUAL(first.call(verb::post, url("getUpdates"), "{}")->result_int(),
                  200u);
  CAF_CHECK_EQUAL(second.receive()->result_int(), 200u);
  tg.set_conflict_on_concurrent_poll(true);
  // A held poll whose client disconnects no longer blocks a new poller.
  sync_client third{port};
  third.send(sync_client::request_type{
    verb::post,
    url("getUpdates", "timeout=30&offset=" + std::to_string(id + 1)), 11});
  CAF_REQUIRE(tg.wait_for_polls(4, seconds(2)));
  std::this_thread::sleep_for(milliseconds(50));
  auto blocked = second.call(verb::post, url("getUpdates"), "{}");
  CAF_REQUIRE(blocked);
  CAF_CHECK_EQUAL(blocked->result_int(), 409u);
  third.close();
  std::this_thread::sleep_for(milliseconds(100));
  auto free = second.call(verb::post, url("getUpdates"), "{}");
  CAF_REQUIRE(free);
  CAF_CHECK_EQUAL(free->result_int(), 200u);
}

CAF_TEST(wrong token and revoked token get 401) {
  sync_client c{port};
  auto res = c.call(verb::post, "/bot42:wrong/getMe", "{}");
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->result_int(), 401u);
  CAF_CHECK_EQUAL(
    res->body(),
    R"({"ok":false,"error_code":401,"description":"Unauthorized"})");
  CAF_CHECK_EQUAL(res->body().find("wrong"), std::string::npos);
  auto me = c.call(verb::get, url("getMe"));
  CAF_REQUIRE(me);
  CAF_CHECK_EQUAL(me->result_int(), 200u);
  CAF_CHECK_EQUAL(
    parse(me->body()).get("result")->get("id")->as_int().value_or(-1), 42);
  tg.set_unauthorized(true);
  me = c.call(verb::get, url("getMe"));
  CAF_REQUIRE(me);
  CAF_CHECK_EQUAL(me->result_int(), 401u);
}

CAF_TEST(injected 429 carries retry_after and 5xx count down) {
  sync_client c{port};
  tg.rate_limit_next("sendMessage", 7);
  tg.fail_next("sendmessage", 502, 2);
  std::string body = R"({"chat_id":5,"text":"hi"})";
  auto res = c.call(verb::post, url("sendMessage"), body);
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->result_int(), 429u);
  CAF_CHECK_EQUAL(to_sv((*res)[http::field::retry_after]), "7");
  auto err = parse(res->body());
  CAF_CHECK_EQUAL(
    err.get("parameters")->get("retry_after")->as_int().value_or(-1), 7);
  CAF_CHECK_EQUAL(err.get("description")->text,
                  "Too Many Requests: retry after 7");
  for (int i = 0; i < 2; ++i) {
    res = c.call(verb::post, url("sendMessage"), body);
    CAF_REQUIRE(res);
    CAF_CHECK_EQUAL(res->result_int(), 502u);
  }
  CAF_CHECK_EQUAL(tg.sent_count(), 0u);
  res = c.call(verb::post, url("sendMessage"), body);
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  CAF_CHECK_EQUAL(tg.sent_count(), 1u);
  CAF_CHECK_EQUAL(tg.method_calls("SendMessage"), 4u);
}

CAF_TEST(sendMessage is recorded with markup and checked like Telegram) {
  sync_client c{port};
  std::vector<int64_t> observed;
  tg.on_send([&](const sent_message& m) {
    observed.push_back(m.message_id);
  });
  auto before = steady_clock::now();
  auto res = c.call(verb::post, url("sendMessage"),
                    R"({"chat_id":5000000001,"text":"<b>bold</b> &amp; co",)"
                    R"("parse_mode":"HTML","reply_markup":{"inline_keyboard":)"
                    R"([[{"text":"Retry","callback_data":"z1:r:x"}]]}})");
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  auto msg = parse(res->body());
  auto first_id = msg.get("result")->get("message_id")->as_int().value_or(-1);
  CAF_CHECK_EQUAL(
    msg.get("result")->get("chat")->get("id")->as_int().value_or(-1),
    5000000001);
  // Form encoding, as some clients send it.
  res = c.call(verb::post, url("sendMessage"), "chat_id=7&text=plain+text%21",
               {}, "application/x-www-form-urlencoded");
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  CAF_REQUIRE(tg.wait_for_sent(2, seconds(1)));
  auto sent = tg.sent();
  CAF_CHECK_EQUAL(sent[0].chat_id, 5000000001);
  CAF_CHECK_EQUAL(sent[0].parse_mode, "HTML");
  CAF_CHECK_EQUAL(
    sent[0].reply_markup,
    R"({"inline_keyboard":[[{"text":"Retry","callback_data":"z1:r:x"}]]})");
  CAF_CHECK(sent[0].at >= before);
  CAF_CHECK_EQUAL(sent[1].text, "plain text!");
  CAF_CHECK(sent[1].message_id > first_id);
  CAF_CHECK_EQUAL(tg.sent_to(7).size(), 1u);
  CAF_CHECK_EQUAL(observed.size(), 2u);
  // Telegram's refusals: unescaped HTML, empty and too long texts.
  auto refused = [&](std::string body, std::string_view expected) {
    auto r = c.call(verb::post, url("sendMessage"), std::move(body));
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->result_int(), 400u);
    auto desc = parse(r->body()).get("description")->text;
    CAF_CHECK(desc.find(expected) != std::string::npos);
  };
  refused(R"({"chat_id":7,"text":"a < b","parse_mode":"HTML"})",
          "can't parse entities");
  refused(R"({"chat_id":7,"text":""})", "message text is empty");
  refused(R"({"chat_id":7,"text":")" + std::string(4097, 'x') + "\"}",
          "message is too long");
  tg.set_parse_entities_error(true);
  refused(R"({"chat_id":7,"text":"fine","parse_mode":"HTML"})",
          "can't parse entities");
  CAF_CHECK_EQUAL(tg.sent_count(), 2u);
  // Edits, actions and callback answers are recorded too.
  auto cb = tg.push_callback(7, "z1:r:x", sent[1].message_id);
  auto ups = get_updates(c, "{}");
  CAF_CHECK_EQUAL(copy(update_ids(ups).back()), cb);
  auto query = ups.get("result")->items.back().get("callback_query");
  auto qid = query->get("id")->text;
  res = c.call(verb::post, url("answerCallbackQuery"),
               R"({"callback_query_id":")" + qid + "\"}");
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  res = c.call(verb::post, url("editMessageText"),
               R"({"chat_id":7,"message_id":)"
                 + std::to_string(sent[1].message_id)
                 + R"(,"text":"plain text!"})");
  CAF_CHECK_EQUAL(res->result_int(), 400u); // not modified
  res = c.call(verb::post, url("sendChatAction"),
               R"({"chat_id":7,"action":"typing"})");
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  CAF_CHECK_EQUAL(tg.calls("answerCallbackQuery").size(), 1u);
  CAF_CHECK_EQUAL(copy(tg.calls("sendChatAction").at(0).data), "typing");
  tg.on_send(nullptr);
}

CAF_TEST(raw updates get an update_id) {
  sync_client c{port};
  auto id = tg.push_raw(R"({"edited_message":{"message_id":1}})");
  auto bad = tg.push_raw(R"({"message":{"from":"not an object"}})");
  auto ups = get_updates(c, "{}");
  CAF_CHECK_EQUAL(update_ids(ups), (std::vector<int64_t>{id, bad}));
  CAF_CHECK(ups.get("result")->items[0].get("edited_message") != nullptr);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

struct gateway_fixture {
  gateway_fixture() {
    port = gw.start();
  }

  static std::string chat_body(std::string_view user, std::string_view text) {
    return R"({"model":"openclaw","user":)" + json_string(user)
      + R"(,"messages":[{"role":"user","content":)" + json_string(text) + "}]}";
  }

  std::optional<sync_client::response_type>
  chat(sync_client& c, std::string_view user, std::string_view text,
       std::string_view token = "gateway-token") {
    return c.call(verb::post, "/v1/chat/completions", chat_body(user, text),
                  token);
  }

  static std::string content(const sync_client::response_type& res) {
    auto doc = parse(res.body());
    return doc.get("choices")->items.at(0).get("message")->get("content")->text;
  }

  fake_gateway gw;
  uint16_t port = 0;
};

} // namespace

CAF_TEST(the stream mark falls on the event carrying the 30th character) {
  // Cyrillic letters are two bytes each: counted in bytes, the mark fell
  // an event before the router's first preview (30 code points).
  gateway_behavior b;
  b.set_stream_piece(10);
  std::string marked;
  b.set_stream_mark(30, [&](const std::string& content) {
    marked = content;
  });
  std::string text = "Напиши короткое стихотворение о море";
  zaki::http_request req{boost::beast::http::verb::post, "/v1/chat/completions",
                         11};
  req.body() = R"({"model":"openclaw","stream":true,"messages":[)"
               R"({"role":"user","content":")"
    + text + R"("}]})";
  req.prepare_payload();
  auto reply = b.handle(req);
  CAF_REQUIRE(reply.streamed);
  CAF_REQUIRE_LESS(reply.mark_event, reply.events.size());
  // Characters (code points) of the content before and with the mark.
  size_t before = 0;
  size_t with = 0;
  for (size_t i = 0; i <= reply.mark_event; ++i) {
    std::string_view ev = reply.events[i];
    if (ev.rfind("data: ", 0) != 0)
      continue;
    ev.remove_prefix(6);
    while (!ev.empty() && ev.back() == '\n')
      ev.remove_suffix(1);
    auto chunk = zaki::decode_stream_chunk(ev);
    size_t n = 0;
    for (unsigned char c : chunk.content)
      n += (c & 0xC0) != 0x80 ? 1 : 0;
    if (i < reply.mark_event)
      before += n;
    with += n;
  }
  CAF_CHECK_LESS(before, 30u);
  CAF_CHECK_GREATER_OR_EQUAL(with, 30u);
  CAF_REQUIRE(reply.on_mark);
  reply.on_mark();
  CAF_CHECK_EQUAL(marked, text);
}

CAF_TEST_FIXTURE_SCOPE(fake_gateway_tests, gateway_fixture)

CAF_TEST(gateway echoes with OpenAI shape and checks the bearer token) {
  sync_client c{port};
  auto res = chat(c, "42", "hello ✓");
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  auto doc = parse(res->body());
  CAF_CHECK_EQUAL(doc.get("object")->text, "chat.completion");
  CAF_CHECK_EQUAL(doc.get("choices")->items.at(0).get("finish_reason")->text,
                  "stop");
  CAF_CHECK_EQUAL(content(*res), "echo: hello ✓");
  res = chat(c, "42", "again", "wrong");
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->result_int(), 401u);
  CAF_CHECK_EQUAL(
    res->body(),
    R"({"error":{"message":"Unauthorized","type":"unauthorized"}})");
  res = c.call(verb::post, "/v1/chat/completions", "{not json",
               "gateway-token");
  CAF_CHECK_EQUAL(res->result_int(), 400u);
  res
    = c.call(verb::post, "/v1/chat/completions",
             R"({"model":"gpt-4","messages":[{"role":"user","content":"x"}]})",
             "gateway-token");
  CAF_CHECK_EQUAL(res->result_int(), 400u);
  gw.behavior().set_user_token("43", "own-token");
  CAF_CHECK_EQUAL(chat(c, "43", "x")->result_int(), 401u);
  CAF_CHECK_EQUAL(chat(c, "43", "x", "own-token")->result_int(), 200u);
  auto st = gw.stats();
  CAF_CHECK_EQUAL(st.chat_requests, 2u);
  CAF_CHECK_EQUAL(st.unauthorized, 2u);
  CAF_CHECK_EQUAL(gw.behavior().received("42"),
                  (std::vector<std::string>{"hello ✓"}));
}

CAF_TEST(gateway failure injection and markers) {
  sync_client c{port};
  gw.behavior().fail_next(502, 2);
  for (int i = 0; i < 2; ++i) {
    auto res = chat(c, "1", "x");
    CAF_CHECK_EQUAL(res->result_int(), 502u);
    auto doc = parse(res->body());
    auto err = doc.get("error");
    CAF_CHECK_EQUAL(err->get("type")->text, "api_error");
    CAF_CHECK_EQUAL(err->get("message")->text, "upstream provider error");
  }
  CAF_CHECK_EQUAL(chat(c, "1", "x")->result_int(), 200u);
  auto res = chat(c, "1", "please gw:fail=408");
  CAF_CHECK_EQUAL(res->result_int(), 408u);
  res = chat(c, "1", "gw:locked");
  CAF_CHECK_EQUAL(res->result_int(), 500u);
  CAF_CHECK(parse(res->body())
              .get("error")
              ->get("message")
              ->text.find("session file locked (timeout 10000ms)")
            == 0);
  res = chat(c, "1", "gw:flaky=1 once");
  CAF_CHECK_EQUAL(res->result_int(), 502u);
  res = chat(c, "1", "gw:flaky=1 once");
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  res = chat(c, "1", "gw:long=5000");
  CAF_CHECK_EQUAL(content(*res).size(), 5000u);
  res = chat(c, "1", "gw:malformed");
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  CAF_CHECK(!parse_json(res->body()).has_value());
  gw.behavior().set_answer_size(4500);
  CAF_CHECK_EQUAL(content(*chat(c, "1", "x")).size(), 4500u);
  gw.behavior().set_answer_size(0);
  gw.behavior().set_malformed(true);
  CAF_CHECK(!parse_json(chat(c, "1", "x")->body()).has_value());
  gw.behavior().set_malformed(false);
  auto start = steady_clock::now();
  res = chat(c, "1", "gw:sleep=300");
  CAF_CHECK(steady_clock::now() - start >= milliseconds(290));
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  // A hanging request ends (for the overlap check) when the client leaves.
  sync_client h{port};
  auto req = sync_client::request_type{verb::post, "/v1/chat/completions", 11};
  req.set(http::field::authorization, "Bearer gateway-token");
  req.body() = chat_body("2", "gw:hang");
  auto before = gw.stats().chat_requests;
  h.send(req);
  CAF_REQUIRE(gw.behavior().wait_for_chat_requests(before + 1, seconds(2)));
  CAF_CHECK_EQUAL(gw.stats().in_flight, 1u);
  CAF_CHECK(!h.receive(milliseconds(300)).has_value()); // closes on timeout
  std::this_thread::sleep_for(milliseconds(100));
  CAF_CHECK_EQUAL(gw.stats().in_flight, 0u);
  // gw:crash drops the connection without an answer.
  sync_client k{port};
  CAF_CHECK(!chat(k, "3", "gw:crash").has_value());
}

CAF_TEST(gateway counts overlapping requests of one user) {
  sync_client a{port};
  sync_client b{port};
  sync_client other{port};
  // The bodies: a slow request of user 9, then a second one while it runs.
  auto make = [](std::string_view user, std::string_view text) {
    sync_client::request_type req{verb::post, "/v1/chat/completions", 11};
    req.set(http::field::authorization, "Bearer gateway-token");
    req.body() = gateway_fixture::chat_body(user, text);
    return req;
  };
  a.send(make("9", "u9-m1 gw:sleep=300"));
  CAF_REQUIRE(gw.behavior().wait_for_chat_requests(1, seconds(2)));
  b.send(make("9", "u9-m2"));
  other.send(make("10", "u10-m1"));
  CAF_CHECK_EQUAL(b.receive()->result_int(), 200u);
  CAF_CHECK_EQUAL(other.receive()->result_int(), 200u);
  CAF_CHECK_EQUAL(a.receive()->result_int(), 200u);
  auto st = gw.stats();
  CAF_CHECK_EQUAL(st.overlap_violations, 1u);
  CAF_CHECK_EQUAL(st.order_violations, 0u);
  CAF_CHECK(st.max_in_flight >= 2u);
  // Sequential requests never count.
  gw.behavior().reset_stats();
  for (int i = 1; i <= 3; ++i)
    chat(a, "11", "u11-m" + std::to_string(i));
  CAF_CHECK_EQUAL(gw.stats().overlap_violations, 0u);
}

CAF_TEST(gateway detects out - of - order and misrouted messages) {
  sync_client c{port};
  chat(c, "5", "u5-m1");
  chat(c, "5", "u5-m3");
  chat(c, "5", "u5-m2");
  chat(c, "5", "u5-m3"); // a retry: counted as a repeat, not a violation
  chat(c, "5", "u6-m4");
  auto st = gw.stats();
  CAF_CHECK_EQUAL(st.order_violations, 1u);
  CAF_CHECK_EQUAL(st.repeats, 1u);
  CAF_CHECK_EQUAL(st.misrouted, 1u);
  CAF_CHECK_EQUAL(gw.behavior().received("5").size(), 5u);
}

CAF_TEST(gateway health endpoints answer like OpenClaw) {
  sync_client c{port};
  auto res = c.call(verb::get, "/healthz");
  CAF_CHECK_EQUAL(res->body(), R"({"ok":true,"status":"live"})");
  res = c.call(verb::head, "/health");
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  res = c.call(verb::get, "/readyz");
  CAF_CHECK_EQUAL(copy(parse(res->body()).get("ready")->boolean), true);
  gw.behavior().set_startup_delay(milliseconds(300));
  res = c.call(verb::get, "/startupz");
  CAF_CHECK_EQUAL(res->result_int(), 503u);
  CAF_CHECK_EQUAL(copy(parse(res->body()).get("status")->text), "starting");
  CAF_CHECK_EQUAL(c.call(verb::get, "/readyz")->result_int(), 503u);
  CAF_CHECK_EQUAL(c.call(verb::get, "/healthz")->result_int(), 200u);
  std::this_thread::sleep_for(milliseconds(350));
  res = c.call(verb::get, "/startupz");
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  CAF_CHECK_EQUAL(copy(parse(res->body()).get("version")->text), "2026.9.6");
  res = c.call(verb::get, "/v1/chat/completions");
  CAF_CHECK_EQUAL(res->result_int(), 405u);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(fifty gateways share one io_context) {
  io_runtime runner{1, io_start::deferred};
  std::vector<std::unique_ptr<fake_gateway>> farm;
  for (int i = 0; i < 50; ++i)
    farm.emplace_back(std::make_unique<fake_gateway>(runner.context()));
  std::vector<uint16_t> ports;
  for (auto& g : farm)
    ports.push_back(g->start());
  runner.start();
  for (size_t i = 0; i < farm.size(); ++i) {
    sync_client c{ports[i]};
    auto res = c.call(verb::post, "/v1/chat/completions",
                      gateway_fixture::chat_body(std::to_string(i), "hi"),
                      "gateway-token");
    CAF_REQUIRE(res);
    CAF_CHECK_EQUAL(res->result_int(), 200u);
    CAF_CHECK_EQUAL(farm[i]->stats().chat_requests, 1u);
  }
  for (auto& g : farm)
    g->stop();
  runner.stop();
}

// -- the standalone zaki-test-gateway ---------------------------------------------

namespace {

/// Returns the path of zaki-test-gateway next to the test binary.
std::string gateway_binary() {
  char buf[4096];
  auto n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0)
    return {};
  std::string self{buf, static_cast<size_t>(n)};
  return self.substr(0, self.rfind('/')) + "/zaki-test-gateway";
}

/// Returns a port that was free a moment ago.
uint16_t free_port() {
  net::io_context ioc;
  net::ip::tcp::acceptor acc{ioc, {net::ip::make_address("127.0.0.1"), 0}};
  return acc.local_endpoint().port();
}

/// A child process running zaki-test-gateway; killed on destruction.
struct gateway_process {
  gateway_process(std::vector<std::string> args, std::string log_path)
    : log(std::move(log_path)) {
    auto path = gateway_binary();
    if (access(path.c_str(), X_OK) != 0)
      CAF_FAIL("zaki-test-gateway not found next to the test binary at "
               << path << " (build the zaki-test-gateway target)");
    args.insert(args.begin(), path);
    pid = fork();
    CAF_REQUIRE(pid >= 0);
    if (pid == 0) {
      auto fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      setenv("OPENCLAW_GATEWAY_TOKEN", "tg-secret", 1);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }

  ~gateway_process() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }

  /// Waits for the exit; returns the exit code, or -1 on timeout/signal.
  int wait_exit(milliseconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return -1;
  }

  /// Waits until the gateway accepts connections.
  bool wait_listening(uint16_t port) {
    for (int i = 0; i < 300; ++i) {
      sync_client c{port, milliseconds(500)};
      if (c.connected())
        return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

  std::string read_log() const {
    std::string out;
    if (auto f = std::fopen(log.c_str(), "r")) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
        out.append(buf, n);
      std::fclose(f);
    }
    return out;
  }

  std::string log;
  pid_t pid = -1;
};

/// Runs zaki-test-gateway with `args` to completion; returns its exit code.
int run_gateway(std::vector<std::string> args) {
  gateway_process p{std::move(args), "/dev/null"};
  return p.wait_exit(seconds(5));
}

std::string log_path(const char* name) {
  return "/tmp/zaki-fakes-" + std::to_string(getpid()) + "-" + name + ".log";
}

} // namespace

CAF_TEST(test gateway chats probes logs and exits cleanly on sigterm) {
  auto port = free_port();
  gateway_process gw{{"--port", std::to_string(port)}, log_path("main")};
  CAF_REQUIRE(gw.wait_listening(port));
  CAF_CHECK_EQUAL(run_gateway({"--probe", "--port=" + std::to_string(port)}),
                  0);
  sync_client c{port};
  auto res = c.call(verb::post, "/v1/chat/completions",
                    gateway_fixture::chat_body("77", "u77-m1 hi"), "tg-secret");
  CAF_REQUIRE(res);
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  CAF_CHECK_EQUAL(gateway_fixture::content(*res), "echo: u77-m1 hi");
  res = c.call(verb::post, "/v1/chat/completions",
               gateway_fixture::chat_body("77", "x"), "wrong");
  CAF_CHECK_EQUAL(res->result_int(), 401u);
  res = c.call(verb::post, "/v1/chat/completions",
               gateway_fixture::chat_body("77", "gw:fail=502"), "tg-secret");
  CAF_CHECK_EQUAL(res->result_int(), 502u);
  c.close();
  kill(gw.pid, SIGTERM);
  CAF_CHECK_EQUAL(gw.wait_exit(seconds(3)), 0);
  auto log = gw.read_log();
  CAF_CHECK(log.find("POST /v1/chat/completions user=77 status=200")
            != std::string::npos);
  CAF_CHECK_EQUAL(log.find("tg-secret"), std::string::npos);
  std::remove(gw.log.c_str());
  // Nothing listens any more: the probe fails.
  CAF_CHECK_EQUAL(run_gateway({"--probe", "--port", std::to_string(port)}), 1);
}

CAF_TEST(test gateway crashes on gw : crash and after N requests) {
  auto port = free_port();
  gateway_process gw{{"--port", std::to_string(port)}, "/dev/null"};
  CAF_REQUIRE(gw.wait_listening(port));
  sync_client c{port};
  auto res = c.call(verb::post, "/v1/chat/completions",
                    gateway_fixture::chat_body("1", "gw:crash"), "tg-secret");
  CAF_CHECK(!res.has_value());
  CAF_CHECK_EQUAL(gw.wait_exit(seconds(3)), 1);
  port = free_port();
  gateway_process again{{"--port", std::to_string(port), "--crash-after=1"},
                        "/dev/null"};
  CAF_REQUIRE(again.wait_listening(port));
  sync_client d{port};
  res = d.call(verb::post, "/v1/chat/completions",
               gateway_fixture::chat_body("1", "first"), "tg-secret");
  CAF_CHECK_EQUAL(res->result_int(), 200u);
  res = d.call(verb::post, "/v1/chat/completions",
               gateway_fixture::chat_body("1", "second"), "tg-secret");
  CAF_CHECK(!res.has_value());
  CAF_CHECK_EQUAL(again.wait_exit(seconds(3)), 1);
}

CAF_TEST(test gateway starts slowly or hangs on request) {
  auto port = free_port();
  gateway_process gw{{"--port", std::to_string(port), "--startup-ms=700"},
                     "/dev/null"};
  CAF_REQUIRE(gw.wait_listening(port));
  sync_client c{port};
  CAF_CHECK_EQUAL(c.call(verb::get, "/startupz")->result_int(), 503u);
  CAF_CHECK_EQUAL(c.call(verb::get, "/readyz")->result_int(), 503u);
  CAF_CHECK_EQUAL(c.call(verb::get, "/healthz")->result_int(), 200u);
  std::this_thread::sleep_for(milliseconds(750));
  CAF_CHECK_EQUAL(c.call(verb::get, "/startupz")->result_int(), 200u);
  CAF_CHECK_EQUAL(c.call(verb::get, "/readyz")->result_int(), 200u);
  port = free_port();
  gateway_process hung{{"--port", std::to_string(port), "--hang"}, "/dev/null"};
  CAF_REQUIRE(hung.wait_listening(port));
  sync_client h{port};
  CAF_CHECK(!h.call(verb::get, "/healthz", {}, {}, {}, milliseconds(300)));
  CAF_CHECK_EQUAL(run_gateway({"--probe", "--port", std::to_string(port)}), 1);
}
