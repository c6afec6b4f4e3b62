#include "locks/lock_staleness.hpp"

#include "json/parse.hpp"
#include "json/writer.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <limits>
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

namespace zaki {

// -- content -------------------------------------------------------------------

lock_owner parse_lock_owner(std::string_view text) {
  lock_owner result;
  if (text.empty()) {
    result.parse_error = "empty file";
    return result;
  }
  // Lock files are tiny; the DOM parser validates the whole text up front, so
  // a truncated file is rejected as a whole, like JSON.parse in OpenClaw.
  auto& parser = thread_dom_parser();
  simdjson::dom::element doc;
  if (parser.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS) {
    result.parse_error = "not JSON";
    return result;
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    result.parse_error = "not a JSON object";
    return result;
  }
  for (auto field : obj) {
    auto key = field.key;
    int64_t num = 0;
    std::string_view str;
    if (key == "pid") {
      if (field.value.get_int64().get(num) == simdjson::SUCCESS && num > 0)
        result.pid = num;
    } else if (key == "starttime") {
      if (field.value.get_int64().get(num) == simdjson::SUCCESS && num >= 0)
        result.starttime = num;
    } else if (key == "createdAt") {
      if (field.value.get_string().get(str) == simdjson::SUCCESS)
        result.created_at = std::string{str};
    } else if (key == "hostname") {
      if (field.value.get_string().get(str) == simdjson::SUCCESS)
        result.hostname = std::string{str};
    } else if (key == "instance") {
      if (field.value.get_string().get(str) == simdjson::SUCCESS)
        result.instance = std::string{str};
    }
  }
  return result;
}

std::string format_lock_owner(const lock_owner& owner) {
  json_writer w;
  w.begin_object();
  w.field("pid", owner.pid);
  w.field("createdAt", std::string_view{owner.created_at});
  if (owner.starttime >= 0)
    w.field("starttime", owner.starttime);
  if (!owner.hostname.empty())
    w.field("hostname", std::string_view{owner.hostname});
  if (!owner.instance.empty())
    w.field("instance", std::string_view{owner.instance});
  w.end_object();
  return w.take();
}

std::string describe(const lock_owner& owner) {
  auto or_dash = [](const std::string& s) {
    return s.empty() ? "-" : s;
  };
  return "pid=" + (owner.pid > 0 ? std::to_string(owner.pid) : "-") + " host="
    + or_dash(owner.hostname) + " instance=" + or_dash(owner.instance)
    + " createdAt=" + or_dash(owner.created_at);
}

// -- time ----------------------------------------------------------------------

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int days_in_month(int y, int m) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

} // namespace

std::string format_iso8601(lock_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  auto rem = static_cast<int>(ms - int64_t{secs} * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96]; // Sized for any int values, so GCC sees no truncation.
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, rem);
  return buf;
}

