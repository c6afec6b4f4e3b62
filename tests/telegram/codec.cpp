#define CAF_SUITE telegram.codec
#include "caf/test/unit_test.hpp"

#include "telegram/codec.hpp"

#include <string>

// Decoding getUpdates answers as the Bot API sends them (samples shaped
// after real answers, with fields we ignore), error bodies, and the
// encoding of outgoing calls.

using namespace zaki;

namespace {

std::string wrap(const std::string& updates) {
  return R"({"ok":true,"result":[)" + updates + "]}";
}

// A private text message as Telegram sends it, with every usual field.
std::string text_update(int64_t update_id, int64_t user, const char* text) {
  auto u = std::to_string(user);
  return R"({"update_id":)" + std::to_string(update_id)
    + R"(,"message":{"message_id":17,"from":{"id":)" + u
    + R"(,"is_bot":false,"first_name":"Ана","username":"ana_k",)"
      R"("language_code":"ru","is_premium":true},"chat":{"id":)"
    + u
    + R"(,"first_name":"Ана","username":"ana_k","type":"private"},)"
      R"("date":1732280000,"text":")"
    + text + R"("}})";
}

decoded_updates decode(std::string body) {
  return decode_updates(body);
}

} // namespace

CAF_TEST(a real text message with ids above 2 ^ 32) {
  auto d = decode(wrap(text_update(905120001, 7012345678, "hello")));
  CAF_REQUIRE(d.ok);
  CAF_REQUIRE_EQUAL(d.messages.size(), 1u);
  auto& m = d.messages[0];
  CAF_CHECK_EQUAL(m.update_id, 905120001);
  CAF_CHECK_EQUAL(m.user_id, 7012345678);
  CAF_CHECK_EQUAL(m.chat_id, 7012345678);
  CAF_CHECK_EQUAL(m.message_id, 17);
  CAF_CHECK_EQUAL(m.text, "hello");
  CAF_CHECK(!m.is_callback());
  CAF_CHECK_EQUAL(d.max_update_id, 905120001);
  CAF_CHECK_EQUAL(d.skipped, 0u);
  CAF_CHECK_EQUAL(d.malformed, 0u);
  // 52 significant bits (Telegram's documented maximum) survive as well.
  d = decode(wrap(text_update(1, 4503599627370495, "x")));
  CAF_REQUIRE_EQUAL(d.messages.size(), 1u);
  CAF_CHECK_EQUAL(d.messages[0].user_id, 4503599627370495);
}

CAF_TEST(emoji cyrillic and escapes in text) {
  auto d = decode(wrap(text_update(
    5, 42, R"(Привет 🌊 \"quoted\" \\ tab\t line\nnext \ud83d\ude00 \u0416)")));
  CAF_REQUIRE_EQUAL(d.messages.size(), 1u);
  CAF_CHECK_EQUAL(d.messages[0].text,
                  "Привет 🌊 \"quoted\" \\ tab\t line\nnext 😀 Ж");
}

CAF_TEST(field order and unknown fields do not matter) {
  std::string body
    = R"({"result":[{"message":{"text":"late id",)"
      R"("entities":[{"offset":0,"length":4,"type":"bold"}],)"
      R"("chat":{"type":"private","id":99},)"
      R"("reply_to_message":{"message_id":1,"from":{"id":5},)"
      R"("chat":{"id":5},"text":"inner"},)"
      R"("from":{"first_name":"B","id":99},"message_id":3},)"
      R"("update_id":12,"future_field":{"a":[1,2,{"b":null}]}}],)"
      R"("ok":true,"extra":1.5})";
  auto d = decode(body);
  CAF_REQUIRE(d.ok);
  CAF_REQUIRE_EQUAL(d.messages.size(), 1u);
  auto& m = d.messages[0];
  CAF_CHECK_EQUAL(m.update_id, 12);
  CAF_CHECK_EQUAL(m.user_id, 99);
  CAF_CHECK_EQUAL(m.chat_id, 99);
  CAF_CHECK_EQUAL(m.text, "late id");
}

