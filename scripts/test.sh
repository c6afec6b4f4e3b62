#!/usr/bin/env bash
# Sets up (apt), checks the formatting (scripts/format.sh --check), builds
# with warnings as errors, and runs every test suite;
# then builds a second tree with AddressSanitizer and UndefinedBehavior-
# Sanitizer and runs the suites again, then the load bench's smoke run, the
# short fuzz pass and the crash suite's smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
jobs=$(nproc)
# Each phase says how long it took (CI's whole run must stay well inside its
# time limit on 2 cores).
phase() {
  echo "== test.sh: $1 done at ${SECONDS}s"
}
phase setup
# Every C++ source must be formatted as .clang-format says (CAF's layout).
./scripts/format.sh --check
phase format
# The docker suite runs against a real engine: it installs docker.io and
# starts dockerd when none answers (it reports SKIPPED where none can run).
export ZAKI_DOCKER_TESTS=${ZAKI_DOCKER_TESTS:-1}

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZAKI_WERROR=ON
cmake --build build -j"$jobs"
phase build
(cd build && ctest --output-on-failure -j"$jobs" --timeout 300)
phase tests

# Second pass: AddressSanitizer (with LeakSanitizer) and UndefinedBehavior-
# Sanitizer on every suite, in build-asan. -O0 -g1 compiles in about half
# the time of -O1 (the sanitizer build was CI's longest phase) and the suites
# still run well inside their timeouts;
# CMake gives each suite its ASAN_OPTIONS/UBSAN_OPTIONS (any report fails it;
# tests/sanitizers/ubsan.supp holds the one CAF 0.17 finding). Skip it with
# ZAKI_SKIP_SANITIZERS=1 for a quick local run.
if [ "${ZAKI_SKIP_SANITIZERS:-0}" != "1" ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DZAKI_WERROR=ON \
    -DZAKI_SANITIZE=address,undefined "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1"
  cmake --build build-asan -j"$jobs" --target zaki-router-tests
  phase "sanitizer build"
  # The docker suite ran above; its image needs the static test gateway,
  # which the sanitizer build cannot link.
  (cd build-asan && ZAKI_DOCKER_TESTS=0 \
    ctest --output-on-failure -j"$jobs" --timeout 600)
  phase "sanitizer tests"
fi

if [ -x build/zaki-load-bench ] && [ -f benches/smoke.sh ]; then
  ./benches/smoke.sh build
  phase "load smoke"
fi

# Fuzzing: every libFuzzer target of fuzz/ for 30 s on its seed corpus
# (clang, in build-fuzz; about 3 minutes on 2 cores with the build). Any
# crash, sanitizer report or broken invariant fails. Skip it with
# ZAKI_SKIP_FUZZ=1.
if [ "${ZAKI_SKIP_FUZZ:-0}" != "1" ]; then
  ZAKI_FUZZ_JOBS="$jobs" ./scripts/fuzz.sh "${ZAKI_FUZZ_SECONDS:-30}"
  phase fuzz
fi

# The crash suite's smoke run: the real router under open-loop load, killed
# with SIGKILL 3 times and stopped with SIGTERM once (under a minute); fails
# on a lost message, a gateway overlap or order violation, or a duplicate
# after SIGTERM. The full run is `build/zaki-crash-bench` (benches/CRASH.md).
if [ -x build/zaki-crash-bench ]; then
  timeout --kill-after=5 110 build/zaki-crash-bench --smoke \
    --router=build/zaki-router
  phase "crash smoke"
fi
