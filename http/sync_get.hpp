#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/beast/http/verb.hpp>

// A blocking HTTP/1.1 exchange for command-line tools (the admin CLI, the
// test gateway's --probe), never for actors. Boost only, so the static
// zaki-test-gateway links it without CAF.

namespace zaki {

/// What one blocking exchange gave.
struct sync_response {
  /// Set when no HTTP answer arrived (bad address, refused, timeout...).
  std::string error;
  /// Whether the connection was refused.
  bool refused = false;
  /// Whether the deadline passed before the answer was complete.
  bool timed_out = false;
  /// The HTTP status, 0 without an answer.
  int status = 0;
  /// The response body.
  std::string body;
};

/// One request to the numeric address `host`:`port`, with one deadline
/// covering connect, write and read. `bearer` (if not empty) goes into an
/// Authorization header; `user_agent` (if not empty) into User-Agent.
sync_response
sync_request(const std::string& host, uint16_t port,
             boost::beast::http::verb method, const std::string& target,
             std::chrono::milliseconds deadline, const std::string& bearer = {},
             const std::string& user_agent = {});

/// `GET target` with no credentials.
sync_response sync_get(const std::string& host, uint16_t port,
                       const std::string& target,
                       std::chrono::milliseconds deadline);

} // namespace zaki
