#define CAF_SUITE gateway.sse
#include "caf/test/unit_test.hpp"

#include "gateway/sse.hpp"

#include <string>
#include <vector>

// The incremental SSE reader of streamed gateway answers: events split at
// any byte, CRLF or LF or CR, comments, the size limit; and the decoding of
// OpenAI-style chunks, [DONE] and an error event under HTTP 200.

using namespace zaki;

namespace {

const std::string stream_text
  = ": keep-alive\r\n\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\r\n"
    "\r\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hi \\ud83d\\udc4b\"}}]}\n\n"
    "event: message\nid: 3\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\" there\"}}]}\r\r"
    "data: first\ndata: second\n\n"
    "data: [DONE]\n\n";

std::vector<std::string> read_in_pieces(const std::string& text, size_t cut) {
  std::vector<std::string> events;
  sse_reader reader;
  auto on_event = [&](std::string_view data) {
    events.emplace_back(data);
  };
  if (cut == 0) {
    reader.feed(text, on_event);
  } else {
    for (size_t i = 0; i < text.size(); i += cut)
      reader.feed(std::string_view{text}.substr(i, cut), on_event);
  }
  return events;
}

} // namespace

CAF_TEST(events at once and split at every byte) {
  auto whole = read_in_pieces(stream_text, 0);
  CAF_REQUIRE_EQUAL(whole.size(), 5u);
  CAF_CHECK_EQUAL(whole[3], "first\nsecond");
  CAF_CHECK_EQUAL(whole[4], "[DONE]");
  for (size_t cut = 1; cut < stream_text.size(); ++cut)
    CAF_CHECK_EQUAL(read_in_pieces(stream_text, cut), whole);
  // Every split into two parts, the CRLF cut in the middle included.
  for (size_t at = 1; at < stream_text.size(); ++at) {
    std::vector<std::string> events;
    sse_reader reader;
    auto on_event = [&](std::string_view data) {
      events.emplace_back(data);
    };
    reader.feed(stream_text.substr(0, at), on_event);
    reader.feed(stream_text.substr(at), on_event);
    CAF_CHECK_EQUAL(events, whole);
  }
}

CAF_TEST(an event is dispatched only at its blank line) {
  std::vector<std::string> events;
  sse_reader reader;
  auto on_event = [&](std::string_view data) {
    events.emplace_back(data);
  };
  reader.feed("data: a\n", on_event);
  CAF_CHECK(events.empty());
  reader.feed("\n", on_event);
  CAF_CHECK_EQUAL(events.size(), 1u);
  reader.feed("data:b\n\n:only a comment\n\n", on_event);
  CAF_REQUIRE_EQUAL(events.size(), 2u);
  CAF_CHECK_EQUAL(events[1], "b");
}

CAF_TEST(a 10 MB event is refused by the limit) {
  sse_reader reader{1 << 20};
  size_t events = 0;
  auto on_event = [&](std::string_view) {
    ++events;
  };
  CAF_CHECK(reader.feed("data: ok\n\n", on_event));
  std::string big(64 * 1024, 'x');
  bool ok = reader.feed("data: ", on_event);
  for (size_t i = 0; ok && i < 160; ++i)
    ok = reader.feed(big, on_event);
  CAF_CHECK(!ok);
  CAF_CHECK(reader.overflowed());
  CAF_CHECK(!reader.feed("\n\ndata: late\n\n", on_event));
  CAF_CHECK_EQUAL(events, 1u);
  // Many data lines that together exceed the limit are refused too.
  sse_reader lines{1000};
  std::string many;
  for (int i = 0; i < 100; ++i)
    many += "data: 0123456789\n";
  CAF_CHECK(!lines.feed(many, on_event));
}

CAF_TEST(chunks decode to content and finish reason and usage) {
  auto c = decode_stream_chunk(
    R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,)"
    R"("delta":{"content":"Hi \"x\" \ud83d\udc4b"},"finish_reason":null}]})");
  CAF_CHECK_EQUAL(c.kind, stream_chunk::chunk);
  CAF_CHECK_EQUAL(c.content, "Hi \"x\" \xF0\x9F\x91\x8B");
  CAF_CHECK_EQUAL(c.finish_reason, "");
  auto fin = decode_stream_chunk(
    R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})");
  CAF_CHECK_EQUAL(fin.finish_reason, "stop");
  CAF_CHECK_EQUAL(fin.content, "");
  auto usage = decode_stream_chunk(
    R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,)"
    R"("total_tokens":46}})");
  CAF_CHECK_EQUAL(usage.kind, stream_chunk::chunk);
  CAF_CHECK_EQUAL(usage.prompt_tokens, 12);
  CAF_CHECK_EQUAL(usage.completion_tokens, 34);
  CAF_CHECK_EQUAL(decode_stream_chunk("[DONE]").kind, stream_chunk::done);
}

