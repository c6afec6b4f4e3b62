#define CAF_SUITE runtime.log_batch
#include "caf/test/unit_test.hpp"

#include "runtime/log_batch.hpp"

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <string>
#include <thread>
#include <unistd.h>

#include <spdlog/logger.h>

// The batching sink: info lines wait in the buffer (no system call and no
// wake-up each); its writer thread writes them with one write(2) per batch
// on a flush, at once after a warning, when the buffer is full and at least
// once a second; a writer stuck on a full pipe never blocks the loggers.

using namespace zaki;
using namespace std::chrono;

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

  /// Reads until `lines` lines arrived or 5 s passed.
  std::string read_lines(size_t lines) {
    std::string out;
    auto until = steady_clock::now() + seconds(5);
    while (count(out) < lines && steady_clock::now() < until) {
      out += drain();
      std::this_thread::sleep_for(milliseconds(1));
    }
    return out;
  }

  static size_t count(const std::string& text) {
    size_t n = 0;
    for (char c : text)
      n += c == '\n' ? 1 : 0;
    return n;
  }

  int fds[2];
};

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
  auto text = read_lines(100);
  CAF_CHECK_EQUAL(count(text), 100u);
  CAF_CHECK_EQUAL(sink->writes(), 1u);
  CAF_CHECK_EQUAL(text.substr(0, 21), "info event=line n=0\ni");
}

CAF_TEST(warnings and errors are written at once with what waited) {
  auto sink = std::make_shared<batch_sink>(fds[1]);
  spdlog::logger log{"batch", sink};
  log.set_pattern("%v");
  log.info("before");
  log.warn("careful");
  CAF_CHECK_EQUAL(read_lines(2), "before\ncareful\n");
  log.error("broken");
  CAF_CHECK_EQUAL(read_lines(1), "broken\n");
  CAF_CHECK_EQUAL(sink->writes(), 2u);
}

CAF_TEST(a full buffer is written without waiting for the flush) {
  auto sink = std::make_shared<batch_sink>(fds[1], 64);
  spdlog::logger log{"batch", sink};
  log.set_pattern("%v");
  for (int i = 0; i < 10; ++i)
    log.info("0123456789");
  // 11 bytes a line: the sixth line fills the buffer and wakes the writer.
  auto text = read_lines(6);
  CAF_CHECK_GREATER_OR_EQUAL(count(text), 6u);
  CAF_CHECK_GREATER_OR_EQUAL(sink->writes(), 1u);
}

CAF_TEST(drain returns once everything is written) {
  auto sink = std::make_shared<batch_sink>(fds[1]);
  spdlog::logger log{"batch", sink};
  log.set_pattern("%v");
  log.info("one");
  log.info("two");
  sink->drain();
  CAF_CHECK_EQUAL(drain(), "one\ntwo\n");
  CAF_CHECK_EQUAL(sink->writes(), 1u);
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

CAF_TEST(a writer stuck on a full pipe drops lines instead of blocking) {
  // Fill the pipe: the writer's next write(2) blocks.
  auto flags = ::fcntl(fds[1], F_GETFL);
  ::fcntl(fds[1], F_SETFL, flags | O_NONBLOCK);
  std::string block(4096, 'x');
  while (::write(fds[1], block.data(), block.size()) > 0) {
    // fill
  }
  ::fcntl(fds[1], F_SETFL, flags);
  {
    auto sink = std::make_shared<batch_sink>(fds[1], 64, false, 1024);
    spdlog::logger log{"batch", sink};
    log.set_pattern("%v");
    log.warn("stuck"); // the writer takes it and blocks in write(2)
    std::this_thread::sleep_for(milliseconds(50));
    for (int i = 0; i < 1000; ++i)
      log.info("0123456789");
    // The loggers went on; what did not fit was counted.
    CAF_CHECK_GREATER(sink->dropped(), 0u);
    // Reading the pipe lets the writer finish (the destructor joins it).
    std::atomic<bool> done{false};
    std::thread reader{[&] {
      while (!done) {
        drain();
        std::this_thread::sleep_for(milliseconds(1));
      }
    }};
    sink->drain();
    done = true;
    reader.join();
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