std::optional<lock_clock::time_point> parse_iso8601(std::string_view s) {
  size_t i = 0;
  auto digits = [&](size_t n, int& out) {
    if (i + n > s.size())
      return false;
    out = 0;
    for (size_t k = 0; k < n; ++k, ++i) {
      if (s[i] < '0' || s[i] > '9')
        return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  auto lit = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0, offset_min = 0;
  if (!digits(4, y) || !lit('-') || !digits(2, mo) || !lit('-')
      || !digits(2, d))
    return std::nullopt;
  if (i < s.size()) {
    if (!lit('T') || !digits(2, h) || !lit(':') || !digits(2, mi))
      return std::nullopt;
    if (lit(':')) {
      if (!digits(2, sec))
        return std::nullopt;
      if (lit('.')) {
        size_t first = i;
        for (int scale = 100; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
          ms += (s[i] - '0') * scale;
          scale /= 10;
        }
        if (i == first)
          return std::nullopt;
      }
    }
    if (!lit('Z') && i < s.size()) {
      int sign = s[i] == '+' ? 1 : s[i] == '-' ? -1 : 0;
      int oh = 0, om = 0;
      ++i;
      if (sign == 0 || !digits(2, oh) || !lit(':') || !digits(2, om) || oh > 23
          || om > 59)
        return std::nullopt;
      offset_min = sign * (oh * 60 + om);
    }
  }
  if (i != s.size() || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)
      || h > 23 || mi > 59 || sec > 59)
    return std::nullopt;
  int64_t total_s = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
    - int64_t{offset_min} * 60;
  // The clock counts nanoseconds in 64 bits (years 1678 to 2261): a time
  // outside would overflow the conversion, and one before 1970 the age
  // computed from it (found by fuzz/lock_file.cpp). No lock is that old.
  constexpr int64_t max_s = std::numeric_limits<int64_t>::max() / 1'000'000'000
    - 1;
  if (total_s < 0 || total_s > max_s)
    return std::nullopt;
  return lock_clock::time_point{
    std::chrono::duration_cast<lock_clock::duration>(
      std::chrono::milliseconds{total_s * 1000 + ms})};
}

// -- processes -----------------------------------------------------------------

namespace {

// Reads the state (field 3) and starttime (field 22) from a /proc stat file.
// The command name (field 2) may contain spaces and parentheses, so fields are
// counted from the last ')'. Returns false with errno set on failure.
bool read_stat(const char* path, char& state, int64_t& starttime) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  char buf[1024];
  auto n = ::read(fd, buf, sizeof(buf) - 1);
  int err = errno;
  ::close(fd);
  if (n <= 0) {
    errno = n < 0 ? err : EIO;
    return false;
  }
  std::string_view text{buf, static_cast<size_t>(n)};
  auto close_paren = text.rfind(')');
  if (close_paren == std::string_view::npos) {
    errno = EIO;
    return false;
  }
  size_t pos = close_paren + 1;
  for (int field = 3; field <= 22; ++field) {
    while (pos < text.size() && text[pos] == ' ')
      ++pos;
    auto end = text.find(' ', pos);
    if (end == std::string_view::npos)
      end = text.size();
    auto token = text.substr(pos, end - pos);
    if (token.empty()) {
      errno = EIO;
      return false;
    }
    if (field == 3)
      state = token[0];
    if (field == 22) {
      int64_t value = 0;
      for (char c : token) {
        if (c < '0' || c > '9') {
          errno = EIO;
          return false;
        }
        value = value * 10 + (c - '0');
      }
      starttime = value;
    }
    pos = end;
  }
  return true;
}

} // namespace

process_facts probe_process(int64_t pid) {
  process_facts facts;
  if (pid <= 0 || pid > INT_MAX)
    return facts;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM)
    return facts;
  facts.alive = true;
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%lld/stat",
                static_cast<long long>(pid));
  char state = '?';
  int64_t starttime = -1;
  if (read_stat(path, state, starttime)) {
    // A zombie has exited; it can neither hold nor release anything.
    if (state == 'Z' || state == 'X')
      facts.alive = false;
    facts.starttime = starttime;
  } else if (errno == ENOENT) {
    facts.alive = false; // Exited between kill() and open().
  }
  return facts;
}

process_facts probe_process_in(int64_t init_pid, int64_t pid) {
  process_facts facts;
  if (pid <= 0 || pid > INT_MAX || init_pid <= 0 || init_pid > INT_MAX)
    return facts;
  char path[96];
  std::snprintf(path, sizeof(path), "/proc/%lld/root/proc/%lld/stat",
                static_cast<long long>(init_pid), static_cast<long long>(pid));
  char state = '?';
  int64_t starttime = -1;
  if (read_stat(path, state, starttime)) {
    facts.alive = state != 'Z' && state != 'X';
    facts.starttime = starttime;
  } else {
    // ENOENT: the pid, or the whole container, is gone. Anything else (e.g.
    // EACCES) tells nothing, so the lock is not taken for a dead one's.
    facts.alive = errno != ENOENT && errno != ESRCH;
  }
  return facts;
}

