// Micro benches of the router's hot paths, each timed on its own: decoding
// a getUpdates answer of 100 text updates with simdjson, splitting long
// answers into Telegram-sized chunks, a CAF request/response round trip
// between two actors, loading a users.json of 100,000 users (target: at
// most 300 ms), converting an LLM answer to Telegram HTML (md4c), writing a
// sendMessage body (rapidjson) and generating request ids.
// Usage: zaki-micro-bench [--json=FILE] [--quick]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include <unistd.h>

#include <caf/all.hpp>

#include "chat/request_id.hpp"
#include "emulators/telegram_wire.hpp"
#include "json/writer.hpp"
#include "storage/user_registry.hpp"
#include "storage/users_file.hpp"
#include "telegram/codec.hpp"
#include "telegram/markdown.hpp"
#include "telegram/split.hpp"

using namespace std::chrono;

namespace {

/// One timed figure.
struct figure {
  std::string name;
  double value;
  std::string unit;
  /// A limit for "value <= limit", or negative when there is none.
  double limit = -1;
};

std::vector<figure> figures;

void report(std::string name, double value, std::string unit,
            double limit = -1) {
  if (limit >= 0)
    std::printf("%-52s %12.3f %-6s (target <= %.0f %s: %s)\n", name.c_str(),
                value, unit.c_str(), limit, unit.c_str(),
                value <= limit ? "met" : "NOT MET");
  else
    std::printf("%-52s %12.3f %s\n", name.c_str(), value, unit.c_str());
  figures.push_back({std::move(name), value, std::move(unit), limit});
}

/// Runs `f` `n` times after `n / 10` warm-up runs; returns µs per run
/// (the best of three rounds, to shed the noise of a shared machine).
double time_us(size_t n, const std::function<void()>& f) {
  for (size_t i = 0; i < n / 10 + 1; ++i)
    f();
  double best = 1e300;
  for (int round = 0; round < 3; ++round) {
    auto t0 = steady_clock::now();
    for (size_t i = 0; i < n; ++i)
      f();
    best = std::min(
      best, duration<double, std::micro>(steady_clock::now() - t0).count() / n);
  }
  return best;
}

void bench_decode(size_t scale) {
  // A getUpdates answer as Telegram sends it: 100 private text messages.
  std::string result = "[";
  for (int i = 0; i < 100; ++i) {
    if (i > 0)
      result += ',';
    result += zaki::fakes::tg::text_update_json(
      500000 + i, 1000 + i, 7000000000 + i * 7,
      i % 3 == 0 ? "Напиши короткое стихотворение о море 🌊"
                 : "What is the weather like on Mars right now? Tell me.");
  }
  result += ']';
  auto body = zaki::fakes::tg::ok(result);
  size_t routed = 0;
  auto us = time_us(20 * scale, [&] {
    auto copy = body; // as from the network: decode pads it in place
    auto decoded = zaki::decode_updates(copy);
    routed += decoded.messages.size();
  });
  if (routed == 0)
    std::printf("decode_updates decoded nothing!\n");
  std::printf("(getUpdates answer of 100 updates: %zu bytes)\n", body.size());
  report("decode_updates, 100-update batch", us, "us");
  report("decode_updates, per update", us / 100, "us");
}

void bench_split(size_t scale) {
  std::string paragraph;
  while (paragraph.size() < 600)
    paragraph += "The quick brown fox jumps over the lazy dog; "
                 "съешь же ещё этих мягких французских булок. ";
  std::string text;
  while (text.size() < 20000)
    text += paragraph + "\n\n";
  std::string short_text = paragraph.substr(0, 400);
  size_t chunks = 0;
  auto long_us = time_us(20 * scale, [&] {
    chunks = zaki::split_message(text).size();
  });
  auto short_us = time_us(2000 * scale, [&] {
    chunks += zaki::split_message(short_text).size();
  });
  report("split_message, " + std::to_string(text.size())
           + " bytes into chunks of 4096",
         long_us, "us");
  report("split_message, 400 bytes (one chunk)", short_us, "us");
}

void bench_markdown(size_t scale) {
  std::string answer
    = "## Plan\n\nHere is **what** to do, with `code` and a "
      "[link](https://example.com/docs?a=1&b=2):\n\n"
      "- first *step*, \"quoted\" & escaped <tags>\n"
      "- second step\n  - nested\n\n"
      "```python\nfor i in range(10):\n    print(i < 5)\n```\n\n"
      "> a quote with **bold**\n\nДо свидания! 😀\n";
  std::string long_answer;
  while (long_answer.size() < 12000)
    long_answer += answer + "\n";
  std::string plain = "re: hello there, this is a plain reply";
  size_t n = 0;
  report("markdown_to_telegram_chunks, plain 38 bytes",
         time_us(2000 * scale,
                 [&] {
                   n += zaki::markdown_to_telegram_chunks(plain).size();
                 }),
         "us");
  report("markdown_to_telegram_chunks, " + std::to_string(answer.size())
           + " bytes of Markdown",
         time_us(500 * scale,
                 [&] {
                   n += zaki::markdown_to_telegram_chunks(answer).size();
                 }),
         "us");
  report("markdown_to_telegram_chunks, " + std::to_string(long_answer.size())
           + " bytes (4 chunks)",
         time_us(20 * scale,
                 [&] {
                   n += zaki::markdown_to_telegram_chunks(long_answer).size();
                 }),
         "us");
  std::string text(1000, 'x');
  for (size_t i = 0; i < text.size(); i += 50)
    text[i] = i % 100 == 0 ? '\n' : '"';
  report("json_writer, sendMessage body with 1000 bytes of text",
         time_us(2000 * scale,
                 [&] {
                   zaki::json_writer w;
                   w.begin_object().field("chat_id", int64_t{123456789});
                   w.field("text", text).field("parse_mode", "HTML");
                   w.end_object();
                   n += w.take().size();
                 }),
         "us");
  if (n == 0)
    std::printf("(nothing converted)\n");
}

void bench_request_id(size_t scale) {
  // Was the test "generation is cheap" (tests/chat/request_id.cpp).
  zaki::request_id_generator gen{3};
  char buf[zaki::request_id_length];
  size_t sum = 0;
  auto us = time_us(20000 * scale, [&] {
    auto id = gen.next();
    sum += static_cast<unsigned char>(id[11]);
  });
  report("request_id_generator::next()", us * 1000, "ns");
  us = time_us(20000 * scale, [&] {
    gen.next(1767225600, buf);
    sum += static_cast<unsigned char>(buf[11]);
  });
  report("request_id_generator::next(t, buf)", us * 1000, "ns");
  if (sum == 0)
    std::printf("(checksum 0)\n");
}

caf::behavior pong(caf::event_based_actor*) {
  return {
    [](int32_t x) {
      return x + 1;
    },
  };
}

/// Sends `remaining` sequential requests to `buddy`, then fulfils `done`.
void ping_step(caf::event_based_actor* self, caf::actor buddy,
               int32_t remaining, std::shared_ptr<std::promise<void>> done) {
  if (remaining == 0) {
    done->set_value();
    self->quit();
    return;
  }
  self->request(buddy, caf::infinite, remaining)
    .then([self, buddy, remaining, done](int32_t) {
      ping_step(self, buddy, remaining - 1, done);
    });
}

void bench_actors(size_t scale) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto run = [&](int32_t pairs, int32_t n) {
    std::vector<std::future<void>> futures;
    auto t0 = steady_clock::now();
    for (int32_t p = 0; p < pairs; ++p) {
      auto buddy = sys.spawn(pong);
      auto done = std::make_shared<std::promise<void>>();
      futures.push_back(done->get_future());
      sys.spawn([buddy, n, done](caf::event_based_actor* self) {
        ping_step(self, buddy, n, done);
      });
    }
    for (auto& f : futures)
      f.wait();
    return duration<double, std::micro>(steady_clock::now() - t0).count()
      / (static_cast<double>(pairs) * n);
  };
  run(1, 1000); // warm-up
  report("CAF request/response round trip, 1 pair (sequential)",
         run(1, static_cast<int32_t>(2000 * scale)), "us");
  report("CAF round trip, 100 pairs concurrently (per trip)",
         run(100, static_cast<int32_t>(100 * scale)), "us");
}

