#!/usr/bin/env bash
# Builds brine (installing what is missing) and runs its main job on the example pickles.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
BUILD=${BRINE_BUILD_DIR:-build/release}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBRINE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target brine_cli
BRINE="$BUILD/tools/brine"
for f in examples/*.pkl; do
  echo "\$ brine show $f"
  "$BRINE" show "$f"
  echo
done
echo "\$ brine show --refs examples/shared.pkl"
"$BRINE" show --refs examples/shared.pkl
echo
echo "\$ brine dis examples/config.pkl"
"$BRINE" dis examples/config.pkl
echo
echo "\$ brine check examples/*.pkl"
"$BRINE" check examples/*.pkl