int64_t own_starttime() {
  // Cached per pid: a forked child inherits the cache but not the starttime.
  static std::atomic<int64_t> cached_pid{-1};
  static std::atomic<int64_t> cached_value{-1};
  int64_t pid = ::getpid();
  if (cached_pid.load(std::memory_order_acquire) == pid)
    return cached_value.load(std::memory_order_relaxed);
  char state = '?';
  int64_t starttime = -1;
  if (!read_stat("/proc/self/stat", state, starttime))
    return -1;
  cached_value.store(starttime, std::memory_order_relaxed);
  cached_pid.store(pid, std::memory_order_release);
  return starttime;
}

const std::string& own_hostname() {
  static const std::string value = [] {
    char buf[256] = {};
    if (::gethostname(buf, sizeof(buf) - 1) != 0)
      return std::string{};
    return std::string{buf};
  }();
  return value;
}

// -- judgement -----------------------------------------------------------------

const char* to_string(stale_reason reason) {
  switch (reason) {
    case stale_reason::missing_pid: return "missing-pid";
    case stale_reason::dead_pid: return "dead-pid";
    case stale_reason::recycled_pid: return "recycled-pid";
    case stale_reason::invalid_created_at: return "invalid-createdAt";
    case stale_reason::too_old: return "too-old";
  }
  return "unknown";
}

std::string lock_verdict::reasons_text() const {
  std::string out;
  for (auto r : {stale_reason::missing_pid, stale_reason::dead_pid,
                 stale_reason::recycled_pid, stale_reason::invalid_created_at,
                 stale_reason::too_old}) {
    if (has(r)) {
      if (!out.empty())
        out += ',';
      out += to_string(r);
    }
  }
  return out;
}

namespace {

bool pid_is_foreign(const lock_owner& owner, const staleness_policy& policy) {
  return policy.age_only
    || (!owner.hostname.empty() && !policy.local_hostname.empty()
        && owner.hostname != policy.local_hostname);
}

} // namespace

bool needs_probe(const lock_owner& owner, const staleness_policy& policy) {
  return owner.pid > 0 && !pid_is_foreign(owner, policy);
}

lock_verdict judge_lock(const lock_owner& owner, const process_facts& facts,
                        lock_clock::time_point now,
                        lock_clock::time_point mtime,
                        const staleness_policy& policy) {
  using namespace std::chrono;
  lock_verdict v;
  auto add = [&v](stale_reason r) {
    v.reasons |= static_cast<uint8_t>(r);
  };
  v.foreign_host = pid_is_foreign(owner, policy);
  if (owner.pid <= 0) {
    add(stale_reason::missing_pid);
  } else if (!v.foreign_host) {
    // Pids of another host mean nothing here: judge those by age only.
    if (!facts.alive)
      add(stale_reason::dead_pid);
    else if (owner.starttime >= 0 && facts.starttime >= 0
             && owner.starttime != facts.starttime)
      add(stale_reason::recycled_pid);
  }
  if (auto created = parse_iso8601(owner.created_at)) {
    auto age = duration_cast<milliseconds>(now - *created);
    v.age = std::max(age, milliseconds{0}); // Clock skew: never negative.
    if (*v.age > policy.max_age)
      add(stale_reason::too_old);
  } else {
    add(stale_reason::invalid_created_at);
  }
  if (v.reasons == 0)
    return v;
  if (v.has(stale_reason::missing_pid)
      || v.has(stale_reason::invalid_created_at)) {
    // The writer may have created the file and not yet filled it.
    auto guard = std::min(policy.max_age, milliseconds{5000});
    if (duration_cast<milliseconds>(now - mtime) <= guard) {
      v.too_recent = true;
      return v;
    }
  }
  v.stale = true;
  return v;
}

} // namespace zaki
