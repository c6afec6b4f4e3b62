#include "runtime/logging.hpp"

#include <cctype>
#include <mutex>

#include <atomic>
#include <vector>

#include <fcntl.h>
#include <spdlog/async.h>
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "runtime/log_batch.hpp"

namespace zaki {

namespace {

/// Wraps a sink and masks token-like substrings before they are written.
/// Tokens are kept out of log calls structurally (`secret`, redacted
/// targets); this is the last line of defence, not the mechanism.
class masking_sink : public spdlog::sinks::base_sink<std::mutex> {
public:
  explicit masking_sink(spdlog::sink_ptr inner) : inner_(std::move(inner)) {
    // nop
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    // A token has a ':' in it; most lines have none and need no copy.
    std::string_view payload{msg.payload.data(), msg.payload.size()};
    if (payload.find(':') == std::string_view::npos) {
      inner_->log(msg);
      return;
    }
    std::string text{payload};
    mask_token_like(text);
    spdlog::details::log_msg copy{msg};
    copy.payload = text;
    inner_->log(copy);
  }

  void flush_() override {
    inner_->flush();
  }

  // The inner sink formats, so it needs the pattern (logfmt, not spdlog's
  // default "[date] [logger] [level]").
  void set_pattern_(const std::string& pattern) override {
    inner_->set_pattern(pattern);
  }

