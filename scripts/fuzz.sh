#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang++ in build-fuzz and runs
# each for SECONDS (default 30) on its seed corpus, fuzz/corpus/<target>/.
# Fails when any target finds a crash, a leak, undefined behaviour or a
# broken invariant; the input is kept in build-fuzz/artifacts/<target>/.
# Inputs found on the way go to build-fuzz/corpus/<target>/ (the committed
# seeds stay as they are). ZAKI_FUZZ_JOBS targets run at once (default:
# the number of cores); ZAKI_FUZZ_TARGETS="a b" runs only those;
# ZAKI_FUZZ_RUNS=N stops a target after N executions (the long bench run:
# SECONDS then is only the cap).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
jobs=${ZAKI_FUZZ_JOBS:-$(nproc)}
out=build-fuzz

cmake -S . -B "$out" -DZAKI_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZAKI_WERROR=ON >/dev/null
cmake --build "$out" -j"$(nproc)"

targets=${ZAKI_FUZZ_TARGETS:-$(cd fuzz && ls *.cpp | sed 's/\.cpp$//')}

# The dictionary of a target: its own, else the JSON one for JSON parsers.
dict_for() {
  if [ -f "fuzz/dict/$1.dict" ]; then
    echo "-dict=fuzz/dict/$1.dict"
  else
    case "$1" in
      updates|gateway|users|docker_json|lock_file)
        echo "-dict=fuzz/dict/json.dict" ;;
    esac
  fi
}

run_one() {
  local t=$1
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
  local log="$out/fuzz-$t.log"
  # shellcheck disable=SC2046
  if UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=tests/sanitizers/ubsan.supp \
     ASAN_OPTIONS=detect_leaks=1 \
     "$out/zaki-fuzz-$t" "$out/corpus/$t" "fuzz/corpus/$t" $(dict_for "$t") \
       -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -max_len=65536 -print_final_stats=1 ${ZAKI_FUZZ_RUNS:+-runs=$ZAKI_FUZZ_RUNS} \
       -artifact_prefix="$out/artifacts/$t/" >"$log" 2>&1; then
    local runs
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    local secs
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
    echo "fuzz $t: ok, ${runs:-?} executions in ${secs:-$seconds} s"
  else
    echo "fuzz $t: FAILED (see $log, input in $out/artifacts/$t/)"
    tail -n 40 "$log"
    return 1
  fi
}

failed=0
pids=()
for t in $targets; do
  run_one "$t" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do
  wait "$p" || failed=1
done
if [ "$failed" != 0 ]; then
  echo "fuzz: a target failed" >&2
  exit 1
fi
echo "fuzz: every target ran ${seconds} s without a finding"
