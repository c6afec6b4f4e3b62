#include "app/locks_cli.hpp"

#include "locks/lock_sweep.hpp"

#include <cstdio>

namespace zaki {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  size_t i = 0;
  uint64_t value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
    if (value > (uint64_t{1} << 40)) // Far beyond any sensible age.
      return std::nullopt;
  }
  if (i == 0 || value == 0)
    return std::nullopt;
  auto unit = text.substr(i);
  uint64_t scale = 0;
  if (unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = 1000;
  else if (unit == "m" || unit == "min")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  else if (unit == "d")
    scale = 86'400'000;
  else
    return std::nullopt;
  return std::chrono::milliseconds{static_cast<int64_t>(value * scale)};
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count() < 0 ? 0 : d.count();
  char buf[64];
  if (ms < 1000)
    std::snprintf(buf, sizeof(buf), "%lldms", static_cast<long long>(ms));
  else if (ms < 60'000)
    std::snprintf(buf, sizeof(buf), "%llds", static_cast<long long>(ms / 1000));
  else if (ms < 3'600'000)
    std::snprintf(buf, sizeof(buf), "%lldm%02llds",
                  static_cast<long long>(ms / 60'000),
                  static_cast<long long>(ms / 1000 % 60));
  else if (ms < 86'400'000)
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm",
                  static_cast<long long>(ms / 3'600'000),
                  static_cast<long long>(ms / 60'000 % 60));
  else
    std::snprintf(buf, sizeof(buf), "%lldd%02lldh",
                  static_cast<long long>(ms / 86'400'000),
                  static_cast<long long>(ms / 3'600'000 % 24));
  return buf;
}

std::string locks_usage() {
  return "usage: zaki-router locks list  [--max-age=DURATION] "
         "[--legacy-age-only]\n"
         "       zaki-router locks clean [--max-age=DURATION] [--dry-run] "
         "[--legacy-age-only]\n"
         "\n"
         "Lists or removes stale session locks under "
         "{data_root}/users/user-*/:\n"
         "router.session.lock and OpenClaw's agents/*/sessions/*.jsonl.lock "
         "and\n"
         "sessions.json.lock. A lock is stale when its pid is missing, dead "
         "or\n"
         "recycled, its createdAt is invalid, or it is older than --max-age\n"
         "(default 30min; sessions.json.lock: at most 30s). Symlinks are "
         "never\n"
         "followed and nothing but a stale lock is ever removed.\n"
         "\n"
         "  --max-age=D        e.g. 500ms, 90s, 30min (or 30m), 2h, 1d\n"
         "  --dry-run          clean: print what would be removed, remove "
         "nothing\n"
         "  --legacy-age-only  judge OpenClaw's locks by age only (gateways "
         "in\n"
         "                     their own pid namespace, i.e. containers)\n"
         "\n"
         "Exit codes: 0 done (list; clean: all stale locks removed or none "
         "stale),\n"
         "1 clean: some locks could not be judged or removed, or errors in "
         "the\n"
         "tree; 2 usage error; 3 data root missing or unreadable.\n";
}

namespace {

void print_lock(std::ostream& out, const lock_entry& e) {
  auto dash = [](const std::string& s) {
    return s.empty() ? std::string{"-"} : s;
  };
  out << e.path << " kind=" << to_string(e.kind)
      << " pid=" << (e.owner.pid > 0 ? std::to_string(e.owner.pid) : "-")
      << " host=" << dash(e.owner.hostname)
      << " instance=" << dash(e.owner.instance)
      << " age=" << format_duration(e.age)
      << " stale=" << (e.verdict.stale ? "yes" : "no");
  auto reasons = e.verdict.reasons_text();
  if (!reasons.empty())
    out << " reason=" << reasons;
  if (e.verdict.too_recent)
    out << " (written under 5s ago, may still be in progress)";
  if (e.verdict.foreign_host)
    out << " (pid not checked: judged by age)";
  if (!e.owner.parse_error.empty())
    out << " content=\"" << e.owner.parse_error << '"';
  out << '\n';
}

void print_problems(std::ostream& err, const sweep_report& report) {
  for (auto& e : report.locks)
    if (!e.error.empty())
      err << "error: " << e.error << '\n';
  for (auto& p : report.problems) {
    err << (p.is_error ? "error: " : "skipped: ");
    // Messages from the path helpers already start with the path.
    if (p.message.compare(0, p.path.size(), p.path) != 0)
      err << p.path << ": ";
    err << p.message << '\n';
  }
}

} // namespace

int run_locks_command(const std::string& data_root,
                      const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err) {
  if (args.empty()) {
    err << locks_usage();
    return locks_exit_usage;
  }
  const auto& command = args[0];
  if (command == "help" || command == "--help" || command == "-h") {
    out << locks_usage();
    return locks_exit_ok;
  }
  if (command != "list" && command != "clean") {
    err << "unknown locks command: " << command << "\n" << locks_usage();
    return locks_exit_usage;
  }
  sweep_options options;
  options.clean = command == "clean";
  for (size_t i = 1; i < args.size(); ++i) {
    const auto& arg = args[i];
    std::string value;
    if (arg.compare(0, 10, "--max-age=") == 0) {
      value = arg.substr(10);
    } else if (arg == "--max-age" && i + 1 < args.size()) {
      value = args[++i];
    } else if (arg == "--dry-run" && options.clean) {
      options.dry_run = true;
      continue;
    } else if (arg == "--legacy-age-only") {
      options.legacy_age_only = true;
      continue;
    } else {
      err << "unknown option for locks " << command << ": " << arg << "\n"
          << locks_usage();
      return locks_exit_usage;
    }
    auto d = parse_duration(value);
    if (!d) {
      err << "invalid --max-age '" << value
          << "' (expected e.g. 500ms, 90s, 30min, 2h)\n";
      return locks_exit_usage;
    }
    options.max_age = *d;
  }
  auto report = sweep_data_root(data_root, options);
  if (!report.root_error.empty()) {
    err << "error: " << report.root_error << '\n';
    return locks_exit_no_data_root;
  }
  print_problems(err, report);
  if (!options.clean) {
    for (auto& e : report.locks)
      if (e.error.empty())
        print_lock(out, e);
    out << report.locks.size() << " locks, " << report.stale() << " stale\n";
    return locks_exit_ok;
  }
  const char* verb = options.dry_run ? "would remove " : "removed ";
  for (auto& e : report.locks) {
    if (e.removed)
      out << verb << e.path << " kind=" << to_string(e.kind)
          << " reason=" << e.verdict.reasons_text() << ' ' << describe(e.owner)
          << '\n';
    else if (!e.note.empty())
      out << "left " << e.path << ": " << e.note << '\n';
  }
  out << (options.dry_run ? "dry run: would remove " : "removed ")
      << report.removed() << " of " << report.stale() << " stale locks ("
      << report.locks.size() << " locks found)\n";
  return report.errors() == 0 ? locks_exit_ok : locks_exit_failed;
}

} // namespace zaki
