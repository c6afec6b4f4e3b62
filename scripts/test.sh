#!/usr/bin/env bash
# Sets up (apt), builds with warnings as errors, and runs every test suite;
# then (with ZAKI_SANITIZERS=1) builds a second tree with AddressSanitizer and UndefinedBehavior-
# Sanitizer and runs the suites again, then the load bench's smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
jobs=$(nproc)
# The docker suite runs against a real engine: it installs docker.io and
# starts dockerd when none answers (it reports SKIPPED where none can run).
export ZAKI_DOCKER_TESTS=${ZAKI_DOCKER_TESTS:-1}

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZAKI_WERROR=ON
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" --timeout 300)

# The sanitizer pass is opt-in (ZAKI_SANITIZERS=1) until its findings are
# fixed: LeakSanitizer reports the http_client <-> http_connection
# shared_ptr cycle (runtime/http_client.cpp:86) and UBSan a null reference
# inside CAF 0.17's init_fun_factory for actors spawned without arguments.
if [ "${ZAKI_SANITIZERS:-0}" = "1" ] && [ "${ZAKI_SKIP_SANITIZERS:-0}" != "1" ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DZAKI_WERROR=ON \
    -DZAKI_SANITIZE=address,undefined
  cmake --build build-asan -j"$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --output-on-failure -j"$jobs" --timeout 600)
fi

if [ -x build/zaki-load-bench ] && [ -f benches/smoke.sh ]; then
  ./benches/smoke.sh build
fi
