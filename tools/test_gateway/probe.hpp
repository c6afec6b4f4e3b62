#pragma once

#include <cstdint>
#include <string>

namespace zaki::test_gateway {

/// Sends `GET <path>` to the numeric address `addr`:`port` with a 2 s
/// deadline; returns whether the answer was 200.
bool probe(const std::string& addr, uint16_t port, const std::string& path);

} // namespace zaki::test_gateway