CAF_TEST(group messages reply to the chat not the sender) {
  std::string body = wrap(
    R"({"update_id":30,"message":{"message_id":8,"from":{"id":1001,"is_bot":false},)"
    R"("chat":{"id":-1001234567890,"title":"G","type":"supergroup"},)"
    R"("date":1,"text":"hi all"}})");
  auto d = decode(body);
  CAF_REQUIRE_EQUAL(d.messages.size(), 1u);
  CAF_CHECK_EQUAL(d.messages[0].user_id, 1001);
  CAF_CHECK_EQUAL(d.messages[0].chat_id, -1001234567890);
}

CAF_TEST(joins member changes and channel posts are skipped but counted) {
  std::string updates
    = R"({"update_id":42,"message":{"message_id":3,"from":{"id":7},"chat":{"id":-5,"type":"group"},"date":1,)"
      R"("new_chat_members":[{"id":8,"is_bot":false,"first_name":"N"}],"new_chat_member":{"id":8}}},)"
      R"({"update_id":43,"my_chat_member":{"chat":{"id":7},"from":{"id":7},"date":1,)"
      R"("old_chat_member":{"status":"member"},"new_chat_member":{"status":"kicked"}}},)"
      R"({"update_id":44,"channel_post":{"message_id":4,"chat":{"id":-1001,"type":"channel"},"date":1,"text":"news"}},)"
      R"({"update_id":46,"message":{"message_id":5,"sender_chat":{"id":-1001},"from":{"id":136817688},)"
      R"("chat":{"id":-1001,"type":"channel"},"date":1,"text":"signed"}},)"
    + text_update(45, 7, "real text");
  auto d = decode(wrap(updates));
  CAF_REQUIRE(d.ok);
  CAF_CHECK_EQUAL(d.skipped, 4u);
  CAF_CHECK_EQUAL(d.malformed, 0u);
  CAF_REQUIRE_EQUAL(d.messages.size(), 1u);
  CAF_CHECK_EQUAL(d.messages[0].text, "real text");
  CAF_CHECK_EQUAL(d.max_update_id, 46);
  // Only skipped updates: nothing to route, but the offset must advance.
  d = decode(wrap(
    R"({"update_id":50,"edited_message":{"message_id":2,"chat":{"id":7},"text":"e"}})"));
  CAF_CHECK(d.ok);
  CAF_CHECK(d.messages.empty());
  CAF_CHECK_EQUAL(d.max_update_id, 50);
  CAF_CHECK_EQUAL(d.skipped, 1u);
}

CAF_TEST(every kind a user can send is decoded and routed) {
  auto msg = [](int id, const char* body) {
    return R"({"update_id":)" + std::to_string(id)
      + R"(,"message":{"message_id":)" + std::to_string(id)
      + R"(,"from":{"id":7,"is_bot":false},"chat":{"id":7,"type":"private"},"date":1,)"
      + body + "}}";
  };
  std::string updates
    = msg(
        1,
        R"("sticker":{"file_id":"CAACAgIAAxkBAAE","width":512,"height":512,"emoji":"😀","is_animated":false})")
    + "," + msg(2, R"("location":{"latitude":52.5,"longitude":13.4})") + ","
    + msg(3, R"("contact":{"phone_number":"+49","first_name":"A"})") + ","
    + msg(4, R"("poll":{"id":"1","question":"Q?","options":[]})") + ","
    + msg(5, R"("dice":{"emoji":"🎲","value":4})") + ","
    + msg(
        6,
        R"("document":{"file_name":"report.pdf","mime_type":"application/pdf","file_id":"DOC","file_unique_id":"u","file_size":12345},"caption":"read this")")
    + ","
    + msg(
        7,
        R"("audio":{"duration":3,"file_name":"song.mp3","file_id":"AUD","file_size":99})")
    + ","
    + msg(
        8,
        R"("video":{"duration":3,"width":1,"height":1,"file_id":"VID","file_size":7})")
    + ","
    + msg(
        9,
        R"("voice":{"duration":2,"mime_type":"audio/ogg","file_id":"VOI","file_unique_id":"v","file_size":4000})")
    + ","
    + msg(
        10,
        R"("venue":{"location":{"latitude":1,"longitude":2},"title":"Cafe"},"location":{"latitude":1,"longitude":2})");
  auto d = decode(wrap(updates));
  CAF_REQUIRE(d.ok);
  CAF_CHECK_EQUAL(d.skipped, 0u);
  CAF_CHECK_EQUAL(d.malformed, 0u);
  CAF_REQUIRE_EQUAL(d.messages.size(), 10u);
  using k = inbound_kind;
  std::vector<k> kinds{k::sticker, k::location, k::contact, k::poll,
                       k::dice,    k::document, k::audio,   k::video,
                       k::voice,   k::location};
  for (size_t i = 0; i < kinds.size(); ++i)
    CAF_CHECK_EQUAL(to_string(d.messages[i].kind), to_string(kinds[i]));
  CAF_CHECK(d.messages[0].text.empty());
  CAF_CHECK(d.messages[0].file_id.empty());
  auto& doc = d.messages[5];
  CAF_CHECK_EQUAL(doc.file_id, "DOC");
  CAF_CHECK_EQUAL(doc.file_name, "report.pdf");
  CAF_CHECK_EQUAL(doc.mime_type, "application/pdf");
  CAF_CHECK_EQUAL(doc.file_size, 12345);
  CAF_CHECK_EQUAL(doc.text, "read this");
  CAF_CHECK_EQUAL(d.messages[6].file_name, "song.mp3");
  CAF_CHECK_EQUAL(d.messages[8].file_id, "VOI");
  CAF_CHECK_EQUAL(d.messages[8].file_size, 4000);
  CAF_CHECK_EQUAL(d.messages[8].mime_type, "audio/ogg");
  CAF_CHECK(d.messages[9].text.empty());
}

