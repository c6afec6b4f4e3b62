#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace zaki {

/// Exit codes of `zaki-router locks`, for scripts:
/// - 0: done (list: always, once the data root could be read; clean: every
///   stale lock removed, or none was stale; also a dry run without errors);
/// - 1: clean only: some locks could not be judged or removed, or the tree
///   holds errors (a symlinked user dir, a non-numeric user id, ...);
/// - 2: usage error;
/// - 3: the data root is missing or unreadable.
enum locks_exit_code : int {
  locks_exit_ok = 0,
  locks_exit_failed = 1,
  locks_exit_usage = 2,
  locks_exit_no_data_root = 3,
};

/// Parses a duration such as `30min`, `90s`, `500ms`, `2h` or `1d` (also `m`
/// for minutes). A unit is required and the value must be above zero.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// Formats a duration for people: `450ms`, `12s`, `5m12s`, `2h05m`, `3d04h`.
std::string format_duration(std::chrono::milliseconds d);

/// Returns the usage text of `zaki-router locks`.
std::string locks_usage();

/// Runs `zaki-router locks <args...>` (args exclude `locks`):
/// `list [--max-age=D] [--legacy-age-only]` prints every lock with path,
/// kind, owner, age and whether it is stale and why;
/// `clean [--max-age=D] [--dry-run] [--legacy-age-only]` removes stale locks
/// and prints what it removed and why. Returns a `locks_exit_code`.
int run_locks_command(const std::string& data_root,
                      const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err);

} // namespace zaki
