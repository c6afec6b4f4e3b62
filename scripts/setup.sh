#!/usr/bin/env bash
# Installs the Debian 12 packages zaki-router needs to build and test.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libcaf-dev libboost-dev libboost-system-dev
  libsimdjson-dev libspdlog-dev libfmt-dev libssl-dev
  libsqlite3-dev rapidjson-dev libmd4c-dev
  openssl ca-certificates procps
  clang libclang-rt-14-dev clang-format
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
