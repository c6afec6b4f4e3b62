#define CAF_SUITE storage.inbox

#include "storage/inbox.hpp"

#include "caf/test/unit_test.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <unistd.h>

using namespace zaki;

namespace {

inbound_message make(int64_t update_id, int64_t user) {
  inbound_message msg;
  msg.update_id = update_id;
  msg.user_id = user;
  msg.chat_id = user;
  msg.text = "m" + std::to_string(update_id);
  msg.request_id = "req" + std::to_string(update_id);
  return msg;
}

struct fixture {
  std::string root;

  fixture() {
    char tmpl[] = "/tmp/zaki-inbox-XXXXXX";
    // A directory below the temporary one: open() must create it.
    root = std::string{::mkdtemp(tmpl)} + "/data";
  }

  ~fixture() {
    std::error_code ignored;
    std::filesystem::remove_all(std::filesystem::path{root}.parent_path(),
                                ignored);
  }

  inbox open() {
    std::string error;
    auto result = inbox::open(root, error);
    CAF_REQUIRE(result.durable());
    CAF_CHECK(error.empty());
    return result;
  }

  static std::vector<int64_t> ids(const inbound_batch& batch) {
    std::vector<int64_t> out;
    for (auto& msg : batch)
      out.push_back(msg.update_id);
    return out;
  }
};

} // namespace

CAF_TEST(the seen window drops repeats and forgets the oldest) {
  seen_window seen{3};
  CAF_CHECK(seen.insert(1));
  CAF_CHECK(!seen.insert(1));
  CAF_CHECK(seen.insert(2));
  CAF_CHECK(seen.insert(3));
  CAF_CHECK(seen.insert(4)); // forgets 1
  CAF_CHECK_EQUAL(seen.size(), 3u);
  CAF_CHECK(!seen.insert(4));
  CAF_CHECK(seen.insert(1));
}

CAF_TEST(without a journal a batch counts as written at once) {
  inbox box;
  CAF_CHECK(!box.durable());
  bool written = false;
  box.append({make(1, 7)}, [&] {
    written = true;
  });
  CAF_CHECK(written);
  CAF_CHECK(!box.mark_done(1)); // nothing to flush, no timer needed
  CAF_CHECK(box.take_recovered().empty());
}

CAF_TEST_FIXTURE_SCOPE(inbox_tests, fixture)

CAF_TEST(an unfinished batch is recovered by the next run) {
  {
    auto box = open();
    CAF_CHECK(box.take_recovered().empty());
    std::atomic<int> written{0};
    box.append({make(1, 7), make(2, 8)}, [&] {
      ++written;
    });
    box.append({make(3, 7)}, [&] {
      ++written;
    });
    // Only the first finished message gets a timer; the rest ride along.
    CAF_CHECK(box.mark_done(2));
    CAF_CHECK(!box.mark_done(3));
    box.stop(); // flushes the marks and joins the worker
    CAF_CHECK_EQUAL(written.load(), 2);
  }
  auto box = open();
  auto recovered = box.take_recovered();
  CAF_CHECK_EQUAL(ids(recovered), std::vector<int64_t>{1});
  CAF_REQUIRE_EQUAL(recovered.size(), 1u);
  // Handed to a user actor once before: the replay is the second delivery.
  CAF_CHECK_EQUAL(recovered[0].delivery, 1u);
  CAF_CHECK_EQUAL(recovered[0].request_id, "req1");
  // Taken once.
  CAF_CHECK(box.take_recovered().empty());
}

CAF_TEST(done marks go out with the next append) {
  {
    auto box = open();
    box.append({make(1, 7)}, [] {});
    CAF_CHECK(box.mark_done(1));
    // The flush timer has not fired; the next batch carries the mark.
    std::promise<void> written;
    auto done = written.get_future();
    box.append({make(2, 7)}, [&] {
      written.set_value();
    });
    done.wait();
    CAF_CHECK_EQUAL(box.journal()->pending_count(), 1u);
    // A flush after that has nothing left to write.
    box.flush_done();
    CAF_CHECK(box.mark_done(2)); // a new round arms a new timer
  }
  // The inbox's destructor flushed the mark of 2.
  auto box = open();
  CAF_CHECK(box.take_recovered().empty());
}

CAF_TEST(a journal that cannot be opened leaves the inbox without one) {
  // A regular file where the directory should be.
  std::filesystem::create_directories(
    std::filesystem::path{root}.parent_path());
  { std::ofstream{root} << "not a directory"; }
  std::string error;
  auto box = inbox::open(root, error);
  CAF_CHECK(!box.durable());
  CAF_CHECK(!error.empty());
}

CAF_TEST(a recorded answer and its marks are recovered with the message) {
  {
    auto box = open();
    box.append({make(1, 7), make(2, 8)}, [] {});
    std::promise<void> recorded;
    auto done = recorded.get_future();
    CAF_CHECK(box.mark_progress({2, 0, 55}));
    box.record_answer(1, "the answer", [&] {
      recorded.set_value();
    });
    done.wait();
    // The mark collected before went out with the answer's task.
    box.mark_progress({1, 1, 0}); // rides on the armed flush
    box.stop();
  }
  auto box = open();
  auto recovered = box.take_recovered();
  CAF_REQUIRE_EQUAL(recovered.size(), 2u);
  CAF_CHECK(recovered[0].answered);
  CAF_CHECK_EQUAL(recovered[0].answer, "the answer");
  CAF_CHECK_EQUAL(recovered[0].chunks_sent, 1u);
  CAF_CHECK(!recovered[1].answered);
  CAF_CHECK_EQUAL(recovered[1].preview_message_id, 55);
}

CAF_TEST_FIXTURE_SCOPE_END()