CAF_TEST(a photo picks the largest size within the limit) {
  auto photo = std::string{
    R"({"update_id":9,"message":{"message_id":3,"from":{"id":7},"chat":{"id":7,"type":"private"},"date":1,)"
    R"("photo":[{"file_id":"S","file_unique_id":"a","file_size":1000,"width":90,"height":67},)"
    R"({"file_id":"M","file_unique_id":"b","file_size":20000,"width":320,"height":240},)"
    R"({"file_id":"L","file_unique_id":"c","file_size":300000,"width":1280,"height":960}],)"
    R"("caption":"what is in this picture?"}})"};
  auto d = decode(wrap(photo));
  CAF_REQUIRE_EQUAL(d.messages.size(), 1u);
  auto& m = d.messages[0];
  CAF_CHECK_EQUAL(to_string(m.kind), std::string{"photo"});
  CAF_CHECK_EQUAL(m.file_id, "L");
  CAF_CHECK_EQUAL(m.file_size, 300000);
  CAF_CHECK_EQUAL(m.text, "what is in this picture?");
  decode_options opts;
  opts.max_image_bytes = 50000;
  auto body = wrap(photo);
  d = decode_updates(body, opts);
  CAF_REQUIRE_EQUAL(d.messages.size(), 1u);
  CAF_CHECK_EQUAL(d.messages[0].file_id, "M");
  // None fits: no file, the smallest size says by how much.
  opts.max_image_bytes = 10;
  body = wrap(photo);
  d = decode_updates(body, opts);
  CAF_REQUIRE_EQUAL(d.messages.size(), 1u);
  CAF_CHECK(d.messages[0].file_id.empty());
  CAF_CHECK_EQUAL(d.messages[0].file_size, 1000);
  // A photo without a caption is routed all the same.
  d = decode(wrap(
    R"({"update_id":10,"message":{"message_id":4,"from":{"id":7},"chat":{"id":7},"date":1,)"
    R"("photo":[{"file_id":"X","width":9,"height":9}]}})"));
  CAF_REQUIRE_EQUAL(d.messages.size(), 1u);
  CAF_CHECK_EQUAL(d.messages[0].file_id, "X");
  CAF_CHECK(d.messages[0].text.empty());
}

