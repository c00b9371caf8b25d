#!/usr/bin/env bash
# Runs brine's whole test suite (installing what is missing):
#   1. g++ build + every ctest test (unit tests, corpus checks against live CPython, CLI tests)
#   2. clang build with AddressSanitizer + UndefinedBehaviorSanitizer + the same tests
#   3. libFuzzer smoke run of the fuzz targets on their seed corpora (+ replay of saved crashes)
#   4. cmake --install + a consumer project using find_package(brine)
# Environment: BRINE_BUILD_DIR (default build), BRINE_FUZZ_SECONDS (default 60), BRINE_SKIP_SANITIZERS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
ROOT=$(pwd)
OUT=${BRINE_BUILD_DIR:-build}
JOBS=$(nproc)
step() { echo; echo "==== $* ===="; }

step "1/4 g++ build and tests"
cmake -S . -B "$OUT/gcc" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=g++ >/dev/null
cmake --build "$OUT/gcc" -j"$JOBS"
ctest --test-dir "$OUT/gcc" -j"$JOBS" --output-on-failure

if [ "${BRINE_SKIP_SANITIZERS:-0}" != 1 ]; then
  step "2/4 clang ASan+UBSan build and tests"
  cmake -S . -B "$OUT/asan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 \
    -DBRINE_SANITIZE=address,undefined >/dev/null
  cmake --build "$OUT/asan" -j"$JOBS"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$OUT/asan" -j"$JOBS" --output-on-failure
fi

if [ -f fuzz/CMakeLists.txt ]; then
  step "3/4 libFuzzer smoke run"
  cmake -S . -B "$OUT/fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    -DBRINE_BUILD_FUZZ=ON -DBRINE_BUILD_TESTS=OFF -DBRINE_BUILD_TOOLS=OFF >/dev/null
  cmake --build "$OUT/fuzz" -j"$JOBS"
  bash fuzz/run.sh "$OUT/fuzz" "${BRINE_FUZZ_SECONDS:-60}"
fi

if [ -d tests/package ]; then
  step "4/4 install + find_package(brine) consumer"
  PREFIX=$(realpath -m "$OUT/prefix")  # absolute, whether BRINE_BUILD_DIR is relative or not
  rm -rf "$PREFIX" "$OUT/consumer"
  cmake --install "$OUT/gcc" --prefix "$PREFIX" >/dev/null
  cmake -S tests/package -B "$OUT/consumer" -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
  cmake --build "$OUT/consumer" -j"$JOBS"
  got=$("$OUT/consumer/consumer" "$ROOT/examples/config.pkl")
  echo "$got"
  want=$(/usr/bin/python3 -c 'import pickle, sys; print(repr(pickle.load(open(sys.argv[1], "rb"))))' \
    "$ROOT/examples/config.pkl")
  if [ "$got" != "$want" ]; then
    echo "consumer: output differs from CPython's repr: $want" >&2
    exit 1
  fi
fi
echo
echo "brine: all tests passed"
