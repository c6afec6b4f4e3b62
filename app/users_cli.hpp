#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace zaki {

struct settings;

/// Exit codes of `zaki-router users`, for scripts.
namespace users_exit {
constexpr int ok = 0;
/// The operation failed (a file that does not parse, a refused write, an
/// error answer of the router).
constexpr int failed = 1;
constexpr int usage = 2;
/// The router is running but did not answer (timeout, network error).
constexpr int unreachable = 3;
/// `show` or `remove` of an unknown user.
constexpr int not_found = 4;
} // namespace users_exit

/// Opens the database before the service starts: refuses a corrupt file or
/// a newer schema (naming the file), then imports users.json when it is
/// newer than the last import (a file that does not parse refuses the
/// start, as before). Returns "" or why the router must not start.
std::string prepare_store(const settings& s);

/// Runs `zaki-router users export [--out=FILE] | import FILE | list
/// [--status=S] [--limit=N] [--after=ID] | show ID | remove ID`. Asks the
/// running router's admin API; when nothing listens there, works on the
/// database file itself. Returns a `users_exit` code.
int run_users_command(const settings& s, const std::vector<std::string>& args,
                      std::ostream& out, std::ostream& err);

/// main's entry: splits CAF options from the command's own, parses them
/// and runs the command.
int users_main(std::vector<std::string> args);

} // namespace zaki
