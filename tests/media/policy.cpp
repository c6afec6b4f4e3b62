#define CAF_SUITE media.policy
#include "caf/test/unit_test.hpp"

#include "media/policy.hpp"
#include "media/retry_text.hpp"

#include <set>

// What the router does with each kind of message before an assistant sees
// it: groups by chat.groups, unreadable kinds, files over the limit.

using namespace zaki;

namespace {

inbound_message message(inbound_kind kind, std::string text = {}) {
  inbound_message m;
  m.update_id = 1;
  m.user_id = 7;
  m.chat_id = 7;
  m.message_id = 3;
  m.kind = kind;
  m.text = std::move(text);
  return m;
}

media_policy mention_policy() {
  media_policy p;
  p.groups_mention = true;
  p.bot_username = "Zaki_Bot";
  p.bot_id = 123456;
  return p;
}

} // namespace

CAF_TEST(private texts photos and files are routed) {
  media_policy p;
  for (auto k :
       {inbound_kind::text, inbound_kind::document, inbound_kind::audio,
        inbound_kind::video, inbound_kind::voice}) {
    auto m = message(k, "x");
    m.file_id = "F";
    m.file_size = 1000;
    auto v = decide(m, p);
    CAF_CHECK(v.action == media_action::route);
    CAF_CHECK(!v.in_group);
  }
  auto photo = message(inbound_kind::photo);
  photo.file_id = "P";
  CAF_CHECK(decide(photo, p).action == media_action::route);
}

CAF_TEST(unreadable kinds get a notice once per kind) {
  media_policy p;
  std::set<std::string> keys;
  for (auto k :
       {inbound_kind::sticker, inbound_kind::location, inbound_kind::contact,
        inbound_kind::poll, inbound_kind::dice}) {
    auto v = decide(message(k), p);
    CAF_CHECK(v.action == media_action::notice);
    CAF_CHECK(v.text.find("I can read text, photos") != std::string::npos);
    CAF_CHECK(!v.once_key.empty());
    keys.insert(v.once_key);
  }
  CAF_CHECK_EQUAL(keys.size(), 5u);
  CAF_CHECK_EQUAL(decide(message(inbound_kind::sticker), p).once_key,
                  "kind:sticker");
}

CAF_TEST(files over the limit and photos without a fitting size) {
  media_policy p;
  p.max_file_bytes = 20 << 20;
  auto doc = message(inbound_kind::document);
  doc.file_id = "D";
  doc.file_size = (20 << 20) + 1;
  auto v = decide(doc, p);
  CAF_CHECK(v.action == media_action::notice);
  CAF_CHECK(v.text.find("20 MB") != std::string::npos);
  CAF_CHECK(v.once_key.empty());
  doc.file_size = 20 << 20;
  CAF_CHECK(decide(doc, p).action == media_action::route);
  auto photo = message(inbound_kind::photo);
  photo.file_size = 11 << 20;
  v = decide(photo, p);
  CAF_CHECK(v.action == media_action::notice);
  CAF_CHECK(v.text.find("10 MB") != std::string::npos);
}

CAF_TEST(edits and channel posts are never routed) {
  media_policy p;
  auto m = message(inbound_kind::text, "fixed");
  m.edited = true;
  CAF_CHECK(decide(m, p).action == media_action::ignore);
  m.edited = false;
  m.chat = chat_kind::channel;
  CAF_CHECK(decide(m, p).action == media_action::ignore);
}

CAF_TEST(groups in ignore mode get one pointer to the private chat) {
  media_policy p;
  p.bot_username = "zaki_bot";
  auto m = message(inbound_kind::text, "@zaki_bot hello");
  m.chat = chat_kind::supergroup;
  m.chat_id = -1001;
  m.mentions = true;
  auto v = decide(m, p);
  CAF_CHECK(v.action == media_action::notice);
  CAF_CHECK_EQUAL(v.text,
                  "I work in private chats: write to me directly at "
                  "https://t.me/zaki_bot.");
  CAF_CHECK_EQUAL(v.once_key, "group:-1001");
  // Stickers in a group are the group's business as well.
  m.kind = inbound_kind::sticker;
  CAF_CHECK_EQUAL(decide(m, p).once_key, "group:-1001");
}

CAF_TEST(groups in mention mode route what addresses the bot) {
  auto p = mention_policy();
  auto m = message(inbound_kind::text, "hey @zaki_bot, what time is it?");
  m.chat = chat_kind::group;
  m.chat_id = -5;
  m.mentions = true;
  auto v = decide(m, p);
  CAF_CHECK(v.action == media_action::route);
  CAF_CHECK(v.in_group);
  CAF_CHECK_EQUAL(strip_bot_mention(m.text, p.bot_username),
                  "hey , what time is it?");
  // Another bot's name that starts the same is not a mention of ours.
  m.text = "@zaki_bot_two hi";
  CAF_CHECK(decide(m, p).action == media_action::ignore);
  // Plain chatter in the group is ignored silently.
  m.text = "lunch?";
  m.mentions = false;
  CAF_CHECK(decide(m, p).action == media_action::ignore);
  // A reply to the bot addresses it without a mention.
  m.reply_to_user_id = 123456;
  CAF_CHECK(decide(m, p).action == media_action::route);
  // A reply to someone else does not.
  m.reply_to_user_id = 99;
  CAF_CHECK(decide(m, p).action == media_action::ignore);
}

CAF_TEST(token ids and sizes) {
  CAF_CHECK_EQUAL(bot_id_of_token("123456:TEST-token"), 123456);
  CAF_CHECK_EQUAL(bot_id_of_token("no-colon"), 0);
  CAF_CHECK_EQUAL(bot_id_of_token("12a:x"), 0);
  CAF_CHECK_EQUAL(human_size(20 << 20), "20 MB");
  CAF_CHECK_EQUAL(human_size(5000), "4 KB");
  CAF_CHECK_EQUAL(human_size(1024), "1 KB");
  CAF_CHECK_EQUAL(human_size(10), "10 bytes");
  CAF_CHECK_EQUAL(human_size(1), "1 byte");
}

CAF_TEST(a photo or file kept for Retry comes back whole) {
  auto m = message(inbound_kind::document, "read this");
  m.file_id = "BQACAgIAAxk";
  m.file_size = 12345;
  m.file_name = "report.pdf";
  m.mime_type = "application/pdf";
  inbound_message back;
  back.text = encode_media_retry(m);
  CAF_REQUIRE(decode_media_retry(back));
  CAF_CHECK(back.kind == inbound_kind::document);
  CAF_CHECK_EQUAL(back.file_id, m.file_id);
  CAF_CHECK_EQUAL(back.file_size, 12345);
  CAF_CHECK_EQUAL(back.file_name, "report.pdf");
  CAF_CHECK_EQUAL(back.mime_type, "application/pdf");
  CAF_CHECK_EQUAL(back.text, "read this");
  // Plain texts, forged kinds and cut records stay texts.
  inbound_message plain;
  plain.text = "hello";
  CAF_CHECK(!decode_media_retry(plain));
  plain.text = "\x1Fzaki-media\x1F"
               "9\x1FX\x1F"
               "1\x1F\x1F\x1F";
  CAF_CHECK(!decode_media_retry(plain));
  plain.text = "\x1Fzaki-media\x1F"
               "2\x1FX";
  CAF_CHECK(!decode_media_retry(plain));
  CAF_CHECK(plain.kind == inbound_kind::text);
}