CAF_TEST(group chats mentions replies and edits) {
  std::string updates
    = R"({"update_id":1,"message":{"message_id":11,"from":{"id":7},"chat":{"id":-5,"type":"group","title":"G"},"date":1,)"
      R"("text":"@zaki_bot hi","entities":[{"offset":0,"length":9,"type":"mention"}]}},)"
      R"({"update_id":2,"message":{"message_id":12,"from":{"id":8},"chat":{"id":-1001234,"type":"supergroup"},"date":1,)"
      R"("text":"and you?","reply_to_message":{"message_id":10,"from":{"id":123456,"is_bot":true,"username":"zaki_bot"},)"
      R"("chat":{"id":-1001234,"type":"supergroup"},"date":1,"text":"answer"}}},)"
      R"({"update_id":3,"edited_message":{"message_id":13,"from":{"id":7},"chat":{"id":7,"type":"private"},"date":1,"edit_date":2,"text":"fixed"}},)"
      R"({"update_id":4,"message":{"message_id":14,"from":{"id":7},"chat":{"id":-5,"type":"group"},"date":1,)"
      R"("photo":[{"file_id":"P","width":9,"height":9}],"caption":"look @zaki_bot","caption_entities":[{"offset":5,"length":9,"type":"mention"}]}})";
  auto d = decode(wrap(updates));
  CAF_REQUIRE(d.ok);
  CAF_REQUIRE_EQUAL(d.messages.size(), 4u);
  auto& m = d.messages;
  CAF_CHECK(m[0].chat == chat_kind::group);
  CAF_CHECK(m[0].mentions);
  CAF_CHECK_EQUAL(m[0].chat_id, -5);
  CAF_CHECK(m[1].chat == chat_kind::supergroup);
  CAF_CHECK(!m[1].mentions);
  CAF_CHECK_EQUAL(m[1].reply_to_user_id, 123456);
  CAF_CHECK_EQUAL(m[1].user_id, 8);
  CAF_CHECK(m[2].edited);
  CAF_CHECK(m[2].chat == chat_kind::private_chat);
  CAF_CHECK_EQUAL(m[2].message_id, 13);
  CAF_CHECK_EQUAL(m[2].text, "fixed");
  CAF_CHECK(!m[0].edited);
  CAF_CHECK(m[3].mentions);
  CAF_CHECK_EQUAL(m[3].text, "look @zaki_bot");
}

CAF_TEST(callback queries) {
  std::string body = wrap(
    R"({"update_id":60,"callback_query":{"id":"4382bfdwdsb323b2d9","from":{"id":5000000001,"is_bot":false},)"
    R"("message":{"message_id":77,"from":{"id":1,"is_bot":true},"chat":{"id":5000000001,"type":"private"},"date":1,"text":"answer"},)"
    R"("chat_instance":"-1234","data":"retry:abc"}},)"
    R"({"update_id":61,"callback_query":{"id":"q2","from":{"id":9},"inline_message_id":"AAA","chat_instance":"1","data":"x"}})");
  auto d = decode(body);
  CAF_REQUIRE(d.ok);
  CAF_REQUIRE_EQUAL(d.messages.size(), 2u);
  auto& a = d.messages[0];
  CAF_CHECK(a.is_callback());
  CAF_CHECK_EQUAL(a.callback_id, "4382bfdwdsb323b2d9");
  CAF_CHECK_EQUAL(a.user_id, 5000000001);
  CAF_CHECK_EQUAL(a.chat_id, 5000000001);
  CAF_CHECK_EQUAL(a.message_id, 77);
  CAF_CHECK_EQUAL(a.text, "retry:abc");
  // A press on an inline message: answered in the user's private chat.
  CAF_CHECK_EQUAL(d.messages[1].chat_id, 9);
}

CAF_TEST(missing and mistyped fields make an update malformed not fatal) {
  std::string updates
    // text without from (a channel post in a group): malformed
    = R"({"update_id":70,"message":{"message_id":1,"chat":{"id":7},"text":"no sender"}},)"
      // id as a string
      R"({"update_id":71,"message":{"message_id":1,"from":{"id":"7"},"chat":{"id":7},"text":"t"}},)"
      // text as a number
      R"({"update_id":72,"message":{"message_id":1,"from":{"id":7},"chat":{"id":7},"text":5}},)"
      // an id that is not an integer
      R"({"update_id":73,"message":{"message_id":1,"from":{"id":1.5},"chat":{"id":7},"text":"t"}},)"
      // message is not an object
      R"({"update_id":74,"message":[1,2]},)"
      // a callback without id
      R"({"update_id":75,"callback_query":{"from":{"id":7},"data":"d"}},)"
      // not an object at all
      R"("garbage",)"
      // no update_id: cannot be confirmed by id, counted as malformed
      R"({"message":{"message_id":1,"from":{"id":7},"chat":{"id":7},"text":"t"}},)"
    + text_update(76, 7, "survivor");
  auto d = decode(wrap(updates));
  CAF_REQUIRE(d.ok);
  CAF_CHECK_EQUAL(d.malformed, 8u);
  CAF_REQUIRE_EQUAL(d.messages.size(), 1u);
  CAF_CHECK_EQUAL(d.messages[0].text, "survivor");
  CAF_CHECK_EQUAL(d.max_update_id, 76);
  // Malformed updates alone still move the offset past them.
  d = decode(wrap(
    R"({"update_id":80,"message":{"message_id":1,"chat":{"id":7},"text":"x"}})"));
  CAF_CHECK(d.ok);
  CAF_CHECK_EQUAL(d.malformed, 1u);
  CAF_CHECK_EQUAL(d.max_update_id, 80);
}

