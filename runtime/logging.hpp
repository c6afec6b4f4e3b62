#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "runtime/settings.hpp"

namespace zaki {

/// A secret value (bot token, gateway token, admin token). Its formatter
/// prints `***`, so a token passed to a log call by mistake stays hidden.
struct secret {
  std::string value;
};

/// Sets up asynchronous spdlog loggers (one per subsystem) that write logfmt
/// lines to stderr or `s.log.file`. Safe to call again (tests).
void init_logging(const settings& s);

/// Flushes and stops the logging thread; call before exit.
void shutdown_logging();

/// Returns the logger of a subsystem ("poller", "user", "telegram", ...),
/// creating it on first use.
std::shared_ptr<spdlog::logger> logger(const std::string& name);

/// Returns `target` with the bot token in `/bot<token>/` replaced by `***`.
std::string redact_target(std::string_view target);

/// Masks every substring that looks like a bot token (`<digits>:<secret>`)
/// in place. Used by the log sinks as a last line of defence.
void mask_token_like(std::string& text);

/// Returns `s` quoted for a logfmt value when it contains spaces or quotes,
/// shortened to `max` bytes (on a UTF-8 boundary).
std::string log_value(std::string_view s, size_t max = 120);

} // namespace zaki

template <>
struct fmt::formatter<zaki::secret> : fmt::formatter<fmt::string_view> {
  template <class Context>
  auto format(const zaki::secret& s, Context& ctx) const {
    return fmt::formatter<fmt::string_view>::format(
      s.value.empty() ? "<unset>" : "***", ctx);
  }
};
