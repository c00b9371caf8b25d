#!/usr/bin/env bash
# Usage: fuzz/run.sh BUILD_DIR [SECONDS]
#
# Smoke-runs brine's libFuzzer targets (built with -DBRINE_BUILD_FUZZ=ON in BUILD_DIR):
#   1. replays every saved crash input (fuzz/crashes/*) through every target, once each;
#   2. fuzzes each target for its share of SECONDS (default 60), one process at a time, on a copy
#      of its seed corpus (fuzz/corpus/<target>/) with the dictionary fuzz/pickle.dict.
# Exits non-zero on any crash, sanitizer report, timeout (-timeout=10), leak or OOM
# (-rss_limit_mb=2048); the offending input is left in BUILD_DIR/fuzz-work/artifacts/ — copy it to
# fuzz/crashes/ (it then becomes a ctest case too, tests/test_hostile.cpp) once the bug is fixed.
#
# Environment: BRINE_FUZZ_TARGETS="fuzz_loads ..." to run a subset; BRINE_FUZZ_KEEP=1 keeps the
# grown corpora in BUILD_DIR/fuzz-work/corpus/.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [SECONDS]" >&2
  exit 2
fi
BUILD=$(cd "$1" && pwd)
TOTAL=${2:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
read -r -a TARGETS <<< "${BRINE_FUZZ_TARGETS:-fuzz_loads fuzz_reader_stream fuzz_dis fuzz_roundtrip}"
COMMON=(-max_len=4096 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}

for t in "${TARGETS[@]}"; do
  if [ ! -x "$BUILD/fuzz/$t" ]; then
    echo "fuzz/run.sh: $BUILD/fuzz/$t not built (configure with -DBRINE_BUILD_FUZZ=ON)" >&2
    exit 2
  fi
done

WORK="$BUILD/fuzz-work"
rm -rf "$WORK"
mkdir -p "$WORK/artifacts" "$WORK/logs"
fail=0

# ---- 1. saved crash inputs -----------------------------------------------------------------------
crashes=()
if [ -d "$ROOT/fuzz/crashes" ]; then
  while IFS= read -r -d '' f; do crashes+=("$f"); done < <(
    find "$ROOT/fuzz/crashes" -maxdepth 1 -type f ! -name '*.md' ! -name '.*' -print0 | sort -z)
fi
echo "fuzz: replaying ${#crashes[@]} saved crash inputs through ${#TARGETS[@]} targets"
if [ ${#crashes[@]} -gt 0 ]; then
  for t in "${TARGETS[@]}"; do
    log="$WORK/logs/$t.replay.log"
    if ! "$BUILD/fuzz/$t" "${COMMON[@]}" -artifact_prefix="$WORK/artifacts/$t-replay-" "${crashes[@]}" \
        >"$log" 2>&1; then
      echo "fuzz: FAILED replaying fuzz/crashes/ through $t:" >&2
      grep -E "^Running:|ERROR|runtime error|SUMMARY|harness|#[0-9]+ " "$log" | head -40 >&2 || tail -40 "$log" >&2
      fail=1
    fi
  done
fi
if [ $fail -ne 0 ]; then exit 1; fi

# ---- 2. fuzzing ----------------------------------------------------------------------------------
per=$(( TOTAL / ${#TARGETS[@]} ))
if [ "$per" -lt 1 ]; then per=1; fi
total_execs=0
for t in "${TARGETS[@]}"; do
  corpus="$WORK/corpus/$t"
  mkdir -p "$corpus"
  if [ -d "$ROOT/fuzz/corpus/$t" ]; then cp -r "$ROOT/fuzz/corpus/$t/." "$corpus/"; fi
  log="$WORK/logs/$t.log"
  start=$(date +%s)
  status=0
  "$BUILD/fuzz/$t" "${COMMON[@]}" -max_total_time="$per" -dict="$ROOT/fuzz/pickle.dict" \
    -artifact_prefix="$WORK/artifacts/$t-" -print_final_stats=1 "$corpus" >"$log" 2>&1 || status=$?
  secs=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  total_execs=$(( total_execs + execs ))
  cov=$(grep -E "^#[0-9]+" "$log" | tail -1 | grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+" || true)
  if [ $status -ne 0 ] || ls "$WORK/artifacts/$t-"* >/dev/null 2>&1; then
    echo "fuzz: $t FAILED (exit $status) after ${secs}s, $execs runs; input(s):" >&2
    ls "$WORK/artifacts/$t-"* >&2 2>/dev/null || true
    grep -E "ERROR|runtime error|SUMMARY|harness|#[0-9]+ 0x|Test unit written|MS:" "$log" | head -40 >&2 || tail -40 "$log" >&2
    fail=1
  else
    echo "fuzz: $t ok: ${secs}s, $execs runs ($cov)"
  fi
done
echo "fuzz: $total_execs runs in total"
if [ "${BRINE_FUZZ_KEEP:-0}" != 1 ]; then rm -rf "$WORK/corpus"; fi
exit $fail
