#include "runtime/process_stats.hpp"

#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>

namespace zaki {

namespace {

/// Parses "VmRSS:\t  1234 kB" style values (the number after the colon).
uint64_t parse_number(std::string_view line) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos)
    return 0;
  uint64_t value = 0;
  bool seen = false;
  for (auto c : line.substr(colon + 1)) {
    if (c >= '0' && c <= '9') {
      value = value * 10 + static_cast<uint64_t>(c - '0');
      seen = true;
    } else if (seen) {
      break;
    }
  }
  return value;
}

uint64_t count_open_fds() {
  auto* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr)
    return 0;
  uint64_t n = 0;
  while (auto* entry = ::readdir(dir))
    if (entry->d_name[0] != '.')
      ++n;
  ::closedir(dir);
  // The directory stream itself held one descriptor.
  return n > 0 ? n - 1 : 0;
}

} // namespace

void parse_proc_status(std::string_view text, process_stats& out) {
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{}
                                         : text.substr(eol + 1);
    if (line.rfind("VmRSS:", 0) == 0)
      out.rss_bytes = parse_number(line) * 1024;
    else if (line.rfind("VmHWM:", 0) == 0)
      out.peak_rss_bytes = parse_number(line) * 1024;
    else if (line.rfind("Threads:", 0) == 0)
      out.threads = parse_number(line);
  }
}

process_stats read_process_stats() {
  process_stats result;
  std::ifstream in{"/proc/self/status"};
  if (in) {
    std::stringstream buf;
    buf << in.rdbuf();
    parse_proc_status(buf.str(), result);
  }
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) {
    auto seconds = [](const timeval& tv) {
      return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
    };
    result.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    // Without /proc (other systems), ru_maxrss (KiB) is the best peak.
    if (result.peak_rss_bytes == 0)
      result.peak_rss_bytes = static_cast<uint64_t>(usage.ru_maxrss) * 1024;
  }
  result.open_fds = count_open_fds();
  return result;
}

} // namespace zaki
