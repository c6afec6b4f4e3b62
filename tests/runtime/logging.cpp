#define CAF_SUITE runtime.logging
#include "caf/test/unit_test.hpp"

#include "runtime/logging.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

// Redaction: bot tokens and gateway tokens never reach a log line. Tokens
// are kept out structurally (`secret`, `redact_target`); `mask_token_like`
// in the sink is the last line of defence.

using namespace zaki;

namespace {

const std::string bot_token
  = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-_x";

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string masked(std::string s) {
  mask_token_like(s);
  return s;
}

} // namespace

CAF_TEST(mask token like) {
  CAF_CHECK_EQUAL(masked(bot_token), "***");
  CAF_CHECK_EQUAL(masked("GET /bot" + bot_token + "/getUpdates failed"),
                  "GET /bot***/getUpdates failed");
  CAF_CHECK_EQUAL(masked("a=" + bot_token + " b=" + bot_token), "a=*** b=***");
  CAF_CHECK_EQUAL(masked("url=https://x/bot" + bot_token),
                  "url=https://x/bot***");
  // Look-alikes that are no tokens stay: times, short secrets, ports.
  CAF_CHECK_EQUAL(masked("ts=12:30:45 port=127.0.0.1:19001"),
                  "ts=12:30:45 port=127.0.0.1:19001");
  CAF_CHECK_EQUAL(masked("12345:short"), "12345:short");
  CAF_CHECK_EQUAL(masked(""), "");
  CAF_CHECK_EQUAL(masked(":::"), ":::");
  CAF_CHECK_EQUAL(masked("123456789:"), "123456789:");
}

CAF_TEST(redact target) {
  CAF_CHECK_EQUAL(redact_target("/bot" + bot_token + "/sendMessage"),
                  "/bot***/sendMessage");
  CAF_CHECK_EQUAL(redact_target("/telegram/bot" + bot_token + "/getMe?x=1"),
                  "/telegram/bot***/getMe?x=1");
  CAF_CHECK_EQUAL(redact_target("/bot" + bot_token), "/bot***");
  CAF_CHECK_EQUAL(redact_target("/v1/chat/completions"),
                  "/v1/chat/completions");
  // Whatever the token looks like, it is gone.
  auto odd = redact_target("/botNOT-A-TOKEN-SHAPE/getUpdates");
  CAF_CHECK_EQUAL(odd.find("NOT-A-TOKEN"), std::string::npos);
}

CAF_TEST(secret formatter) {
  secret s{"gw-secret-value"};
  CAF_CHECK_EQUAL(fmt::format("token={}", s), "token=***");
  CAF_CHECK_EQUAL(fmt::format("token={}", secret{}), "token=<unset>");
  CAF_CHECK_EQUAL(fmt::format("[{:>5}]", s), "[  ***]");
}

CAF_TEST(log value quoting and cutting) {
  CAF_CHECK_EQUAL(log_value("plain"), "plain");
  CAF_CHECK_EQUAL(log_value(""), "\"\"");
  CAF_CHECK_EQUAL(log_value("two words"), "\"two words\"");
  CAF_CHECK_EQUAL(log_value("a\"b"), "\"a\\\"b\"");
  CAF_CHECK_EQUAL(log_value("line\nbreak"), "\"line\\nbreak\"");
  CAF_CHECK_EQUAL(log_value("k=v"), "\"k=v\"");
  // Cut on a UTF-8 boundary: "Жж" is 4 bytes, a cut at 3 keeps one letter.
  CAF_CHECK_EQUAL(log_value("ЖЖ", 3), "Ж…");
  CAF_CHECK_EQUAL(log_value("abcdef", 3), "abc…");
}

CAF_TEST(the sink masks what slips through) {
  auto dir = std::filesystem::temp_directory_path()
    / ("zaki-logging-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  settings s;
  s.log.file = (dir / "log.txt").string();
  s.log.level = "debug";
  init_logging(s);
  auto log = logger("test");
  log->info("event=oops url=/bot{}/getUpdates", bot_token);
  log->info("event=structured token={}", secret{"gw-token-123"});
  log->debug("event=target target={}",
             redact_target("/botweird-token-shape/sendMessage"));
  log->warn("event=plain n={}", 42);
  // Warnings are flushed at once (not only by the 1 s periodic flush), so
  // the line before a crash is on disk.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CAF_CHECK(read_file(s.log.file).find("event=plain n=42")
            != std::string::npos);
  log.reset();
  shutdown_logging();
  auto text = read_file(s.log.file);
  CAF_MESSAGE("log output:\n" << text);
  CAF_CHECK(text.find("event=oops url=/bot***/getUpdates")
            != std::string::npos);
  CAF_CHECK(text.find("token=***") != std::string::npos);
  CAF_CHECK(text.find("event=plain n=42") != std::string::npos);
  CAF_CHECK(text.find("logger=test") != std::string::npos);
  CAF_CHECK_EQUAL(text.find("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
                  std::string::npos);
  CAF_CHECK_EQUAL(text.find("gw-token-123"), std::string::npos);
  CAF_CHECK_EQUAL(text.find("weird-token-shape"), std::string::npos);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}
