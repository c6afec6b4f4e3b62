#pragma once

#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>

#include "runtime/settings.hpp"

namespace zaki {

/// CAF's config mechanism for zaki-router: an INI file (`--config-file=`),
/// every option with a code default, every option overridable on the command
/// line as `--group.name=value`.
struct config : caf::actor_system_config {
  config();

  /// Adds the values of the zaki options (bound to `values`, so CAF's own
  /// dump does not see them) to what `--dump-config` prints.
  caf::settings dump_content() const override;

  /// Returns the zaki option `group.name`, or null.
  const caf::config_option* find_option(caf::string_view name) const {
    return custom_options_.qualified_name_lookup(name);
  }

  /// The values of every zaki option after parsing.
  zaki::settings values;
};

/// Parses `args` (the command line after the subcommand) and the INI file;
/// positional arguments end up in `positional`. Returns false, after
/// printing why, when the program should stop with `exit_code`.
bool parse_command_line(config& cfg, std::vector<std::string> args,
                        std::vector<std::string>& positional, int& exit_code);

/// Reads the bot token from TELEGRAM_BOT_TOKEN or the token file; returns an
/// empty string when neither yields one (trailing whitespace is trimmed).
std::string read_bot_token(const settings& s, std::string& error);

/// Reads a secret from an environment variable or else a file.
std::string read_secret(const char* env_var, const std::string& file,
                        std::string& error);

/// Checks ranges and combinations that CAF's parser cannot; returns an empty
/// string when the settings are usable, else a description of the problem.
std::string validate(const settings& s);

} // namespace zaki
