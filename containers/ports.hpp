#pragma once

#include <cstdint>
#include <set>
#include <string>

namespace zaki {

/// Returns whether a TCP listener could bind `port` on every address now
/// (the check a provisioner makes before handing the port out).
bool port_is_free(uint16_t port);

/// Returns the lowest port in [first, last] that is neither `reserved`
/// (recorded for another user) nor in use, or 0 when none is left.
uint16_t allocate_port(uint16_t first, uint16_t last,
                       const std::set<uint16_t>& reserved);

/// Returns a fresh gateway token: 32 random bytes from OpenSSL's CSPRNG as
/// 64 lowercase hex digits; empty if the generator fails.
std::string make_gateway_token();

} // namespace zaki
