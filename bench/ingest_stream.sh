#!/usr/bin/env bash
# Streamed ingest of files that are not lists: peak memory and time of
# `cairn ingest` on ATT&CK Enterprise (a 45 MB STIX bundle) and on a
# deterministic 1,000,000-row CSV with a per-row actor column (rows say more
# than a value, so they become statements, streamed in batches of 5,000).
# BEFORE=/path/to/older/cairn measures that binary too, in the same run.
#
#   bash bench/ingest_stream.sh          # N=1000000 RUNS=1, release build
#   NO_BUILD=1 BIN=target/debug/cairn BEFORE=/tmp/cairn-before bash bench/ingest_stream.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
RUNS=${RUNS:-1}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p cairn-cli
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/cairn}
ATTACK=${ATTACK:-${CAIRN_DATASETS:-../shared/datasets}/attack/enterprise-attack-18.1.json}
[ -f "$ATTACK" ] || { echo "no ATT&CK bundle at $ATTACK (set ATTACK=…)"; exit 1; }
TMP=${BENCH_TMP:-$(mktemp -d)}; mkdir -p "$TMP"; trap 'rm -rf "$TMP"' EXIT

# N rows: a random domain or IPv4 address, and one of 50 actors.
python3 - "$N" "$TMP/actors.csv" <<'PY'
import random, sys
n, out = int(sys.argv[1]), sys.argv[2]
r = random.Random(21)
tlds = ["com", "net", "org", "info", "xyz", "top", "ru", "cn", "io", "biz"]
letters = "abcdefghijklmnopqrstuvwxyz0123456789"
actors = ["Bench Actor %02d" % i for i in range(50)]
seen = set()
with open(out, "w") as f:
    f.write("indicator,actor\n")
    while len(seen) < n:
        if r.random() < 0.7:
            v = "".join(r.choice(letters) for _ in range(r.randint(6, 12))) + "." + r.choice(tlds)
        else:
            v = "%d.%d.%d.%d" % (r.randint(1, 223), r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))
        if v not in seen:
            seen.add(v)
            f.write("%s,%s\n" % (v, r.choice(actors)))
PY
# The same rows with one more line at the end: a new fingerprint, so the
# re-ingest compares every statement (differential, nothing changed).
{ cat "$TMP/actors.csv"; echo; } >"$TMP/actors-again.csv"

# best-of-RUNS wall seconds and peak RSS (KiB) of the best run
measure() {
  local best=999999 bm=0 t rss
  for _ in $(seq "$RUNS"); do
    [ -n "${PREP:-}" ] && eval "$PREP"
    /usr/bin/time -f "%e %M" -o "$TMP/t" "$@" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
    read -r t rss < <(tail -n 1 "$TMP/t")
    if python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then best=$t; bm=$rss; fi
  done
  echo "$best $bm"
}
mb() { python3 -c "print(round($1/1024))"; }
size() { python3 -c "import os; print(round(os.path.getsize('$1')/1e6, 1))"; }

echo "ATT&CK: $(size "$ATTACK") MB; CSV: $N rows, $(size "$TMP/actors.csv") MB"
echo "| binary | input | seconds | peak RSS (MB) |"
for bin in $BIN ${BEFORE:-}; do
  ING="$bin --quiet --db $TMP/kb.db ingest"
  read -r t m < <(PREP="rm -f $TMP/kb.db*" measure $ING "$ATTACK")
  echo "| $bin | ATT&CK Enterprise, new store | $t | $(mb "$m") |"
  read -r t m < <(PREP="rm -f $TMP/kb.db*" measure $ING --source bench-csv "$TMP/actors.csv")
  echo "| $bin | CSV with actor column, new store | $t | $(mb "$m") |"
  read -r t m < <(measure $ING --source bench-csv "$TMP/actors-again.csv")
  echo "| $bin | same CSV, new bytes (differential, nothing changed) | $t | $(mb "$m") |"
done
