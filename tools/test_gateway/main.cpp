// zaki-test-gateway: a small stand-in for an OpenClaw gateway, used as the
// "container" by the process and docker backends, the tests and the demo.
// It speaks POST /v1/chat/completions (bearer token), /health, /healthz,
// /startupz and /readyz in OpenClaw's shapes, and can be told to crash,
// hang, answer slowly, fail, start slowly or grow its memory. The markers of
// tests/fakes/gateway_behavior.hpp work per message; gw:crash exits at once.
//
// It is linked statically, so it resolves no names (numeric addresses only)
// and uses no library beyond Boost headers and libstdc++.

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "emulators/fake_gateway.hpp"
#include "probe.hpp"

namespace {

namespace fk = zaki::fakes;

struct settings {
  std::string bind = "127.0.0.1";
  long port = 18789;
  std::string token;
  long crash_after = 0;
  long crash_after_ms = 0;
  bool hang = false;
  long latency_ms = 0;
  long fail_status = 0;
  long startup_ms = 0;
  long grow_mb = 0;
  long stream_gap_ms = 0;
  long stream_piece = 10;
  bool probe = false;
  /// Text put before the echoed message; empty keeps the fake's "echo: ".
  std::string reply_prefix;
};

void usage() {
  std::puts(
    "usage: zaki-test-gateway [--port N] [--bind ADDR] [--token T]\n"
    "  [--crash-after=N] [--crash-after-ms=N] [--hang] [--latency-ms=N]\n"
    "  [--fail-status=N] [--startup-ms=N] [--grow-mb-per-request=N] [--probe]\n"
    "  [--reply-prefix=TEXT] [--stream-gap-ms=N] [--stream-piece=N]\n"
    "Defaults: port from OPENCLAW_GATEWAY_PORT or 18789, token from\n"
    "OPENCLAW_GATEWAY_TOKEN (empty: any token), bind 127.0.0.1.\n"
    "--reply-prefix replaces the \"echo: \" before an echoed message; in\n"
    "TEXT, {port} is the listening port and {user} the user id of the data\n"
    "dir the gateway runs in ($HOME, else the working directory, named\n"
    "user-<id> by the process backend), or \"this user\" if neither is.");
}

bool parse_long(const std::string& s, long& out) {
  if (s.empty())
    return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtol(s.c_str(), &end, 10);
  return errno == 0 && *end == '\0';
}

/// Parses argv into `st`; returns false (after printing why) on bad input.
bool parse_args(int argc, char** argv, settings& st) {
  if (auto p = std::getenv("OPENCLAW_GATEWAY_PORT"))
    parse_long(p, st.port);
  if (auto t = std::getenv("OPENCLAW_GATEWAY_TOKEN"))
    st.token = t;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string name = arg;
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    auto take = [&]() -> bool {
      if (has_value)
        return true;
      if (i + 1 >= argc)
        return false;
      value = argv[++i];
      return true;
    };
    auto number = [&](long& out) {
      if (!take() || !parse_long(value, out)) {
        std::fprintf(stderr, "zaki-test-gateway: %s needs a number\n",
                     name.c_str());
        return false;
      }
      return true;
    };
    bool ok = true;
    if (name == "--help" || name == "-h") {
      usage();
      std::exit(0);
    } else if (name == "--port") {
      ok = number(st.port);
    } else if (name == "--bind") {
      ok = take();
      st.bind = value;
    } else if (name == "--token") {
      ok = take();
      st.token = value;
    } else if (name == "--crash-after") {
      ok = number(st.crash_after);
    } else if (name == "--crash-after-ms") {
      ok = number(st.crash_after_ms);
    } else if (name == "--hang") {
      st.hang = true;
    } else if (name == "--latency-ms") {
      ok = number(st.latency_ms);
    } else if (name == "--stream-gap-ms") {
      // Streamed answers ("stream": true) send an event every N ms.
      ok = number(st.stream_gap_ms);
    } else if (name == "--stream-piece") {
      ok = number(st.stream_piece);
    } else if (name == "--fail-status") {
      ok = number(st.fail_status);
    } else if (name == "--startup-ms") {
      ok = number(st.startup_ms);
    } else if (name == "--grow-mb-per-request") {
      ok = number(st.grow_mb);
    } else if (name == "--probe") {
      st.probe = true;
    } else if (name == "--reply-prefix") {
      ok = take();
      st.reply_prefix = value;
    } else {
      std::fprintf(stderr, "zaki-test-gateway: unknown option %s\n",
                   name.c_str());
      usage();
      return false;
    }
    if (!ok)
      return false;
  }
  if (st.port < 0 || st.port > 65535) {
    std::fprintf(stderr, "zaki-test-gateway: bad port %ld\n", st.port);
    return false;
  }
  return true;
}

