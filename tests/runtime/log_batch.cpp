#define CAF_SUITE runtime.log_batch
#include "caf/test/unit_test.hpp"

#include "runtime/log_batch.hpp"

#include <fcntl.h>
#include <string>
#include <unistd.h>

#include <spdlog/logger.h>

// The batching sink: info lines wait in the buffer (no system call each),
// a flush writes them all with one write(2), and warnings go out at once.

using namespace zaki;

namespace {

struct pipe_fixture {
  pipe_fixture() {
    CAF_REQUIRE_EQUAL(::pipe(fds), 0);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  }

  ~pipe_fixture() {
    ::close(fds[0]);
    ::close(fds[1]);
  }

  /// Returns what the sink wrote so far.
  std::string drain() {
    std::string out;
    char buf[4096];
    for (;;) {
      auto n = ::read(fds[0], buf, sizeof(buf));
      if (n <= 0)
        return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

  int fds[2];
};

size_t count_lines(const std::string& text) {
  size_t n = 0;
  for (char c : text)
    n += c == '\n' ? 1 : 0;
  return n;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(log_batch_tests, pipe_fixture)

CAF_TEST(info lines wait for the flush and go out in one write) {
  auto sink = std::make_shared<batch_sink>(fds[1]);
  spdlog::logger log{"batch", sink};
  log.set_pattern("%l %v");
  for (int i = 0; i < 100; ++i)
    log.info("event=line n={}", i);
  CAF_CHECK_EQUAL(sink->writes(), 0u);
  CAF_CHECK_EQUAL(drain(), "");
  log.flush();
  CAF_CHECK_EQUAL(sink->writes(), 1u);
  auto text = drain();
  CAF_CHECK_EQUAL(count_lines(text), 100u);
  CAF_CHECK_EQUAL(text.substr(0, 21), "info event=line n=0\ni");
  // Nothing buffered: a flush writes nothing.
  log.flush();
  CAF_CHECK_EQUAL(sink->writes(), 1u);
}

CAF_TEST(warnings and errors are written at once with what waited) {
  auto sink = std::make_shared<batch_sink>(fds[1]);
  spdlog::logger log{"batch", sink};
  log.set_pattern("%v");
  log.info("before");
  log.warn("careful");
  CAF_CHECK_EQUAL(sink->writes(), 1u);
  CAF_CHECK_EQUAL(drain(), "before\ncareful\n");
  log.error("broken");
  CAF_CHECK_EQUAL(sink->writes(), 2u);
  CAF_CHECK_EQUAL(drain(), "broken\n");
}

CAF_TEST(a full buffer is written without waiting for the flush) {
  auto sink = std::make_shared<batch_sink>(fds[1], 64);
  spdlog::logger log{"batch", sink};
  log.set_pattern("%v");
  for (int i = 0; i < 10; ++i)
    log.info("0123456789");
  // 11 bytes a line: a write after every sixth line.
  CAF_CHECK_EQUAL(sink->writes(), 1u);
  CAF_CHECK_EQUAL(count_lines(drain()), 6u);
}

CAF_TEST(the destructor writes what is left) {
  {
    auto sink = std::make_shared<batch_sink>(fds[1]);
    spdlog::logger log{"batch", sink};
    log.set_pattern("%v");
    log.info("last words");
  }
  CAF_CHECK_EQUAL(drain(), "last words\n");
}

CAF_TEST_FIXTURE_SCOPE_END()
