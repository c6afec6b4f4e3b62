#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zaki {

/// Where an HTTP client connects: scheme, host, port and a path prefix.
struct origin {
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  /// Path prefix without a trailing slash (e.g. "" or "/telegram").
  std::string base_path;

  /// Returns "host:port" for logs.
  std::string authority() const {
    return host + ":" + std::to_string(port);
  }
};

/// Parses `http://host[:port][/path]` or `https://...`; returns nullopt for
/// anything else (userinfo, query strings and fragments are rejected).
std::optional<origin> parse_origin(std::string_view url);

/// Splits "HOST:PORT" (admin.address); returns nullopt on a malformed value.
std::optional<std::pair<std::string, uint16_t>>
parse_host_port(std::string_view text);

/// Returns whether `host` names the loopback interface.
bool is_loopback_host(std::string_view host);

} // namespace zaki
