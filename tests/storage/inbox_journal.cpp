#define CAF_SUITE storage.inbox_journal

#include "storage/inbox_journal.hpp"

#include "caf/test/unit_test.hpp"

#include <cstdio>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace zaki;

namespace {

struct fixture {
  std::string path;

  fixture() {
    char tmpl[] = "/tmp/zaki-journal-XXXXXX";
    path = std::string{::mkdtemp(tmpl)} + "/inbox.journal";
  }

  ~fixture() {
    std::remove(path.c_str());
  }

  static inbound_message make(int64_t update_id, int64_t user,
                              std::string text) {
    inbound_message msg;
    msg.update_id = update_id;
    msg.user_id = user;
    msg.chat_id = user;
    msg.message_id = update_id * 10;
    msg.text = std::move(text);
    msg.request_id = "req" + std::to_string(update_id);
    return msg;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(inbox_journal_tests, fixture)

CAF_TEST(pending messages survive a reopen and done ones do not ) {
  std::string error;
  {
    auto journal = inbox_journal::open(path, error);
    CAF_REQUIRE(journal != nullptr);
    CAF_CHECK_EQUAL(journal->pending_count(), 0u);
    inbound_batch batch{make(1, 7, "hello \"quoted\"\nline"),
                        make(2, 8, "Привет 🌊"), make(3, 7, "third")};
    CAF_REQUIRE(journal->append(batch, error));
    CAF_REQUIRE(journal->mark_done(2, error));
  }
  auto journal = inbox_journal::open(path, error);
  CAF_REQUIRE(journal != nullptr);
  auto pending = journal->pending();
  CAF_REQUIRE_EQUAL(pending.size(), 2u);
  CAF_CHECK_EQUAL(pending[0], make(1, 7, "hello \"quoted\"\nline"));
  CAF_CHECK_EQUAL(pending[1], make(3, 7, "third"));
}

CAF_TEST(media fields of a message survive a reopen) {
  std::string error;
  auto photo = make(1, 7, "caption");
  photo.kind = inbound_kind::photo;
  photo.chat = chat_kind::supergroup;
  photo.chat_id = -1001;
  photo.mentions = true;
  photo.reply_to_user_id = 123456;
  photo.file_id = "AgAC\"x";
  photo.file_size = 300000;
  photo.mime_type = "image/jpeg";
  auto doc = make(2, 7, "");
  doc.kind = inbound_kind::document;
  doc.file_id = "DOC";
  doc.file_name = "../r\u00e9port.pdf";
  doc.file_size = 12;
  auto edit = make(3, 7, "fixed");
  edit.edited = true;
  {
    auto journal = inbox_journal::open(path, error);
    CAF_REQUIRE(journal != nullptr);
    CAF_REQUIRE(journal->append(inbound_batch{photo, doc, edit}, error));
  }
  auto journal = inbox_journal::open(path, error);
  CAF_REQUIRE(journal != nullptr);
  auto pending = journal->pending();
  CAF_REQUIRE_EQUAL(pending.size(), 3u);
  CAF_CHECK_EQUAL(pending[0], photo);
  CAF_CHECK_EQUAL(pending[1], doc);
  CAF_CHECK_EQUAL(pending[2], edit);
}

CAF_TEST(a torn last line is ignored) {
  std::string error;
  {
    auto journal = inbox_journal::open(path, error);
    CAF_REQUIRE(journal != nullptr);
    CAF_REQUIRE(journal->append({make(5, 1, "kept")}, error));
  }
  {
    std::ofstream out{path, std::ios::app};
    out << "{\"a\":6,\"f\":1,\"c\":1,\"m\":0,\"t\":\"cut of";
  }
  auto journal = inbox_journal::open(path, error);
  CAF_REQUIRE(journal != nullptr);
  auto pending = journal->pending();
  CAF_REQUIRE_EQUAL(pending.size(), 1u);
  CAF_CHECK_EQUAL(pending[0].text, "kept");
}

CAF_TEST(two routers never share one journal) {
  std::string error;
  auto first = inbox_journal::open(path, error);
  CAF_REQUIRE(first != nullptr);
  auto second = inbox_journal::open(path, error);
  CAF_CHECK(second == nullptr);
  CAF_CHECK(error.find("another router") != std::string::npos);
}

CAF_TEST(compaction keeps exactly the pending messages) {
  std::string error;
  {
    auto journal = inbox_journal::open(path, error);
    CAF_REQUIRE(journal != nullptr);
    for (int64_t first = 1; first <= 25000; first += 100) {
      inbound_batch batch;
      for (auto id = first; id < first + 100; ++id)
        batch.push_back(make(id, id % 13 + 1, "m"));
      CAF_REQUIRE(journal->append(batch, error));
      for (auto id = first; id < first + 100; ++id)
        if (id % 1000 != 0)
          CAF_REQUIRE(journal->mark_done(id, error));
    }
    CAF_CHECK_EQUAL(journal->pending_count(), 25u);
    // The journal keeps only ids in memory: the messages are read back
    // from the file, which was compacted while running.
    auto pending = journal->pending();
    CAF_REQUIRE_EQUAL(pending.size(), 25u);
    CAF_CHECK_EQUAL(pending.front(), make(1000, 1000 % 13 + 1, "m"));
    CAF_CHECK_EQUAL(pending.back().update_id, 25000);
  }
  auto journal = inbox_journal::open(path, error);
  CAF_REQUIRE(journal != nullptr);
  CAF_CHECK_EQUAL(journal->pending_count(), 25u);
  std::ifstream in{path};
  size_t lines = 0;
  for (std::string line; std::getline(in, line);)
    ++lines;
  CAF_CHECK_EQUAL(lines, 25u);
}

// Compaction streams the file through a 64 KB buffer: lines that cross its
// edges, and lines longer than it, come through byte for byte.
CAF_TEST(compaction keeps lines longer than its buffer whole) {
  std::string error;
  std::vector<inbound_message> kept;
  {
    auto journal = inbox_journal::open(path, error);
    CAF_REQUIRE(journal != nullptr);
    int64_t id = 1;
    for (int round = 0; round < 220; ++round) {
      inbound_batch batch;
      for (int i = 0; i < 100; ++i, ++id) {
        // Lengths vary so that lines fall across chunk edges everywhere;
        // every 5,000th message is 150 KB, over two chunks.
        auto len = id % 5000 == 0 ? 150000 : static_cast<size_t>(id % 97);
        batch.push_back(make(
          id, id % 7 + 1, std::string(len, static_cast<char>('a' + id % 26))));
      }
      CAF_REQUIRE(journal->append(batch, error));
      for (auto& msg : batch) {
        if (msg.update_id % 2500 == 0)
          kept.push_back(msg);
        else
          CAF_REQUIRE(journal->mark_done(msg.update_id, error));
      }
    }
    CAF_REQUIRE_EQUAL(journal->pending_count(), kept.size());
    CAF_CHECK_EQUAL(journal->pending(), kept);
  }
  auto journal = inbox_journal::open(path, error);
  CAF_REQUIRE(journal != nullptr);
  CAF_CHECK_EQUAL(journal->pending(), kept);
  std::ifstream in{path};
  size_t lines = 0;
  for (std::string line; std::getline(in, line);)
    ++lines;
  CAF_CHECK_EQUAL(lines, kept.size());
}

CAF_TEST(an encoded batch is the same journal as the messages) {
  std::string error;
  inbound_batch batch{make(1, 4, "plain"), make(2, 4, "with \"quotes\"\n"),
                      make(3, 5, "Привет")};
  batch[1].callback_id = "cb-1";
  batch[2].delivery = 2;
  auto encoded = encode_journal_batch(batch);
  CAF_CHECK_EQUAL(encoded.ids, (std::vector<int64_t>{1, 2, 3}));
  std::string one_by_one;
  for (auto& msg : batch)
    one_by_one += encode_journal_entry(msg);
  CAF_CHECK_EQUAL(encoded.lines, one_by_one);
  {
    auto journal = inbox_journal::open(path, error);
    CAF_REQUIRE(journal != nullptr);
    CAF_REQUIRE(journal->append(encoded, error));
    CAF_REQUIRE(journal->mark_done(1, error));
  }
  auto journal = inbox_journal::open(path, error);
  CAF_REQUIRE(journal != nullptr);
  auto pending = journal->pending();
  CAF_REQUIRE_EQUAL(pending.size(), 2u);
  CAF_CHECK_EQUAL(pending[0], batch[1]);
  CAF_CHECK_EQUAL(pending[1], batch[2]);
}

CAF_TEST(garbage lines do not decode) {
  std::map<int64_t, inbound_message> pending;
  CAF_CHECK(!apply_journal_line("not json", pending));
  CAF_CHECK(!apply_journal_line("{\"a\":\"x\"}", pending));
  CAF_CHECK(!apply_journal_line("{\"a\":1}", pending));
  CAF_CHECK(pending.empty());
}

CAF_TEST(a recorded answer and its marks come back with the message) {
  std::string error;
  {
    auto journal = inbox_journal::open(path, error);
    CAF_REQUIRE(journal != nullptr);
    CAF_REQUIRE(journal->append({make(1, 7, "q1"), make(2, 7, "q2"),
                                 make(3, 8, "q3"), make(4, 9, "q4")},
                                error));
    CAF_REQUIRE(journal->record_answer(1, "answer \"one\"\nПривет", error));
    CAF_REQUIRE(journal->record_answer(2, "two", error));
    CAF_REQUIRE(journal->record_answer(3, "", error));
    CAF_REQUIRE(
      journal->mark_progress({{1, 2, 0}, {1, 1, 0}, {3, 0, 4711}}, error));
    CAF_REQUIRE(journal->mark_done(2, error));
    // Progress of a message done already is not written at all.
    CAF_REQUIRE(journal->mark_progress({{2, 5, 99}}, error));
    CAF_REQUIRE(journal->record_answer(2, "late", error));
  }
  auto journal = inbox_journal::open(path, error);
  CAF_REQUIRE(journal != nullptr);
  auto pending = journal->pending();
  CAF_REQUIRE_EQUAL(pending.size(), 3u);
  CAF_CHECK_EQUAL(pending[0].update_id, 1);
  CAF_CHECK(pending[0].answered);
  CAF_CHECK_EQUAL(pending[0].answer, "answer \"one\"\nПривет");
  // Marks only grow: a late, lower mark does not undo a higher one.
  CAF_CHECK_EQUAL(pending[0].chunks_sent, 2u);
  CAF_CHECK_EQUAL(pending[0].preview_message_id, 0);
  CAF_CHECK_EQUAL(pending[1].update_id, 3);
  CAF_CHECK(pending[1].answered); // an empty answer is an answer
  CAF_CHECK_EQUAL(pending[1].answer, "");
  CAF_CHECK_EQUAL(pending[1].preview_message_id, 4711);
  CAF_CHECK_EQUAL(pending[2].update_id, 4);
  CAF_CHECK(!pending[2].answered);
  CAF_CHECK_EQUAL(pending[2].chunks_sent, 0u);
  // The reopen compacted the file: the lines of the done message are gone,
  // those of pending ones kept (3 accepted, 2 answers, 3 marks).
  std::ifstream in{path};
  size_t lines = 0;
  for (std::string line; std::getline(in, line);)
    ++lines;
  CAF_CHECK_EQUAL(lines, 3u + 2u + 3u);
}

CAF_TEST(a journal of long answers compacts by size) {
  std::string error;
  auto journal = inbox_journal::open(path, error);
  CAF_REQUIRE(journal != nullptr);
  // 100 KB answers: far fewer lines than the line threshold, but 60 MB.
  std::string answer(100000, 'x');
  for (int64_t id = 1; id <= 600; ++id) {
    CAF_REQUIRE(journal->append({make(id, 3, "q")}, error));
    CAF_REQUIRE(journal->record_answer(id, answer, error));
    if (id != 300)
      CAF_REQUIRE(journal->mark_done(id, error));
  }
  CAF_CHECK_LESS(journal->bytes_since_compaction(), 33u * 1024 * 1024);
  struct stat st {};
  CAF_REQUIRE_EQUAL(::stat(path.c_str(), &st), 0);
  CAF_CHECK_LESS(st.st_size, 34 * 1024 * 1024);
  auto pending = journal->pending();
  CAF_REQUIRE_EQUAL(pending.size(), 1u);
  CAF_CHECK_EQUAL(pending[0].update_id, 300);
  CAF_CHECK_EQUAL(pending[0].answer.size(), answer.size());
}

CAF_TEST(answer and mark lines decode on their own) {
  std::map<int64_t, inbound_message> pending;
  CAF_REQUIRE(
    apply_journal_line(encode_journal_entry(make(5, 2, "q")), pending));
  std::string lines;
  append_answer_entry(5, "a\tb", lines);
  CAF_CHECK_EQUAL(append_mark_entry({5, 3, 12}, lines), 2u);
  CAF_CHECK_EQUAL(append_mark_entry({5, 0, 0}, lines), 0u);
  auto decoded = decode_journal(encode_journal_entry(make(5, 2, "q")) + lines
                                + "{\"s\":5,\"k\":9"); // torn: ignored
  CAF_REQUIRE_EQUAL(decoded.size(), 1u);
  CAF_CHECK_EQUAL(decoded[5].answer, "a\tb");
  CAF_CHECK_EQUAL(decoded[5].chunks_sent, 3u);
  CAF_CHECK_EQUAL(decoded[5].preview_message_id, 12);
  CAF_CHECK(!apply_journal_line("{\"w\":5}", pending));
  CAF_CHECK(!apply_journal_line("{\"s\":5,\"k\":-1}", pending));
  CAF_CHECK(!apply_journal_line("{\"z\":5}", pending));
  // Marks of unknown messages change nothing.
  CAF_CHECK(apply_journal_line("{\"s\":6,\"k\":1}", pending));
  CAF_CHECK_EQUAL(pending.size(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
