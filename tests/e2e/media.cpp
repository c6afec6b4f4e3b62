#define CAF_SUITE e2e.media
#include "caf/test/unit_test.hpp"

#include <dirent.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include <fstream>
#include <sstream>

#include "tests/fixtures/checks.hpp"
#include "tests/fixtures/router_fixture.hpp"

// Photos, files, unreadable kinds, edits and group chats end to end (issue
// 25): the real router against the fake Bot API, which serves files through
// getFile and its file endpoint, and the fake gateway, which records image
// parts as "[image:<url>]" and echoes them. Every test reads what the user
// sees in Telegram; none of them meets silence.

using namespace zaki;
using namespace zaki::test;
using namespace std::chrono;

namespace {

constexpr int64_t alice = 7001;

/// A message update of `user` in `chat` with `body` (the kind's members).
std::string message(int64_t user, int64_t chat, const char* type,
                    int64_t message_id, const std::string& body,
                    const char* key = "message") {
  return std::string{R"({")"} + key + R"(":{"message_id":)"
    + std::to_string(message_id) + R"(,"from":{"id":)" + std::to_string(user)
    + R"(,"is_bot":false,"first_name":"A"},)" + R"("chat":{"id":)"
    + std::to_string(chat) + R"(,"type":")" + type + R"("},"date":1796601600,)"
    + body + "}}";
}

std::string private_message(int64_t message_id, const std::string& body) {
  return message(alice, alice, "private", message_id, body);
}

std::string photo(const char* file_id, const std::string& caption) {
  auto body = std::string{R"("photo":[{"file_id":"small","file_unique_id":"s",)"
                          R"("file_size":10,"width":90,"height":90},)"
                          R"({"file_id":")"}
    + file_id
    + R"(","file_unique_id":"l","file_size":20,"width":1280,"height":960}])";
  if (!caption.empty())
    body += R"(,"caption":")" + caption + R"(")";
  return body;
}

std::string document(const char* key, const char* file_id,
                     const std::string& name, int64_t size,
                     const std::string& caption = {}) {
  auto body = std::string{R"(")"} + key + R"(":{"file_id":")" + file_id
    + R"(","file_unique_id":"u","file_size":)" + std::to_string(size);
  if (!name.empty())
    body += R"(,"file_name":")" + name + R"(")";
  body += "}";
  if (!caption.empty())
    body += R"(,"caption":")" + caption + R"(")";
  return body;
}

/// Returns the request id in "Request: <code>…</code>" of an error.
std::string request_id_of(const std::string& html) {
  static const std::string marker = "Request: <code>";
  auto pos = html.find(marker);
  if (pos == std::string::npos)
    return {};
  auto end = html.find("</code>", pos);
  return html.substr(pos + marker.size(), end - pos - marker.size());
}