  void set_formatter_(std::unique_ptr<spdlog::formatter> f) override {
    inner_->set_formatter(std::move(f));
  }

private:
  spdlog::sink_ptr inner_;
};

std::mutex init_mutex;

/// Bumped whenever the registry is rebuilt, so that the loggers cached per
/// thread by `logger` are looked up again.
std::atomic<uint64_t> generation{1};
spdlog::sink_ptr shared_sink;
/// The batching sink under `shared_sink` (stderr that is no terminal, or
/// log.file), or null: its loggers are synchronous (the sink has a writer
/// thread of its own); the terminal's colour sink sits behind spdlog's
/// asynchronous queue.
std::shared_ptr<batch_sink> batching;
spdlog::level::level_enum default_level = spdlog::level::info;

/// Slots of the asynchronous log queue, ~400 bytes each: about a second of
/// info lines at full load.
constexpr size_t log_queue_slots = 8192;

const char* const pattern = "ts=%Y-%m-%dT%H:%M:%S.%e%z level=%l logger=%n %v";

} // namespace

void init_logging(const settings& s) {
  std::lock_guard<std::mutex> guard{init_mutex};
  spdlog::sink_ptr inner;
  std::shared_ptr<batch_sink> batch;
  if (!s.log.file.empty()) {
    auto fd = ::open(s.log.file.c_str(),
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
      throw spdlog::spdlog_ex("cannot open the log file " + s.log.file, errno);
    inner = batch = std::make_shared<batch_sink>(fd, 64 * 1024, true);
  } else if (::isatty(STDERR_FILENO) == 0) {
    inner = batch = std::make_shared<batch_sink>(STDERR_FILENO);
  } else {
    if (!spdlog::thread_pool())
      spdlog::init_thread_pool(log_queue_slots, 1);
    inner = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  }
  if (batching)
    batching->drain();
  batching = batch;
  shared_sink = std::make_shared<masking_sink>(inner);
  shared_sink->set_pattern(pattern);
  default_level = spdlog::level::from_str(s.log.level);
  spdlog::drop_all();
  generation.fetch_add(1, std::memory_order_acq_rel);
  spdlog::flush_on(spdlog::level::warn);
  // The batching sink's writer writes at least once a second by itself.
  if (!batch)
    spdlog::flush_every(std::chrono::seconds(1));
}

void shutdown_logging() {
  std::lock_guard<std::mutex> guard{init_mutex};
  // Loggers cached by threads may keep the sink alive a while: what it
  // holds is written now.
  if (batching)
    batching->drain();
  batching = nullptr;
  spdlog::shutdown();
  generation.fetch_add(1, std::memory_order_acq_rel);
  shared_sink = nullptr;
}

namespace {

std::shared_ptr<spdlog::logger> find_or_make_logger(const std::string& name) {
  if (auto existing = spdlog::get(name))
    return existing;
  std::lock_guard<std::mutex> guard{init_mutex};
  if (auto existing = spdlog::get(name))
    return existing;
  if (!shared_sink) {
    // Logging was not initialised (unit tests): log to stderr, warnings only.
    if (!spdlog::thread_pool())
      spdlog::init_thread_pool(log_queue_slots, 1);
    auto inner = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    shared_sink = std::make_shared<masking_sink>(inner);
    shared_sink->set_pattern(pattern);
    default_level = spdlog::level::warn;
  }
  std::shared_ptr<spdlog::logger> result;
  if (batching)
    result = std::make_shared<spdlog::logger>(name, shared_sink);
  else
    // overrun_oldest: a slow sink drops old lines instead of stalling
    // actors.
    result = std::make_shared<spdlog::async_logger>(
      name, shared_sink, spdlog::thread_pool(),
      spdlog::async_overflow_policy::overrun_oldest);
  result->set_pattern(pattern);
  result->set_level(default_level);
  // register_logger (unlike initialize_logger) ignores spdlog::flush_on.
  result->flush_on(spdlog::level::warn);
  spdlog::register_logger(result);
  return result;
}

} // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  // spdlog::get takes the registry's mutex, which the actors' threads would
  // contend for several times per message: each thread keeps the few
  // loggers it uses.
  struct entry {
    std::string name;
    std::shared_ptr<spdlog::logger> log;
  };
  thread_local uint64_t cached_generation = 0;
  thread_local std::vector<entry> cache;
  auto gen = generation.load(std::memory_order_acquire);
  if (cached_generation != gen) {
    cache.clear();
    cached_generation = gen;
  }
  for (auto& e : cache)
    if (e.name == name)
      return e.log;
  auto log = find_or_make_logger(name);
  cache.push_back(entry{name, log});
  return log;
}

std::string redact_target(std::string_view target) {
  auto pos = target.find("/bot");
  if (pos == std::string_view::npos)
    return std::string{target};
  auto end = target.find('/', pos + 4);
  std::string result{target.substr(0, pos)};
  result += "/bot***";
  if (end != std::string_view::npos)
    result += target.substr(end);
  return result;
}

void mask_token_like(std::string& text) {
  // Bot tokens look like 123456789:AA...(30+ chars of [A-Za-z0-9_-]).
  auto is_secret_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  };
  size_t i = 0;
  while ((i = text.find(':', i)) != std::string::npos) {
    size_t digits_begin = i;
    while (digits_begin > 0
           && std::isdigit(static_cast<unsigned char>(text[digits_begin - 1])))
      --digits_begin;
    size_t secret_end = i + 1;
    while (secret_end < text.size() && is_secret_char(text[secret_end]))
      ++secret_end;
    if (i - digits_begin >= 6 && secret_end - (i + 1) >= 30) {
      text.replace(digits_begin, secret_end - digits_begin, "***");
      i = digits_begin + 3;
    } else {
      ++i;
    }
  }
}

std::string log_value(std::string_view s, size_t max) {
  bool cut = false;
  if (s.size() > max) {
    auto n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
      --n;
    s = s.substr(0, n);
    cut = true;
  }
  bool needs_quotes = s.empty();
  for (char c : s)
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t')
      needs_quotes = true;
  std::string result;
  result.reserve(s.size() + 8);
  if (needs_quotes)
    result += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      result += '\\';
      result += c;
    } else if (c == '\n') {
      result += "\\n";
    } else {
      result += c;
    }
  }
  if (cut)
    result += "…";
  if (needs_quotes)
    result += '"';
  return result;
}

} // namespace zaki
