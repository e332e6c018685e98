#!/usr/bin/env bash
# Ingest benchmark: the full ATT&CK Enterprise bundle into a fresh store,
# side by side with `jq -c .` on the same file (the floor: cold ingest under
# 3x jq, unchanged re-ingest under 1x jq). Prints times, ratios, peak memory.
#
#   bash bench/ingest.sh [path/to/enterprise-attack.json]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${CAIRN_DATASETS:-../shared/datasets}
FILE=${1:-$DATA/attack/enterprise-attack-18.1.json}
RUNS=${RUNS:-5}
[ -f "$FILE" ] || { echo "no bundle at $FILE (set CAIRN_DATASETS or pass a path)"; exit 1; }
command -v jq >/dev/null || { echo "jq is needed: apt-get install jq"; exit 1; }
cargo build --release -q -p cairn-cli
BIN=${CARGO_TARGET_DIR:-target}/release/cairn
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
cat "$FILE" >/dev/null   # page cache

# best-of-N wall time in seconds, and peak RSS (KiB) of the last run
measure() {
  local best=999999 t rss
  for _ in $(seq "$RUNS"); do
    [ -n "${PREP:-}" ] && eval "$PREP"
    /usr/bin/time -f "%e %M" -o "$TMP/t" "$@" >/dev/null 2>&1
    read -r t rss <"$TMP/t"
    best=$(python3 -c "print(min($best, $t))")
  done
  echo "$best $rss"
}

read -r jq_t jq_m < <(measure jq -c . "$FILE")
read -r cold_t cold_m < <(PREP="rm -f $TMP/kb.db*" measure "$BIN" --quiet --db "$TMP/kb.db" ingest "$FILE")
"$BIN" --quiet --db "$TMP/kb.db" ingest "$FILE" >/dev/null
read -r warm_t warm_m < <(measure "$BIN" --quiet --db "$TMP/kb.db" ingest "$FILE")

size=$(du -m "$FILE" | cut -f1)
objs=$(jq '.objects | length' "$FILE")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "input: $FILE (${size} MB, $objs objects); best of $RUNS runs"
printf '%-34s %8s %10s %12s\n' "command" "seconds" "vs jq" "peak RSS MB"
printf '%-34s %8.2f %10s %12d\n' "jq -c . >/dev/null" "$jq_t" "1.00x" $((jq_m/1024))
printf '%-34s %8.2f %9.2fx %12d\n' "cairn ingest (cold, new store)" "$cold_t" "$(python3 -c "print($cold_t/$jq_t)")" $((cold_m/1024))
printf '%-34s %8.2f %9.2fx %12d\n' "cairn ingest (unchanged re-ingest)" "$warm_t" "$(python3 -c "print($warm_t/$jq_t)")" $((warm_m/1024))