std::string inbox(router_fixture& f, int64_t user) {
  return f.cfg().store.data_root + "/users/user-" + std::to_string(user)
    + "/inbox";
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  if (auto d = ::opendir(dir.c_str())) {
    while (auto e = ::readdir(d))
      if (std::string{e->d_name} != "." && std::string{e->d_name} != "..")
        out.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Pushes a text and waits until its echo is the `n`th message to the chat,
/// so that everything pushed before was handled.
void sync(router_fixture& f, const std::string& text, size_t n) {
  f.telegram.push_text(alice, text);
  CAF_REQUIRE(f.telegram.wait_for_sent_to(alice, n, seconds(10)));
  auto last = f.telegram.sent_to(alice).back().text;
  CAF_CHECK_EQUAL(last, "echo: " + text);
}

} // namespace

CAF_TEST(unreadable kinds get a friendly notice once per kind) {
  router_fixture f;
  f.add_user(alice);
  f.start();
  auto sticker
    = R"("sticker":{"file_id":"S","width":512,"height":512,"emoji":"😀"})";
  f.telegram.push_raw(private_message(1, sticker));
  f.telegram.push_raw(
    private_message(2, R"("location":{"latitude":52.5,"longitude":13.4})"));
  f.telegram.push_raw(
    private_message(3, R"("contact":{"phone_number":"+49","first_name":"B"})"));
  f.telegram.push_raw(
    private_message(4, R"("poll":{"id":"1","question":"Q?","options":[]})"));
  f.telegram.push_raw(private_message(5, R"("dice":{"emoji":"🎲","value":3})"));
  f.telegram.push_raw(private_message(6, sticker));
  sync(f, "after the kinds", 6);
  auto texts = texts_to(f, alice);
  CAF_CHECK(contains(texts[0], "Nice sticker"));
  CAF_CHECK(contains(texts[1], "locations"));
  CAF_CHECK(contains(texts[2], "contacts"));
  CAF_CHECK(contains(texts[3], "polls"));
  CAF_CHECK(contains(texts[4], "dice"));
  for (size_t i = 0; i < 5; ++i)
    CAF_CHECK(contains(texts[i], "I can read text, photos, documents"));
  // The second sticker got no second notice; only the text reached the
  // assistant.
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 1u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(a photo reaches the gateway as an image part in burst order) {
  router_fixture f;
  f.add_user(alice);
  f.telegram.add_file("PH", "JPEGBYTES", "photos/file_1.jpg");
  f.telegram.add_file("NOIMG", "PNGISH", "photos/file_2.jpg");
  f.telegram.add_file("EMPTY", "", "photos/file_3.jpg");
  f.start();
  // A text, a photo and a text in one burst keep their order.
  f.telegram.push_text(alice, "u7001-m1");
  f.telegram.push_raw(
    private_message(10, photo("PH", "what is in this picture?")));
  f.telegram.push_text(alice, "u7001-m2");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(alice, 3, seconds(10)));
  auto texts = texts_to(f, alice);
  CAF_CHECK_EQUAL(texts[0], "echo: u7001-m1");
  CAF_CHECK_EQUAL(texts[1],
                  "echo: what is in this picture? "
                  "[image:data:image/jpeg;base64,SlBFR0JZVEVT]");
  CAF_CHECK_EQUAL(texts[2], "echo: u7001-m2");
  // Only the largest size was fetched, by the path getFile named.
  CAF_CHECK_EQUAL(f.telegram.file_requests(),
                  std::vector<std::string>{"photos/file_1.jpg"});
  // A photo without a caption is sent alone.
  f.telegram.push_raw(private_message(11, photo("PH", "")));
  CAF_REQUIRE(f.telegram.wait_for_sent_to(alice, 4, seconds(10)));
  texts = texts_to(f, alice);
  CAF_CHECK_EQUAL(texts[3],
                  "echo: [image:data:image/jpeg;base64,SlBFR0JZVEVT]");
  // A model without image input (400): the caption alone, and the user is
  // told that the picture was not read.
  f.telegram.push_raw(private_message(12, photo("NOIMG", "gw:noimage look")));
  CAF_REQUIRE(f.telegram.wait_for_sent_to(alice, 6, seconds(10)));
  texts = texts_to(f, alice);
  CAF_CHECK(contains(texts[4], "could not read the picture"));
  CAF_CHECK_EQUAL(texts[5], "echo: gw:noimage look");
  // A photo of 0 bytes: told, the caption still goes through.
  f.telegram.push_raw(private_message(13, photo("EMPTY", "and this")));
  CAF_REQUIRE(f.telegram.wait_for_sent_to(alice, 8, seconds(10)));
  texts = texts_to(f, alice);
  CAF_CHECK(contains(texts[6], "empty (0 bytes)"));
  CAF_CHECK_EQUAL(texts[7], "echo: and this");
  CAF_CHECK_EQUAL(f.gateway.stats().order_violations, 0u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(documents and voice notes are saved in the inbox) {
  router_fixture f;
  f.add_user(alice);
  f.telegram.add_file("DOC", "%PDF-1.4 report", "documents/file_5.pdf");
  f.telegram.add_file("VOICE", "OggS voice", "voice/file_6.oga");
  f.start();
  f.telegram.push_raw(private_message(
    20, document("document", "DOC", "../../evil.pdf", 15, "summarise it")));
  f.telegram.push_raw(private_message(21, document("voice", "VOICE", "", 10)));
  CAF_REQUIRE(f.telegram.wait_for_sent_to(alice, 2, seconds(10)));
  auto names = files_in(inbox(f, alice));
  CAF_REQUIRE_EQUAL(names.size(), 2u);
  CAF_CHECK(contains(names[0], "-evil.pdf"));
  CAF_CHECK(contains(names[1], "-voice.ogg"));
  CAF_CHECK_EQUAL(read_all(inbox(f, alice) + "/" + names[0]),
                  "%PDF-1.4 report");
  CAF_CHECK_EQUAL(read_all(inbox(f, alice) + "/" + names[1]), "OggS voice");
  auto texts = texts_to(f, alice);
  // The assistant is told what arrived and where its container sees it.
  CAF_CHECK(contains(texts[0], "echo: [The user sent you a document"));
  CAF_CHECK(contains(texts[0], "inbox/" + names[0]));
  CAF_CHECK(contains(texts[0], "summarise it"));
  CAF_CHECK(!contains(texts[0], ".."));
  CAF_CHECK(contains(texts[1], "a voice note"));
  CAF_CHECK(contains(texts[1], "inbox/" + names[1]));
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(bad files are refused with a reason and nothing is saved) {
  router_fixture f;
  f.add_user(alice);
  f.cfg().media.max_file_bytes = 1000;
  f.telegram.add_file("GONE", "bytes", "documents/gone.pdf", -1, true);
  f.telegram.add_file("FORGED", "secret", "../../bot424242/getUpdates");
  f.telegram.add_file("BIG", std::string(2000, 'x'), "documents/big.bin", 10);
  f.start();
  // Over the limit by the message: told the limit, nothing fetched.
  f.telegram.push_raw(
    private_message(30, document("document", "X", "big.zip", 5000)));
  // Over the limit only when it arrives (getFile said 10 bytes).
  f.telegram.push_raw(
    private_message(31, document("document", "BIG", "b.bin", 0)));
  // 404 at the file endpoint, an unknown file_id, a forged path.
  f.telegram.push_raw(
    private_message(32, document("document", "GONE", "g.pdf", 5)));
  f.telegram.push_raw(
    private_message(33, document("audio", "NOPE", "n.mp3", 5)));
  f.telegram.push_raw(
    private_message(34, document("document", "FORGED", "f.pdf", 5)));
  sync(f, "still here", 6);
  auto texts = texts_to(f, alice);
  CAF_CHECK(contains(texts[0], "too large"));
  CAF_CHECK(contains(texts[0], "1000 bytes"));
  CAF_CHECK(contains(texts[1], "too large"));
  for (size_t i = 2; i < 5; ++i) {
    CAF_CHECK(contains(texts[i], "I could not fetch your file"));
    CAF_CHECK(contains(texts[i], "ZR-MEDIA-DOWNLOAD"));
    CAF_CHECK(contains(f.telegram.sent_to(alice)[i].reply_markup, "Retry"));
  }
  CAF_CHECK(files_in(inbox(f, alice)).empty());
  // The forged path was never requested.
  for (auto& p : f.telegram.file_requests())
    CAF_CHECK(!contains(p, ".."));
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 1u);
  // Retry fetches the file again once Telegram serves it.
  auto err = f.telegram.sent_to(alice)[2];
  auto rid = request_id_of(err.text);
  CAF_REQUIRE(!rid.empty());
  f.telegram.add_file("GONE", "now here", "documents/gone.pdf");
  f.telegram.push_callback(alice, "z1:r:" + rid, err.message_id);
  CAF_REQUIRE(f.telegram.wait_for_sent_to(alice, 7, seconds(10)));
  CAF_CHECK(contains(texts_to(f, alice)[6], "It is saved at"));
  CAF_CHECK_EQUAL(files_in(inbox(f, alice)).size(), 1u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(a file over the storage quota is refused and nothing is saved) {
  router_fixture f;
  f.add_user(alice);
  // 1 MiB for the whole data dir: the first file fits, the second not.
  f.cfg().containers.storage_mb = 1;
  f.telegram.add_file("A", std::string(700 * 1024, 'a'), "documents/a.bin");
  f.telegram.add_file("B", std::string(400 * 1024, 'b'), "documents/b.bin");
  f.start();
  f.telegram.push_raw(
    private_message(40, document("document", "A", "a.bin", 700 * 1024)));
  f.telegram.push_raw(
    private_message(41, document("document", "B", "b.bin", 400 * 1024)));
  sync(f, "after the files", 3);
  auto texts = texts_to(f, alice);
  CAF_CHECK(contains(texts[0], "It is saved at"));
  CAF_CHECK(contains(texts[1], "Your storage is full"));
  CAF_CHECK(contains(texts[1], "1 MB"));
  auto names = files_in(inbox(f, alice));
  CAF_REQUIRE_EQUAL(names.size(), 1u);
  CAF_CHECK(contains(names[0], "-a.bin"));
  // The refused file reached no gateway: the two texts and the first file.
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 2u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(groups are ignored with one pointer to the private chat) {
  router_fixture f;
  f.add_user(alice);
  f.cfg().chat.bot_username = "zaki_test_bot";
  f.start();
  constexpr int64_t group = -100555;
  f.telegram.push_raw(
    message(alice, group, "supergroup", 40, R"("text":"hello bot")"));
  f.telegram.push_raw(
    message(alice, group, "supergroup", 41, R"("text":"anyone?")"));
  f.telegram.push_raw(
    message(alice, -100777, "channel", 42, R"("text":"news")", "channel_post"));
  // Another member of the same group: the group was told already (and no
  // actor is started for a member who only writes in groups).
  f.telegram.push_raw(
    message(7002, group, "supergroup", 43, R"("text":"hi all")"));
  sync(f, "private", 1);
  auto in_group = texts_to(f, group);
  CAF_REQUIRE_EQUAL(in_group.size(), 1u);
  CAF_CHECK(contains(in_group[0], "I work in private chats"));
  CAF_CHECK(contains(in_group[0], "https://t.me/zaki_test_bot"));
  CAF_CHECK(texts_to(f, -100777).empty());
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 1u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(groups in mention mode answer mentions and replies as replies) {
  router_fixture f;
  f.add_user(alice);
  f.add_user(7002);
  f.cfg().chat.groups = "mention";
  f.cfg().chat.bot_username = "zaki_test_bot";
  f.start();
  constexpr int64_t group = -5;
  f.telegram.push_raw(
    message(alice, group, "group", 50, R"("text":"lunch at noon?")"));
  f.telegram.push_raw(message(
    alice, group, "group", 51,
    R"("text":"@zaki_test_bot u7001-m1","entities":[{"offset":0,"length":14,"type":"mention"}])"));
  f.telegram.push_raw(message(
    alice, group, "group", 52,
    R"("text":"u7001-m2","reply_to_message":{"message_id":1,"from":{"id":424242,"is_bot":true},"chat":{"id":-5,"type":"group"},"date":1,"text":"x"})"));
  CAF_REQUIRE(f.telegram.wait_for_sent_to(group, 3, seconds(10)));
  auto sent = f.telegram.sent_to(group);
  CAF_CHECK(contains(sent[0].text, "everyone in this group can read"));
  CAF_CHECK_EQUAL(sent[1].text, "echo: u7001-m1");
  CAF_CHECK_EQUAL(sent[1].reply_to, 51);
  CAF_CHECK_EQUAL(sent[2].text, "echo: u7001-m2");
  CAF_CHECK_EQUAL(sent[2].reply_to, 52);
  // Another member's first mention: the group was told already.
  f.telegram.push_raw(message(
    7002, group, "group", 53,
    R"("text":"@zaki_test_bot u7002-m1","entities":[{"offset":0,"length":14,"type":"mention"}])"));
  CAF_REQUIRE(f.telegram.wait_for_sent_to(group, 4, seconds(10)));
  // A copy: CAF_CHECK_EQUAL keeps a reference into the returned vector.
  CAF_CHECK_EQUAL(std::string{f.telegram.sent_to(group).back().text},
                  "echo: u7002-m1");
  // The notice came once; the chatter was not routed.
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 3u);
  CAF_CHECK_EQUAL(f.stop(), 0);
  CAF_CHECK_EQUAL(f.telegram.sent_to(group).size(), 4u);
}

CAF_TEST(an edit replaces the queued text and is never sent on its own) {
  router_fixture f;
  f.add_user(alice);
  f.start();
  f.telegram.push_raw(private_message(60, R"("text":"gw:sleep=800 first")"));
  f.telegram.push_raw(private_message(61, R"("text":"secnod")"));
  f.telegram.push_raw(message(alice, alice, "private", 61,
                              R"("edit_date":1796601601,"text":"second")",
                              "edited_message"));
  CAF_REQUIRE(f.telegram.wait_for_sent_to(alice, 2, seconds(10)));
  auto texts = texts_to(f, alice);
  CAF_CHECK_EQUAL(texts[1], "echo: second");
  // An edit of a message already answered is not re-sent.
  f.telegram.push_raw(message(alice, alice, "private", 61,
                              R"("edit_date":1796601602,"text":"third")",
                              "edited_message"));
  sync(f, "done", 3);
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 3u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(files an answer names are sent as documents) {
  router_fixture f;
  f.add_user(alice);
  f.start();
  auto dir = f.cfg().store.data_root + "/users/user-7001/outbox";
  std::filesystem::create_directories(dir);
  std::ofstream{dir + "/report.pdf", std::ios::binary} << "%PDF-1.4 made";
  std::ofstream{f.cfg().store.data_root + "/secret.txt"} << "not yours";
  f.telegram.push_text(alice, "here [report](file:outbox/report.pdf)");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(alice, 1, seconds(10)));
  auto first = texts_to(f, alice);
  CAF_CHECK_EQUAL(first[0], "echo: here report");
  std::vector<fakes::api_call> docs;
  for (int i = 0; i < 100 && docs.empty(); ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    docs = f.telegram.calls("sendDocument");
  }
  CAF_REQUIRE_EQUAL(docs.size(), 1u);
  CAF_CHECK_EQUAL(docs[0].chat_id, alice);
  CAF_CHECK_EQUAL(docs[0].text, "report.pdf");
  CAF_CHECK_EQUAL(docs[0].data, "%PDF-1.4 made");
  // Paths outside the user's data dir, or missing files, are refused.
  f.telegram.push_text(alice,
                       "[a](file:../../secret.txt) [b](file:/etc/passwd) "
                       "[c](file:outbox/none.pdf)");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(alice, 5, seconds(10)));
  auto texts = texts_to(f, alice);
  CAF_CHECK(contains(texts[1], "outside your data directory"));
  CAF_CHECK(contains(texts[2], "not a path inside your data directory"));
  CAF_CHECK(contains(texts[3], "no such file"));
  CAF_CHECK_EQUAL(texts[4], "echo: a b c");
  CAF_CHECK_EQUAL(f.telegram.calls("sendDocument").size(), 1u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}