void bench_users_file() {
  zaki::user_map users;
  for (int64_t i = 0; i < 100000; ++i) {
    zaki::user_record rec;
    rec.user_id = 7000000000 + i;
    rec.port = static_cast<uint16_t>(19001 + i % 999);
    rec.token = "tok-" + std::to_string(i * 7919) + "-abcdefghijklmnop";
    rec.container = "zaki-user-" + std::to_string(rec.user_id);
    users.emplace(rec.user_id, rec);
  }
  auto dir = std::filesystem::temp_directory_path()
    / ("zaki-micro-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "users.json").string();
  if (auto err = zaki::save_users_file(path, users); !err.empty()) {
    std::printf("cannot write users.json: %s\n", err.c_str());
    return;
  }
  auto bytes = std::filesystem::file_size(path);
  // The router loads into the store's registry; a user_map is what tools
  // and tests load.
  std::vector<double> ms;
  std::vector<double> map_ms;
  size_t loaded = 0;
  size_t map_loaded = 0;
  for (int i = 0; i < 5; ++i) {
    auto t0 = steady_clock::now();
    zaki::user_registry registry;
    auto res = zaki::load_user_registry(path, registry);
    ms.push_back(
      duration<double, std::milli>(steady_clock::now() - t0).count());
    loaded = res.ok ? registry.size() : 0;
    t0 = steady_clock::now();
    auto as_map = zaki::load_users_file(path);
    map_ms.push_back(
      duration<double, std::milli>(steady_clock::now() - t0).count());
    map_loaded = as_map.ok ? as_map.users.size() : 0;
  }
  std::sort(ms.begin(), ms.end());
  std::sort(map_ms.begin(), map_ms.end());
  std::printf("(users.json: %zu users loaded of 100000, %.1f MB)\n", loaded,
              bytes / 1048576.0);
  report("load_user_registry, 100000 users (median of 5)",
         loaded == 100000 ? ms[2] : 1e9, "ms", 300);
  report("load_users_file into a user_map, 100000 users (median of 5)",
         map_loaded == 100000 ? map_ms[2] : 1e9, "ms", 300);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

} // namespace

int main(int argc, char** argv) {
  std::string json_file;
  // Loop counts are multiples of `scale`; --quick runs a tenth of them.
  size_t scale = 10;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--json=", 0) == 0)
      json_file = a.substr(7);
    else if (a == "--quick")
      scale = 1;
    else {
      std::fprintf(stderr, "usage: zaki-micro-bench [--json=FILE] [--quick]\n");
      return 2;
    }
  }
  bench_decode(scale);
  bench_split(scale);
  bench_actors(scale);
  bench_markdown(scale);
  bench_request_id(scale);
  bench_users_file();
  if (!json_file.empty()) {
    zaki::json_writer w;
    w.begin_object().key("figures").begin_array();
    for (auto& f : figures) {
      w.begin_object().field("name", f.name).field("value", f.value);
      w.field("unit", f.unit);
      if (f.limit >= 0)
        w.field("limit", f.limit).field("met", f.value <= f.limit);
      w.end_object();
    }
    std::ofstream out{json_file};
    out << w.end_array().end_object().take() << "\n";
  }
  for (auto& f : figures)
    if (f.limit >= 0 && f.value > f.limit)
      return 3;
  return 0;
}
