#define CAF_SUITE e2e.journal
#include "caf/test/unit_test.hpp"

#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/inbox_journal.hpp"
#include "tests/fixtures/router_fixture.hpp"

// The inbox journal of a running router: accepted messages are on disk
// before they are confirmed, and answered ones are marked done soon after,
// with no later batch needed to carry the marks, so a restart replays none.

using namespace zaki;
using namespace zaki::test;
using namespace std::chrono;

namespace {

size_t done_marks_in(const std::string& path) {
  std::ifstream in{path};
  std::string line;
  size_t n = 0;
  while (std::getline(in, line))
    if (line.rfind("{\"d\":", 0) == 0)
      ++n;
  return n;
}

} // namespace

CAF_TEST(answered messages are marked done without a later batch) {
  router_fixture f;
  f.add_user(7101);
  f.start();
  for (int i = 1; i <= 3; ++i)
    f.telegram.push_text(7101, "hello " + std::to_string(i));
  CAF_REQUIRE(f.telegram.wait_for_sent(3, seconds(10)));
  auto path = f.dir() + "/data/inbox.journal";
  // No update follows, so only the flush timer can write the marks.
  auto deadline = steady_clock::now() + seconds(3);
  while (done_marks_in(path) < 3 && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(10));
  CAF_CHECK_EQUAL(done_marks_in(path), 3u);
  CAF_CHECK_EQUAL(f.stop(), 0);
  std::string error;
  auto journal = inbox_journal::open(path, error);
  if (!journal)
    CAF_FAIL("cannot open the journal: " << error);
  CAF_CHECK(journal->pending().empty());
}

namespace {

inbound_message accepted(int64_t update_id, int64_t user, std::string text) {
  inbound_message msg;
  msg.update_id = update_id;
  msg.user_id = user;
  msg.chat_id = user;
  msg.message_id = update_id;
  msg.text = std::move(text);
  msg.request_id = "R" + std::to_string(update_id) + "-journal-test";
  return msg;
}

/// Leaves a journal as a router killed mid-reply would: messages accepted,
/// some answers recorded, some chunks confirmed, none done.
void write_crashed_journal(router_fixture& f,
                           const std::function<void(inbox_journal&)>& fill) {
  std::filesystem::create_directories(f.dir() + "/data");
  std::string error;
  auto journal = inbox_journal::open(f.dir() + "/data/inbox.journal", error);
  if (!journal)
    CAF_FAIL("cannot open the journal: " << error);
  fill(*journal);
}

} // namespace

CAF_TEST(a replay resends a recorded answer without asking the gateway) {
  router_fixture f;
  f.add_user(7201);
  write_crashed_journal(f, [](inbox_journal& j) {
    std::string error;
    CAF_REQUIRE(j.append({accepted(11, 7201, "first question"),
                          accepted(12, 7201, "second question")},
                         error));
    CAF_REQUIRE(j.record_answer(11, "the **recorded** answer", error));
  });
  f.start();
  CAF_REQUIRE(f.telegram.wait_for_sent(2, seconds(10)));
  auto sent = f.telegram.sent_to(7201);
  CAF_REQUIRE_EQUAL(sent.size(), 2u);
  CAF_CHECK_EQUAL(sent[0].text, "the <b>recorded</b> answer");
  // Only the message without a recorded answer went to the gateway.
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 1u);
  CAF_CHECK(sent[1].text.find("second question") != std::string::npos);
  CAF_CHECK_EQUAL(f.stop(), 0);
  std::string error;
  auto journal = inbox_journal::open(f.dir() + "/data/inbox.journal", error);
  CAF_REQUIRE(journal != nullptr);
  CAF_CHECK(journal->pending().empty());
}

CAF_TEST(a replay sends only the chunks telegram did not confirm) {
  router_fixture f;
  f.add_user(7202);
  // Two chunks: 3,000 + 3,000 characters in two paragraphs.
  std::string first(3000, 'a');
  std::string second(3000, 'b');
  write_crashed_journal(f, [&](inbox_journal& j) {
    std::string error;
    CAF_REQUIRE(j.append({accepted(21, 7202, "long question")}, error));
    CAF_REQUIRE(j.record_answer(21, first + "\n\n" + second, error));
    CAF_REQUIRE(j.mark_progress({{21, 1, 0}}, error));
  });
  f.start();
  CAF_REQUIRE(f.telegram.wait_for_sent(1, seconds(10)));
  // Replies of one chat keep their order: a resent first chunk would come
  // before the answer to this.
  f.telegram.push_text(7202, "u7202-m1 after");
  CAF_REQUIRE(f.telegram.wait_for_sent(2, seconds(10)));
  auto sent = f.telegram.sent_to(7202);
  CAF_REQUIRE_EQUAL(sent.size(), 2u);
  CAF_CHECK_EQUAL(sent[0].text, second);
  CAF_CHECK(sent[1].text.find("after") != std::string::npos);
  CAF_CHECK_EQUAL(f.gateway.stats().chat_requests, 1u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}
