#define CAF_SUITE e2e.journal
#include "caf/test/unit_test.hpp"

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
