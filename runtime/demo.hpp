#pragma once

#include <string>
#include <vector>

namespace zaki {

/// `zaki-router demo`: the real actor tree against a Bot API emulator and
/// gateways on 127.0.0.1 (the fakes of tests/fakes), with simulated users
/// chatting, so one command shows the whole flow without a bot token.
int demo_main(std::vector<std::string> args);

} // namespace zaki
