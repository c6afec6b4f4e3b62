#define CAF_SUITE chat.callback_data
#include "caf/test/unit_test.hpp"

#include "chat/callback_data.hpp"

#include "chat/request_id.hpp"

#include <random>
#include <string>

using namespace zaki;

namespace {

constexpr std::string_view rid = "3kq0v7x2m9ab";

} // namespace

CAF_TEST(encoding uses the versioned short form) {
  CAF_CHECK_EQUAL(encode_callback(callback_kind::retry, rid),
                  "z1:r:3kq0v7x2m9ab");
  CAF_CHECK_EQUAL(encode_callback(callback_kind::dismiss, rid),
                  "z1:d:3kq0v7x2m9ab");
  CAF_CHECK_EQUAL(encode_callback(callback_kind::restart_confirm, rid),
                  "z1:rs:3kq0v7x2m9ab");
  CAF_CHECK_EQUAL(encode_callback(callback_kind::restart_cancel, rid),
                  "z1:rc:3kq0v7x2m9ab");
  CAF_CHECK_EQUAL(encode_callback(callback_kind::retry, "bad id"), "");
  CAF_CHECK_EQUAL(encode_callback(callback_kind::retry, ""), "");
}

CAF_TEST(every kind round trips within the size limit) {
  for (auto kind :
       {callback_kind::retry, callback_kind::dismiss,
        callback_kind::restart_confirm, callback_kind::restart_cancel}) {
    for (int i = 0; i < 100; ++i) {
      callback_action action{kind, new_request_id()};
      auto data = encode_callback(action);
      CAF_REQUIRE(!data.empty());
      CAF_CHECK(data.size() <= max_callback_data_size);
      auto back = decode_callback(data);
      CAF_REQUIRE(back);
      CAF_CHECK(*back == action);
    }
  }
}

CAF_TEST(foreign old forged and oversized data decode to nothing) {
  for (std::string_view data : {
         "",                        // empty
         "z1",                      // truncated prefix
         "z1:",                     // no action
         "z1:r",                    // no separator
         "z1:r:",                   // no id
         "z1:q:3kq0v7x2m9ab",       // unknown action
         "z1:R:3kq0v7x2m9ab",       // actions are case-sensitive
         "z0:r:3kq0v7x2m9ab",       // old version
         "z2:r:3kq0v7x2m9ab",       // future version
         "retry:3kq0v7x2m9ab",      // the notes' example, not ours
         "Z1:r:3kq0v7x2m9ab",       // case of the prefix
         "z1:r:3kq0v7x2m9a",        // id too short
         "z1:r:3kq0v7x2m9abc",      // id too long
         "z1:r:3KQ0V7X2M9AB",       // upper case id
         "z1:r:3kq0v7x2m9a/",       // bad id char
         "z1:r:3kq0v7x2m9a\n",      // control char
         "z1:r:3kq0v7x2m9ab:extra", // trailing field
         "z1:r::3kq0v7x2m9a",       // empty field
         " z1:r:3kq0v7x2m9ab",      // leading space
         "z1:r:../../etc/pas",      // path-like
         "{\"action\":\"retry\"}",  // another bot's JSON
         "z1:r:\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", // UTF-8
       })
    CAF_CHECK(!decode_callback(data));
  CAF_CHECK(!decode_callback(std::string_view{"z1:r:3kq0v7x2m9a\0", 17}));
  std::string oversized = "z1:r:3kq0v7x2m9ab";
  oversized.append(100, 'a');
  CAF_CHECK(!decode_callback(oversized));
  CAF_CHECK(!decode_callback(std::string(10000, 'z')));
}

CAF_TEST(random and near miss data decodes only when well formed) {
  // Half pure garbage, half "z1:<tag>:<id>" with random tags and ids; the
  // expectation is computed independently of the decoder.
  std::mt19937 rng{1234};
  std::uniform_int_distribution<int> byte{0, 255};
  std::uniform_int_distribution<int> len{0, 80};
  std::uniform_int_distribution<int> id_len{10, 14};
  const std::string_view tags[] = {"r", "d", "rs", "rc", "q", "R", "", "rr"};
  std::uniform_int_distribution<size_t> tag{0, 7};
  std::string_view id_chars = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string_view bad_chars = "AZ-_:/ \x01\xC3";
  std::uniform_int_distribution<size_t> good{0, id_chars.size() - 1};
  std::uniform_int_distribution<size_t> bad{0, bad_chars.size() - 1};
  std::uniform_int_distribution<int> percent{0, 99};
  size_t decoded = 0;
  size_t wrong = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string data;
    bool expect = false;
    if (i % 2 == 0) {
      auto n = len(rng);
      for (int k = 0; k < n; ++k)
        data += static_cast<char>(byte(rng));
    } else {
      auto t = tags[tag(rng)];
      data = "z1:";
      data += t;
      data += ':';
      auto n = id_len(rng);
      bool id_ok = n == 12;
      for (int k = 0; k < n; ++k) {
        if (percent(rng) < 2) {
          data += bad_chars[bad(rng)];
          id_ok = false;
        } else {
          data += id_chars[good(rng)];
        }
      }
      expect = id_ok && (t == "r" || t == "d" || t == "rs" || t == "rc");
    }
    auto action = decode_callback(data);
    decoded += action.has_value();
    wrong += action.has_value() != expect;
    if (action)
      wrong += encode_callback(*action) != data;
  }
  CAF_MESSAGE(decoded << " of 100000 strings decoded");
  CAF_CHECK_EQUAL(wrong, 0u);
  CAF_CHECK(decoded > 1000u);
}

CAF_TEST(toasts are short plain texts) {
  for (auto reply :
       {callback_reply::retrying, callback_reply::retry_already_sent,
        callback_reply::retry_expired, callback_reply::dismissed,
        callback_reply::restart_started, callback_reply::restart_cancelled,
        callback_reply::restart_expired, callback_reply::unknown_button}) {
    auto text = toast_text(reply);
    CAF_CHECK(!text.empty());
    CAF_CHECK(text.size() <= 200);
    CAF_CHECK(text.find_first_of("<>&") == std::string_view::npos);
  }
}
