#!/usr/bin/env bash
# Installs the Debian packages brine needs, if they are missing. Idempotent; needs root (or sudo)
# only when something has to be installed.
set -euo pipefail

# package            why
PACKAGES=(
  cmake               # build system (>= 3.25)
  g++                 # compiler (g++ 12)
  make
  libgtest-dev        # GoogleTest: the unit and integration test suite
  libcli11-dev        # CLI11: the brine command line
  nlohmann-json3-dev  # JSON parsing in tests (and later safetensors headers)
  python3             # /usr/bin/python3: CPython, the reference the tests compare against
  clang-14            # sanitizer builds and libFuzzer
  libclang-rt-14-dev  # sanitizer and libFuzzer runtimes for clang
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "brine: installing missing packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
