#!/usr/bin/env bash
# CI smoke run of the load bench: 50 simulated users x 5 messages closed loop
# (router and floor client), then 50 x 4 open loop at 200 msg/s with a 20 ms
# gateway, against the real zaki-router binary of <build dir>. Fails (exit 1)
# if any message is lost, duplicated, misrouted, out of order or overlapping
# at its gateway; performance targets are reported but not enforced here.
# Usage: benches/smoke.sh <build dir>
set -euo pipefail
build=${1:?usage: benches/smoke.sh <build dir>}
for exe in zaki-load-bench zaki-router; do
  if [ ! -x "$build/$exe" ]; then
    echo "smoke: $build/$exe is missing (build it first)" >&2
    exit 1
  fi
done
# The run takes a few seconds; the timeout only guards against a hang.
status=0
timeout --kill-after=5 90 "$build/zaki-load-bench" --smoke \
  --router="$build/zaki-router" --json="$build/load-smoke.json" || status=$?
if [ "$status" -ne 0 ]; then
  echo "smoke: load bench failed (exit $status)" >&2
  exit 1
fi
echo "smoke: ok ($build/load-smoke.json)"
