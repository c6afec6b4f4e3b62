#pragma once

#include <string>
#include <vector>

namespace zaki {

/// `zaki-router demo`: the real actor tree against a Bot API emulator (the
/// fake of tests/fakes) and, on the process backend, one zaki-test-gateway
/// process per simulated user as its container, so one command shows the
/// whole flow without a bot token: provisioning, routing, a user-actor crash
/// and a container crash with their restarts (runtime/demo.cpp).
int demo_main(std::vector<std::string> args);

} // namespace zaki
