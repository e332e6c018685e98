#!/usr/bin/env bash
# Attribution speed: single-attribution latency against every ATT&CK group
# (engine only, corpus built once) and the full `cairn eval attribution` run.
# Usage: bench/attribute.sh [path/to/enterprise-attack-18.1.json]
set -euo pipefail
cd "$(dirname "$0")/.."
DATASETS="${CAIRN_DATASETS:-../shared/datasets}"
ATTACK="${1:-$DATASETS/attack/enterprise-attack-18.1.json}"
if [ ! -f "$ATTACK" ]; then
  echo "ATT&CK bundle not found at $ATTACK (set CAIRN_DATASETS or pass the path)" >&2
  exit 2
fi
echo "== build (release)"
cargo build --release -q -p cairn-cli
cargo build --release -q -p cairn-attribute --example bench_attribute
TARGET="${CARGO_TARGET_DIR:-target}"
echo "== single attribution (engine, 200 runs each)"
"$TARGET/release/examples/bench_attribute" "$ATTACK" 200
echo "== full evaluation (parse + corpus + 3 protocols x 3 methods, 5 rounds)"
start=$(date +%s.%N)
"$TARGET/release/cairn" eval attribution --attack "$ATTACK" >/dev/null || true
end=$(date +%s.%N)
echo "cairn eval attribution: $(echo "$end - $start" | bc) s wall"
echo "== one CLI attribution from the file (includes parsing the 40 MB bundle)"
start=$(date +%s.%N)
"$TARGET/release/cairn" attribute --corpus "$ATTACK" -t T1190,T1059.001,T1574.002 \
  -s "Cobalt Strike" -s ShadowPad --country TW --json >/dev/null || true
end=$(date +%s.%N)
echo "cairn attribute --corpus: $(echo "$end - $start" | bc) s wall"
