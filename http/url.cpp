#include "http/url.hpp"

#include <charconv>

namespace zaki {

namespace {

std::optional<uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(),
                                   value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value == 0
      || value > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(value);
}

} // namespace

std::optional<origin> parse_origin(std::string_view url) {
  origin result;
  if (url.rfind("https://", 0) == 0) {
    result.tls = true;
    url.remove_prefix(8);
    result.port = 443;
  } else if (url.rfind("http://", 0) == 0) {
    url.remove_prefix(7);
    result.port = 80;
  } else {
    return std::nullopt;
  }
  auto slash = url.find('/');
  auto authority = url.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view{}
                                              : url.substr(slash);
  // A query or fragment right after the host ("http://h?x") is refused as
  // one after a path is.
  if (authority.empty()
      || authority.find_first_of("@?#") != std::string_view::npos
      || path.find_first_of("?#") != std::string_view::npos)
    return std::nullopt;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return std::nullopt;
    result.host = std::string{authority.substr(1, close - 1)};
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':')
        return std::nullopt;
      auto port = parse_port(authority.substr(1));
      if (!port)
        return std::nullopt;
      result.port = *port;
    }
  } else if (auto colon = authority.rfind(':');
             colon != std::string_view::npos) {
    result.host = std::string{authority.substr(0, colon)};
    auto port = parse_port(authority.substr(colon + 1));
    if (!port)
      return std::nullopt;
    result.port = *port;
  } else {
    result.host = std::string{authority};
  }
  if (result.host.empty())
    return std::nullopt;
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  result.base_path = std::string{path};
  return result;
}

std::optional<std::pair<std::string, uint16_t>>
parse_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return std::nullopt;
  auto host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto port_text = text.substr(colon + 1);
  if (port_text == "0")
    return std::make_pair(std::string{host}, uint16_t{0});
  auto port = parse_port(port_text);
  if (!port)
    return std::nullopt;
  return std::make_pair(std::string{host}, *port);
}

bool is_loopback_host(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1"
    || host.rfind("127.", 0) == 0;
}

} // namespace zaki