CAF_TEST(update id above int64 or negative text ids) {
  auto d = decode(wrap(
    R"({"update_id":99999999999999999999,"message":{"message_id":1,"from":{"id":7},"chat":{"id":7},"text":"t"}},)"
    + text_update(90, 7, "ok")));
  CAF_REQUIRE(d.ok);
  CAF_CHECK_EQUAL(d.malformed, 1u);
  CAF_CHECK_EQUAL(d.messages.size(), 1u);
  CAF_CHECK_EQUAL(d.max_update_id, 90);
}

CAF_TEST(empty and broken answers) {
  auto d = decode(R"({"ok":true,"result":[]})");
  CAF_CHECK(d.ok);
  CAF_CHECK(d.messages.empty());
  CAF_CHECK_EQUAL(d.max_update_id, 0);
  for (auto body :
       {"", "not json", "{", R"({"ok":true,"result":[{"update_id":1,)",
        R"({"ok":true,"result":{}})", R"({"ok":"yes","result":[]})",
        R"({"ok":true})", "[1,2,3]", "null"}) {
    auto x = decode(body);
    CAF_CHECK(!x.ok);
    CAF_CHECK(!x.error.empty());
    CAF_CHECK(x.messages.empty());
  }
  // A truncated body never yields half a batch, wherever it is cut: after
  // the chat of the second update (which then lacks its text and would be
  // confirmed as "skipped") as much as inside a string or a number. With a
  // button press second, a cut can also end the document in `]}`.
  auto callback
    = R"({"update_id":3,"callback_query":{"id":"q1","from":{"id":7},)"
      R"("message":{"message_id":5,"chat":{"id":7},"entities":[{"offset":0}]},)"
      R"("data":"retry:abc"}})";
  for (auto second : {text_update(2, 7, "b"), std::string{callback}}) {
    auto full = wrap(text_update(1, 7, "a") + "," + second);
    CAF_REQUIRE(decode(full).ok);
    CAF_REQUIRE_EQUAL(decode(full).messages.size(), 2u);
    size_t accepted = 0;
    for (size_t cut = 1; cut < full.size(); ++cut) {
      auto x = decode(full.substr(0, cut));
      if (x.ok || !x.messages.empty() || x.error.empty())
        ++accepted;
    }
    CAF_CHECK_EQUAL(accepted, 0u);
  }
}

CAF_TEST(ok false answers carry the api error) {
  auto d = decode(R"({"ok":false,"error_code":409,"description":"Conflict: )"
                  R"(terminated by other getUpdates request; make sure that )"
                  R"(only one bot instance is running"})");
  CAF_CHECK(!d.ok);
  CAF_CHECK_EQUAL(d.api_error.error_code, 409);
  CAF_CHECK(d.error.find("Conflict") != std::string::npos);
}

CAF_TEST(error bodies with retry after and migration) {
  std::string body
    = R"({"ok":false,"error_code":429,"description":"Too Many )"
      R"(Requests: retry after 7","parameters":{"retry_after":7}})";
  bot_api_error e;
  CAF_CHECK(decode_api_error(body, e));
  CAF_CHECK_EQUAL(e.error_code, 429);
  CAF_CHECK_EQUAL(e.retry_after, 7);
  CAF_CHECK_EQUAL(e.description, "Too Many Requests: retry after 7");
  body
    = R"({"parameters":{"migrate_to_chat_id":-1001987654321},"ok":false,)"
      R"("description":"Bad Request: group chat was upgraded to a supergroup chat","error_code":400})";
  bot_api_error m;
  CAF_CHECK(decode_api_error(body, m));
  CAF_CHECK_EQUAL(m.error_code, 400);
  CAF_CHECK_EQUAL(m.migrate_to_chat_id, -1001987654321);
  CAF_CHECK_EQUAL(m.retry_after, 0);
  bot_api_error u;
  body = R"({"ok":false,"error_code":401,"description":"Unauthorized"})";
  CAF_CHECK(decode_api_error(body, u));
  CAF_CHECK_EQUAL(u.error_code, 401);
  bot_api_error none;
  body = "<html>502 Bad Gateway</html>";
  CAF_CHECK(!decode_api_error(body, none));
  body = R"({"ok":true,"result":true})";
  CAF_CHECK(!decode_api_error(body, none));
}

