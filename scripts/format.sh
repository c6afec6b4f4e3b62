#!/usr/bin/env bash
# Formats every C++ source of the project with clang-format (.clang-format:
# CAF's layout), or with --check only reports the files that are not
# formatted and fails (scripts/test.sh runs the check).
# Usage: scripts/format.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null \
  || find . -name '*.[ch]pp' -not -path './build*')
if [ "${1:-}" = "--check" ]; then
  if ! clang-format --dry-run --Werror "${files[@]}"; then
    echo "format: the files above are not formatted; run scripts/format.sh" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files formatted"
else
  clang-format -i "${files[@]}"
fi
