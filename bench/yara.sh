#!/usr/bin/env bash
# YARA speed: cairn-yara (crates/yara/examples/scan.rs) against the yara-x CLI
# (`yr scan`), same rules, same files, same number of threads; each run's wall
# time includes compiling the rules, as `yr scan` compiles sources too.
# Usage: bench/yara.sh [FOLDER] [RULES.yar …]
#   FOLDER  files to scan, recursively (default: the signed samples in the datasets)
#   RULES   rule files (default: the ReversingLabs certificate blocklist)
# Environment: THREADS (default: nproc), RUNS (default 3; the fastest run is
# kept), PROFILE=release|dev (default release; dev skips yara-x's ~14 min
# release build, but measures a less optimised cairn-yara).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
DATASETS="${CAIRN_DATASETS:-../shared/datasets}"
FOLDER="${1:-$DATASETS/codesign/signed-samples}"
if [ $# -gt 0 ]; then shift; fi
RULES=("$@")
if [ ${#RULES[@]} -eq 0 ]; then RULES=("$DATASETS/codesign/reversinglabs/blocklist.yara"); fi
THREADS="${THREADS:-$(nproc)}"
RUNS="${RUNS:-3}"
PROFILE="${PROFILE:-release}"

if [ ! -e "$FOLDER" ]; then
  echo "nothing to scan at $FOLDER (set CAIRN_DATASETS or pass a folder)" >&2
  exit 2
fi
for r in "${RULES[@]}"; do
  if [ ! -f "$r" ]; then
    echo "rule file not found: $r (set CAIRN_DATASETS or pass rule files)" >&2
    exit 2
  fi
done

case "$PROFILE" in
  release) PROFILE_FLAG=(--release); PROFILE_DIR=release ;;
  dev) PROFILE_FLAG=(); PROFILE_DIR=debug ;;
  *) echo "PROFILE must be release or dev, not $PROFILE" >&2; exit 2 ;;
esac
echo "== build cairn-yara's scan example ($PROFILE)"
cargo build -q "${PROFILE_FLAG[@]}" -p cairn-yara --example scan
OURS="${CARGO_TARGET_DIR:-target}/$PROFILE_DIR/examples/scan"

RULE_ARGS=()
for r in "${RULES[@]}"; do RULE_ARGS+=(-r "$r"); done
echo "== $(find "$FOLDER" -type f | wc -l) file(s) under $FOLDER; rules: ${RULES[*]}; $THREADS thread(s); best of $RUNS"

# Runs "$@" RUNS times with stdout to $out; prints the fastest wall time in seconds.
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fastest() {
  local best="" start end t
  for _ in $(seq "$RUNS"); do
    start=$(date +%s.%N)
    if ! "$@" >"$out" 2>"$err"; then
      echo "failed: $*" >&2
      cat "$err" >&2
      exit 1
    fi
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
  done
  printf "%.3f\n" "$best"
}

ours_s=$(fastest "$OURS" -p "$THREADS" "${RULE_ARGS[@]}" "$FOLDER")
ours_line=$(tail -n 1 "$out")
ours_matches=$(echo "$ours_line" | sed -n 's/.*matches: \([0-9]*\);.*/\1/p')
echo "cairn-yara: ${ours_s} s wall, ${ours_matches} match(es)"
echo "  $ours_line"
if [ -s "$err" ]; then sed 's/^/  stderr: /' "$err"; fi

if ! command -v yr >/dev/null 2>&1; then
  echo "yr (the yara-x CLI) is not installed: install it with"
  echo "  cargo install yara-x-cli --locked"
  echo "(a release build of ~15 min on 2 cores), then run this script again to compare."
  exit 0
fi

# --path-as-namespace: one namespace per rule file, as cairn-yara does.
YR=(yr scan --disable-console-logs --path-as-namespace -p "$THREADS")
if [ -d "$FOLDER" ]; then YR+=(-r); fi
yr_s=$(fastest "${YR[@]}" "${RULES[@]}" "$FOLDER")
# Text output: one line per matching rule and file.
yr_matches=$(grep -c . "$out" || true)
echo "yr scan ($(yr --version 2>/dev/null || echo 'version unknown')): ${yr_s} s wall, ${yr_matches} match(es)"
if [ -s "$err" ]; then sed 's/^/  stderr: /' "$err"; fi

if [ "$ours_matches" != "$yr_matches" ]; then
  echo "WARNING: the match counts differ (cairn-yara $ours_matches, yr $yr_matches)"
fi
echo "ratio cairn-yara / yr (wall): $(echo "scale=2; $ours_s / $yr_s" | bc)"