CAF_TEST(sent message id) {
  std::string body = R"({"ok":true,"result":{"message_id":5123,"from":{"id":1,)"
                     R"("is_bot":true},"chat":{"id":7},"date":1,"text":"x"}})";
  CAF_CHECK_EQUAL(decode_sent_message_id(body), 5123);
  body = R"({"ok":true,"result":true})";
  CAF_CHECK_EQUAL(decode_sent_message_id(body), 0);
  body = "garbage";
  CAF_CHECK_EQUAL(decode_sent_message_id(body), 0);
}

CAF_TEST(encoded calls) {
  CAF_CHECK_EQUAL(
    encode_get_updates(101, 100, 30),
    R"({"offset":101,"limit":100,"timeout":30,)"
    R"("allowed_updates":["message","callback_query","edited_message"]})");
  // No offset on the very first poll.
  CAF_CHECK_EQUAL(encode_get_updates(0, 1, 0).find("offset"),
                  std::string::npos);
  auto send = encode_send_message(-1001234567890, "a \"q\" \\ \n 🌊", "", "");
  CAF_CHECK_EQUAL(send,
                  R"({"chat_id":-1001234567890,"text":"a \"q\" \\ \n 🌊",)"
                  R"("link_preview_options":{"is_disabled":true}})");
  auto html = encode_send_message(7, "<b>x</b>", "HTML",
                                  R"({"inline_keyboard":[]})");
  CAF_CHECK(html.find(R"("parse_mode":"HTML")") != std::string::npos);
  CAF_CHECK(html.find(R"("reply_markup":{"inline_keyboard":[]})")
            != std::string::npos);
  CAF_CHECK_EQUAL(encode_chat_action(7, "typing"),
                  R"({"chat_id":7,"action":"typing"})");
  CAF_CHECK_EQUAL(encode_answer_callback("q1", ""),
                  R"({"callback_query_id":"q1"})");
  CAF_CHECK_EQUAL(encode_delete_message(7, 9),
                  R"({"chat_id":7,"message_id":9})");
}

CAF_TEST(update ids that no offset can confirm are unusable) {
  // Each of these made the old poller loop: a string, a missing id, a
  // negative one (a negative offset counts from the end of the queue),
  // one beyond 64 bits, and 2^63-1, whose offset `id + 1` overflows.
  auto message = std::string{R"("message":{"message_id":1,"from":{"id":7},)"
                             R"("chat":{"id":7},"text":"t"})"};
  for (auto id : {R"("update_id":"12",)", "", R"("update_id":-5,)",
                  R"("update_id":18446744073709551616,)",
                  R"("update_id":9223372036854775807,)", R"("update_id":0,)"}) {
    CAF_MESSAGE("update " << id);
    auto d = decode(wrap("{" + std::string{id} + message + "}"));
    CAF_REQUIRE(d.ok);
    CAF_CHECK(d.messages.empty());
    CAF_CHECK_EQUAL(d.unusable, 1u);
    CAF_CHECK_EQUAL(d.max_update_id, 0);
  }
  // The largest confirmable id still routes, and its offset fits.
  auto d = decode(wrap(text_update(INT64_MAX - 1, 7, "last")));
  CAF_CHECK_EQUAL(d.messages.size(), 1u);
  CAF_CHECK_EQUAL(d.unusable, 0u);
  CAF_CHECK_EQUAL(d.max_update_id, INT64_MAX - 1);
  CAF_CHECK(usable_update_id(INT64_MAX - 1));
  CAF_CHECK(!usable_update_id(INT64_MAX));
}
