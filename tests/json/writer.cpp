#define CAF_SUITE json.writer
#include "caf/test/unit_test.hpp"

#include "json/writer.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

#include <simdjson.h>

// Every outgoing body goes through json_writer: commas, nesting, escaping
// of quotes, backslashes and control characters, UTF-8 passed through, and
// output that a real parser reads back.

using namespace zaki;

namespace {

std::string escaped(std::string_view s) {
  std::string out;
  append_json_escaped(out, s);
  return out;
}

// Parses `text` with simdjson and returns the string at key "s".
std::string roundtrip(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded{text};
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc)) {
    CAF_FAIL("not JSON: " << text);
  }
  std::string_view s;
  if (doc["s"].get_string().get(s)) {
    CAF_FAIL("no string s: " << text);
  }
  return std::string{s};
}

} // namespace

CAF_TEST(escaping) {
  CAF_CHECK_EQUAL(escaped("plain"), "plain");
  CAF_CHECK_EQUAL(escaped("a\"b\\c"), "a\\\"b\\\\c");
  CAF_CHECK_EQUAL(escaped("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
  CAF_CHECK_EQUAL(escaped(std::string_view{"\x00\x01\x1f", 3}),
                  "\\u0000\\u0001\\u001f");
  CAF_CHECK_EQUAL(escaped("Привет 🌊 / <b>"), "Привет 🌊 / <b>");
  CAF_CHECK_EQUAL(escaped("\x7f"), "\x7f");
  // Escapes at the start and end of the text and between plain runs.
  CAF_CHECK_EQUAL(escaped("\"one\ntwo\tthree\""), "\\\"one\\ntwo\\tthree\\\"");
  CAF_CHECK_EQUAL(escaped(""), "");
  std::string appended = "kept:";
  append_json_escaped(appended, "a\\");
  CAF_CHECK_EQUAL(appended, "kept:a\\\\");
}

// The scan tests 16 bytes at a time: every character that needs an escape
// is found wherever it falls in a block, next to bytes of 0x80 and above
// (which are UTF-8, not controls) and in the tail shorter than a block.
CAF_TEST(escaping at every position of long text) {
  auto reference = [](std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
      if (c == '"')
        out += "\\\"";
      else if (c == '\\')
        out += "\\\\";
      else if (c == '\n')
        out += "\\n";
      else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += c == '\r' ? "\\r"
          : c == '\t'    ? "\\t"
          : c == '\b'    ? "\\b"
          : c == '\f'    ? "\\f"
                         : buf;
      } else
        out += static_cast<char>(c);
    }
    return out;
  };
  const std::string specials = std::string{"\"\\\n\x01\x1f"} + '\0';
  for (size_t len : {15, 16, 17, 33, 47, 64}) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (char special : specials) {
        std::string text(len, 'a');
        for (size_t i = 0; i < len; i += 3)
          text[i] = static_cast<char>(0xD0 + i % 2); // UTF-8 lead bytes
        text[pos] = special;
        if (escaped(text) != reference(text))
          CAF_FAIL("length " << len << ", position " << pos << ", byte "
                             << int(static_cast<unsigned char>(special)));
      }
    }
  }
  auto mixed = std::string(40, '\x7f') + "\"" + std::string(20, '\xff')
    + "\x1f";
  CAF_CHECK_EQUAL(escaped(mixed), reference(mixed));
}

CAF_TEST(nesting and commas) {
  json_writer w;
  w.begin_object().field("a", 1).field("b", "x");
  w.key("arr").begin_array().value(int64_t{-1}).value(uint64_t{2});
  w.begin_object().end_object().begin_array().end_array().null();
  w.value(true).value(false).end_array();
  w.key("o").begin_object().field("n", 1.5).end_object();
  w.end_object();
  CAF_CHECK_EQUAL(w.str(),
                  R"({"a":1,"b":"x","arr":[-1,2,{},[],null,true,)"
                  R"(false],"o":{"n":1.5}})");
  auto text = w.take();
  CAF_CHECK(w.str().empty());
  // The writer is reusable after take.
  w.begin_array().value("y").end_array();
  CAF_CHECK_EQUAL(w.take(), R"(["y"])");
}

CAF_TEST(const char literals are strings not bools) {
  json_writer w;
  w.begin_object().field("k", "v").end_object();
  CAF_CHECK_EQUAL(w.take(), R"({"k":"v"})");
}

CAF_TEST(numbers) {
  json_writer w;
  w.begin_array();
  w.value(std::numeric_limits<int64_t>::min());
  w.value(std::numeric_limits<uint64_t>::max());
  w.value(std::nan(""));
  w.value(std::numeric_limits<double>::infinity());
  w.value(0.1);
  w.end_array();
  auto text = w.take();
  CAF_CHECK_EQUAL(text.substr(0, 45),
                  "[-9223372036854775808,18446744073709551615,nu");
  CAF_CHECK(text.find("null,null,0.1") != std::string::npos);
}

CAF_TEST(raw values and escaped keys) {
  json_writer w;
  w.begin_object().key("m\"k").raw(R"({"inline_keyboard":[]})");
  w.field("z", 0).end_object();
  CAF_CHECK_EQUAL(w.take(), R"({"m\"k":{"inline_keyboard":[]},"z":0})");
}

CAF_TEST(round trip through a real parser) {
  std::string nasty = "quote\" backslash\\ nl\n cr\r tab\t nul";
  nasty += '\0';
  nasty += " ctl\x01\x1f emoji 🌊 cyr Ж </script>";
  json_writer w;
  w.begin_object().field("s", std::string_view{nasty}).end_object();
  CAF_CHECK_EQUAL(roundtrip(w.take()), nasty);
}

CAF_TEST(commas stay right beyond 64 nesting levels) {
  // The first 64 levels are tracked inline, deeper ones apart: each level
  // holds a number before and after its child.
  constexpr int depth = 100;
  json_writer w;
  std::string want;
  for (int i = 0; i < depth; ++i) {
    w.begin_array().value(i);
    want += "[" + std::to_string(i) + ",";
  }
  w.begin_array().end_array();
  want += "[]";
  for (int i = depth - 1; i >= 0; --i) {
    w.value(-i).end_array();
    want += "," + std::to_string(-i) + "]";
  }
  CAF_CHECK_EQUAL(w.take(), want);
  // The writer is reusable after take().
  w.begin_object().field("a", 1).field("b", 2).end_object();
  CAF_CHECK_EQUAL(w.take(), R"({"a":1,"b":2})");
}
