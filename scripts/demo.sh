#!/usr/bin/env bash
# Sets up (apt), builds, and runs `zaki-router demo`: the real router
# against a local Bot API emulator, with one zaki-test-gateway process per
# simulated user as its container (process backend). Extra arguments go to
# the demo, e.g. --demo.duration=30 --demo.users=8.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)" --target zaki-router zaki-test-gateway
exec ./build/zaki-router demo "$@"