CAF_TEST(an error event under 200 is a failure) {
  auto e = decode_stream_chunk(
    R"({"error":{"message":"upstream provider error","type":"api_error"}})");
  CAF_CHECK_EQUAL(e.kind, stream_chunk::error);
  CAF_CHECK_EQUAL(e.error_type, "api_error");
  CAF_CHECK_EQUAL(e.error_message, "upstream provider error");
  CAF_CHECK_EQUAL(decode_stream_chunk("{\"choices\":[{").kind,
                  stream_chunk::malformed);
  CAF_CHECK_EQUAL(decode_stream_chunk("hello").kind, stream_chunk::malformed);
}

#include "gateway/stream_reader.hpp"

CAF_TEST(a streamed answer becomes deltas and an answer with usage) {
  gateway_stream stream;
  std::string body
    = ": hi\n\n"
      "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
      "\"completion_tokens\":2}}\n\n"
      "data: [DONE]\n\n";
  std::string deltas;
  for (char c : body) {
    std::string delta;
    CAF_CHECK(stream.feed(std::string_view{&c, 1}, delta));
    deltas += delta;
  }
  // The first text is handed over at once; the rest waits for a take.
  CAF_CHECK_EQUAL(deltas, "Hel");
  CAF_CHECK(stream.take(deltas));
  CAF_CHECK_EQUAL(deltas, "Hello");
  CAF_CHECK(!stream.take(deltas));
  http_result res;
  res.status = 200;
  auto answer = stream.finish(res);
  CAF_CHECK(answer.outcome == gateway_outcome::answered);
  CAF_CHECK_EQUAL(answer.content, "Hello");
  CAF_CHECK_EQUAL(answer.prompt_tokens, 3);
  CAF_CHECK_EQUAL(answer.completion_tokens, 2);
}

CAF_TEST(text is handed over on demand and at the urgent size) {
  auto event = [](const std::string& text) {
    return "data: {\"choices\":[{\"delta\":{\"content\":\"" + text
      + "\"}}]}\n\n";
  };
  gateway_stream stream;
  stream.urgent_at(12);
  std::string delta;
  // Nothing asked yet: the first text goes at once.
  CAF_CHECK(stream.feed(event("abcde"), delta));
  CAF_CHECK_EQUAL(delta, "abcde");
  // Then it waits for the actor's poll, several reads in one take.
  delta.clear();
  CAF_CHECK(stream.feed(event("f"), delta));
  CAF_CHECK(stream.feed(event("\u00e9h"), delta));
  CAF_CHECK_EQUAL(delta, "");
  std::string taken;
  CAF_CHECK(stream.take(taken));
  CAF_CHECK_EQUAL(taken, "f\xC3\xA9h");
  // Nothing pending: the actor waits, so the next text goes at once.
  CAF_CHECK(!stream.take(taken));
  CAF_CHECK(stream.feed(event("i"), delta));
  CAF_CHECK_EQUAL(delta, "i");
  // The 12th character goes at once although nobody waits (counted in
  // code points: the two-byte one is one character).
  delta.clear();
  CAF_CHECK(stream.feed(event("jk"), delta));
  CAF_CHECK_EQUAL(delta, "");
  CAF_CHECK(stream.feed(event("lm"), delta));
  CAF_CHECK_EQUAL(delta, "jklm");
  CAF_CHECK_EQUAL(stream.received(), 14u);
}

CAF_TEST(an error event or an early end is no answer) {
  {
    gateway_stream stream;
    std::string delta;
    CAF_CHECK(stream.feed(
      "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n", delta));
    CAF_CHECK(!stream.feed("data: {\"error\":{\"message\":\"upstream "
                           "provider error\",\"type\":\"api_error\"}}"
                           "\n\ndata: [DONE]\n\n",
                           delta));
    http_result res;
    res.status = 200;
    auto answer = stream.finish(res);
    CAF_CHECK(answer.outcome == gateway_outcome::retryable);
    CAF_CHECK_EQUAL(answer.error_type, "api_error");
  }
  {
    gateway_stream stream;
    std::string delta;
    CAF_CHECK(stream.feed(
      "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n", delta));
    http_result res;
    res.status = 200;
    CAF_CHECK(stream.finish(res).outcome == gateway_outcome::bad_response);
  }
}

CAF_TEST(a gateway that ignores stream true still answers) {
  gateway_stream stream;
  std::string delta;
  CAF_CHECK(
    stream.feed(R"({"choices":[{"message":{"content":"plain"}}]})", delta));
  CAF_CHECK(delta.empty());
  http_result res;
  res.status = 200;
  auto answer = stream.finish(res);
  CAF_CHECK(answer.outcome == gateway_outcome::answered);
  CAF_CHECK_EQUAL(answer.content, "plain");
}
