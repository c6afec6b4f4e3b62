#define CAF_SUITE telegram.split
#include "caf/test/unit_test.hpp"

#include "telegram/split.hpp"

#include <string>
#include <vector>

// Splitting answers into Telegram-sized chunks: the limit is counted in
// UTF-16 code units, cuts prefer paragraph, line and word boundaries, and
// no chunk ever ends inside a UTF-8 sequence (a surrogate pair in UTF-16).

using namespace zaki;

namespace {

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (n == 0 || i + n > s.size())
      return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80)
        return false;
    i += n;
  }
  return true;
}

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

// Every chunk fits, is valid UTF-8, is not blank, and together they hold
// every non-separator character in order.
void check_chunks(const std::string& text, const std::vector<std::string>& xs,
                  size_t limit) {
  std::string joined;
  for (auto& x : xs) {
    CAF_CHECK_LESS_OR_EQUAL(utf16_length(x), limit);
    CAF_CHECK(valid_utf8(x));
    CAF_CHECK(x.find_first_not_of(" \n") != std::string::npos);
    joined += x;
  }
  std::string expected;
  for (char c : text)
    if (c != ' ' && c != '\n')
      expected += c;
  std::string got;
  for (char c : joined)
    if (c != ' ' && c != '\n')
      got += c;
  CAF_CHECK_EQUAL(got, expected);
}

} // namespace

CAF_TEST(utf16 units count surrogate pairs twice) {
  CAF_CHECK_EQUAL(utf16_length(""), 0u);
  CAF_CHECK_EQUAL(utf16_length("abc"), 3u);
  CAF_CHECK_EQUAL(utf16_length("Привет"), 6u); // 2-byte sequences
  CAF_CHECK_EQUAL(utf16_length("€"), 1u);      // 3 bytes, 1 unit
  CAF_CHECK_EQUAL(utf16_length("🌊"), 2u);      // 4 bytes, a surrogate pair
  CAF_CHECK_EQUAL(utf16_length("a🌊b"), 4u);
}

CAF_TEST(short and empty texts) {
  CAF_CHECK(split_message("").empty());
  auto xs = split_message("hello");
  CAF_REQUIRE_EQUAL(xs.size(), 1u);
  CAF_CHECK_EQUAL(xs[0], "hello");
  auto exact = std::string(4096, 'x');
  CAF_CHECK_EQUAL(split_message(exact).size(), 1u);
  CAF_CHECK_EQUAL(split_message(exact + "y").size(), 2u);
}

CAF_TEST(prefers paragraph then line then word boundaries) {
  std::string para = repeat("word ", 10) + "\n\n" + repeat("more ", 10);
  auto xs = split_message(para, 60);
  CAF_REQUIRE_EQUAL(xs.size(), 2u);
  CAF_CHECK_EQUAL(xs[0], repeat("word ", 10));
  check_chunks(para, xs, 60);
  std::string lines = repeat("abcd ", 8) + "\n" + repeat("efgh ", 8);
  xs = split_message(lines, 50);
  CAF_REQUIRE_EQUAL(xs.size(), 2u);
  CAF_CHECK_EQUAL(xs[0], repeat("abcd ", 8));
  check_chunks(lines, xs, 50);
  std::string words = repeat("alpha beta ", 20);
  xs = split_message(words, 32);
  for (auto& x : xs) {
    // Cut at a space: no word is torn apart.
    CAF_CHECK(x.front() != ' ');
    CAF_CHECK(x.rfind("alph", 0) == 0 || x.rfind("beta", 0) == 0);
  }
  check_chunks(words, xs, 32);
}

CAF_TEST(never splits a surrogate pair or a UTF - 8 sequence) {
  // 4097 units of emoji without spaces: every cut is a hard cut.
  std::string emoji = repeat("🌊", 3000);
  auto xs = split_message(emoji);
  CAF_REQUIRE_EQUAL(xs.size(), 2u);
  CAF_CHECK_EQUAL(utf16_length(xs[0]), 4096u);
  check_chunks(emoji, xs, 4096);
  // An odd limit cannot hold half a pair: 4095 units take 2047 emoji.
  xs = split_message(emoji, 4095);
  CAF_CHECK_EQUAL(utf16_length(xs[0]), 4094u);
  check_chunks(emoji, xs, 4095);
  std::string cyr = repeat("Съешь же ещё этих мягких французских булок", 300);
  xs = split_message(cyr);
  CAF_CHECK_GREATER(xs.size(), 2u);
  check_chunks(cyr, xs, 4096);
  std::string mixed = repeat("a🌊Я€", 2000);
  for (size_t limit : {2u, 3u, 7u, 100u, 4096u})
    check_chunks(mixed, split_message(mixed, limit), limit);
}

CAF_TEST(long answers are split into full chunks) {
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "Line " + std::to_string(i) + " of a long answer.\n";
  auto xs = split_message(text);
  check_chunks(text, xs, 4096);
  // No tiny chunks in between: all but the last are more than 3/4 full.
  for (size_t i = 0; i + 1 < xs.size(); ++i)
    CAF_CHECK_GREATER(utf16_length(xs[i]), 3000u);
}

CAF_TEST(no chunk is blank) {
  // Telegram rejects blank texts with 400 "message text is empty", so a
  // trailing newline right after a full chunk must not become a chunk.
  auto full = std::string(4096, 'x');
  auto xs = split_message(full + "\n");
  check_chunks(full + "\n", xs, 4096);
  xs = split_message(full + "\n\n  \n");
  check_chunks(full + "\n\n  \n", xs, 4096);
  xs = split_message(std::string(4000, 'y') + "\n\n" + std::string(200, ' ')
                     + "z");
  for (auto& x : xs)
    CAF_CHECK(x.find_first_not_of(" \n") != std::string::npos);
}