void log_line(std::string_view line) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts{};
  gmtime_r(&ts.tv_sec, &parts);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &parts);
  std::printf("%s.%03ldZ %.*s\n", stamp, ts.tv_nsec / 1000000,
              static_cast<int>(line.size()), line.data());
  std::fflush(stdout);
}

/// The user id in the last component of `dir` if it is "user-<digits>".
std::string user_of_dir(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  auto slash = dir.rfind('/');
  auto base = slash == std::string::npos ? dir : dir.substr(slash + 1);
  if (base.size() <= 5 || base.compare(0, 5, "user-") != 0)
    return {};
  auto id = base.substr(5);
  for (char c : id)
    if (c < '0' || c > '9')
      return {};
  return id;
}

/// The user this gateway serves, from its data dir ($HOME, else the cwd).
std::string served_user() {
  if (auto home = std::getenv("HOME"))
    if (auto id = user_of_dir(home); !id.empty())
      return id;
  char buf[4096];
  if (::getcwd(buf, sizeof(buf)) != nullptr)
    if (auto id = user_of_dir(buf); !id.empty())
      return id;
  return "this user";
}

/// Replaces every `{name}` in `text` by `value`.
void substitute(std::string& text, std::string_view name,
                const std::string& value) {
  for (auto pos = text.find(name); pos != std::string::npos;
       pos = text.find(name, pos + value.size()))
    text.replace(pos, name.size(), value);
}

[[noreturn]] void crash(const char* why) {
  log_line(std::string{"crashing: "} + why);
  std::_Exit(1);
}

} // namespace

int main(int argc, char** argv) {
  settings st;
  if (!parse_args(argc, argv, st))
    return 2;
  auto port = static_cast<uint16_t>(st.port);
  if (st.probe) {
    // Docker health checks: probe ourselves over loopback.
    auto addr = st.bind == "0.0.0.0" ? std::string{"127.0.0.1"} : st.bind;
    return zaki::test_gateway::probe(addr, port, "/healthz") ? 0 : 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  fk::net::io_context ioc{1};
  fk::fake_gateway_options opts;
  opts.token = st.token;
  opts.http.address = st.bind;
  opts.http.port = port;
  opts.on_crash = [] {
    crash("gw:crash or --crash-after");
  };
  opts.log = log_line;
  fk::fake_gateway gw{ioc, opts};
  auto& b = gw.behavior();
  b.set_hang(st.hang);
  b.set_latency(std::chrono::milliseconds{st.latency_ms});
  b.set_fail_status(static_cast<int>(st.fail_status));
  b.set_startup_delay(std::chrono::milliseconds{st.startup_ms});
  b.set_crash_after(static_cast<uint64_t>(st.crash_after));
  b.set_grow_mb_per_request(static_cast<size_t>(st.grow_mb));
  b.set_stream_gap(std::chrono::milliseconds{st.stream_gap_ms});
  b.set_stream_piece(static_cast<size_t>(st.stream_piece));
  try {
    port = gw.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zaki-test-gateway: cannot listen on %s:%ld: %s\n",
                 st.bind.c_str(), st.port, e.what());
    return 2;
  }
  if (!st.reply_prefix.empty()) {
    // After start (for {port}); nothing is served before ioc.run() below.
    auto prefix = st.reply_prefix;
    substitute(prefix, "{port}", std::to_string(port));
    substitute(prefix, "{user}", served_user());
    b.set_prefix(std::move(prefix));
  }
  log_line("zaki-test-gateway listening on " + st.bind + ":"
           + std::to_string(port) + " pid=" + std::to_string(getpid()));
  fk::net::steady_timer crash_timer{ioc};
  if (st.crash_after_ms > 0) {
    crash_timer.expires_after(std::chrono::milliseconds{st.crash_after_ms});
    crash_timer.async_wait([](boost::system::error_code ec) {
      if (!ec)
        crash("--crash-after-ms elapsed");
    });
  }
  fk::net::signal_set signals{ioc, SIGTERM, SIGINT};
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec)
      return;
    log_line("signal " + std::to_string(sig) + ", exiting");
    crash_timer.cancel();
    gw.stop();
    ioc.stop();
  });
  ioc.run();
  return 0;
}
