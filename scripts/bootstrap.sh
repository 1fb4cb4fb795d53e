#!/usr/bin/env bash
# Installs every build dependency of tenure by Debian package name. Idempotent; safe to rerun.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config libboost-dev libssl-dev
      nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libhiredis-dev libpq-dev
      clang-format python3 binutils ccache openssl
      python3-venv python3-dev  # the Python binding: build venvs, Python headers (python/)
      libhowardhinnant-date-dev tzdata  # time zones of schedules (system tzdata)
      clang libclang-rt-dev)  # clang and its libFuzzer/sanitizer runtimes: tests/fuzz
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
