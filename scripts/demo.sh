#!/usr/bin/env bash
# Builds brine (installing what is missing) and runs its main job on the example pickles.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
BUILD=${BRINE_BUILD_DIR:-build/release}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBRINE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target brine_cli
BRINE="$BUILD/tools/brine"
for f in examples/config.pkl examples/shared.pkl examples/object.pkl; do
  echo "\$ brine show $f"
  "$BRINE" show "$f"
  echo
done
echo "\$ brine show --encoding latin1 examples/python2.pkl    # a Python 2 pickle"
"$BRINE" show --encoding latin1 examples/python2.pkl
echo
echo "\$ brine show --encoding bytes examples/python2.pkl"
"$BRINE" show --encoding bytes examples/python2.pkl
echo
echo "\$ brine show --refs examples/shared.pkl"
"$BRINE" show --refs examples/shared.pkl
echo
echo "\$ brine dis examples/shared.pkl"
"$BRINE" dis examples/shared.pkl
echo
echo "\$ brine check --encoding latin1 examples/*.pkl"
"$BRINE" check --encoding latin1 examples/*.pkl
