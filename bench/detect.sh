#!/usr/bin/env bash
# Sigma over Windows event logs: `cairn detect` against WithSecure chainsaw
# (`chainsaw hunt -s RULES --mapping MAPPING`, built from source) on the same
# EVTX corpus with the same SigmaHQ rules folder: events/s, MB/s, peak RSS and
# detections of each, side by side. Second part: chainsaw (and cairn, when it
# has `detect`) with one rule at a time over each SigmaHQ regression case.
# Usage: bench/detect.sh [FOLDER]
#   FOLDER  .evtx files to hunt through (default: every real .evtx under
#           $DATASETS/evtx and $DATASETS/sigma/regression_data, copied into
#           numbered folders 00, 01, ... under $BENCH_EVTX/corpus until the
#           copies reach 1 GiB; BENCH_EVTX defaults to /tmp/cairn-bench-evtx)
# Environment: RUNS (default 1, fastest kept), RULES (default the SigmaHQ
# Windows rules), CHAINSAW (peer binary, default
# /work/peer/target/release/chainsaw), CHAINSAW_MAPPING (default
# /work/peer/chainsaw/mappings/sigma-event-logs-all.yml, from its source),
# CHAINSAW_ARGS (more hunt flags, e.g. --preprocess, its faster beta mode),
# CAIRN=0 to skip the cairn half (peer figures only), CAIRN_BIN=PATH to use
# that cairn instead of building one, REGRESSION=0 to skip the second part.
# Needs /usr/bin/time (apt-get install time) and, for the event count,
# Python's evtx (pip install evtx; else the EVTX chunk headers).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
DATASETS="${CAIRN_DATASETS:-../shared/datasets}"
RUNS="${RUNS:-1}"
RULES="${RULES:-$DATASETS/sigma/rules/windows}"
CHAINSAW="${CHAINSAW:-/work/peer/target/release/chainsaw}"
CHAINSAW_MAPPING="${CHAINSAW_MAPPING:-/work/peer/chainsaw/mappings/sigma-event-logs-all.yml}"
read -r -a CHAINSAW_ARGS <<<"${CHAINSAW_ARGS:-}"
BENCH_EVTX="${BENCH_EVTX:-/tmp/cairn-bench-evtx}"
CORPUS="${1:-}"
if [ -z "$CORPUS" ]; then
  CORPUS="$BENCH_EVTX/corpus"
  if [ ! -d "$CORPUS/00" ]; then
    echo "== build corpus: real .evtx copied until 1 GiB under $CORPUS"
    mkdir -p "$CORPUS/00"
    abs=$(cd "$CORPUS" && pwd)
    (cd "$DATASETS" && find evtx sigma/regression_data -name '*.evtx' -exec cp --parents -t "$abs/00" {} +)
    base=$(find "$CORPUS/00" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
    # Copies, not links: every file is read from its own pages, as real logs would be.
    copies=$(( (1073741824 + base - 1) / base ))
    for i in $(seq 1 $((copies - 1))); do cp -r "$CORPUS/00" "$CORPUS/$(printf %02d "$i")"; done
  fi
fi
for t in /usr/bin/time "$CHAINSAW" "$CHAINSAW_MAPPING"; do
  if [ ! -e "$t" ]; then echo "missing $t (apt-get install time; build chainsaw, see the usage comment)" >&2; exit 2; fi
done
bytes=$(find "$CORPUS" -type f -name '*.evtx' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
files=$(find "$CORPUS" -type f -name '*.evtx' | wc -l)
# Events: records as pyevtx-rs parses them; without it, the record numbers in
# the chunk headers (both give 10,253 on one copy of the real samples).
events=$(find "$CORPUS" -type f -name '*.evtx' -print0 | python3 -c '
import struct, sys
paths = [p for p in sys.stdin.buffer.read().decode().split("\0") if p]
try:
    import evtx
    print(sum(sum(1 for _ in evtx.PyEvtxParser(p).records()) for p in paths), "pyevtx-rs")
except ImportError:
    n = 0
    for p in paths:
        b = open(p, "rb").read()
        for off in range(4096, len(b), 65536):
            if b[off:off + 8] == b"ElfChnk\0":
                first, last = struct.unpack("<QQ", b[off + 8:off + 24])
                n += max(0, last - first + 1)
    print(n, "chunk-headers")
')
how=${events#* }; events=${events%% *}
mb=$(echo "scale=1; $bytes / 1048576" | bc)
echo "== corpus: $CORPUS ($bytes bytes = $mb MiB, $files .evtx files, $events events by $how)"
echo "== rules: $RULES ($(find "$RULES" -name '*.yml' | wc -l) .yml files); $(nproc) cores"

CAIRN_ON="${CAIRN:-1}"
if [ "$CAIRN_ON" != 0 ]; then
  if [ -z "${CAIRN_BIN:-}" ]; then
    echo "== build cairn (release)"
    cargo build -q --release -p cairn-cli
    CAIRN_BIN="${CARGO_TARGET_DIR:-target}/release/cairn"
  fi
  if ! "$CAIRN_BIN" detect --help >/dev/null 2>&1; then
    echo "(this cairn has no 'detect' verb: peer figures only)"
    CAIRN_ON=0
  fi
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
DB="$TMP/bench.db"
out="$TMP/out"; err="$TMP/err"; tm="$TMP/time"

# measure CMD...: RUNS runs; WALL = fastest wall time (s) and CPU its user +
# system seconds, PEAK = highest peak RSS (MiB), from /usr/bin/time; RC = the
# last exit status; the last run's stdout and stderr stay in $out and $err.
measure() {
  local start end t kb usr sys
  WALL=""; CPU=""; PEAK=0; RC=0
  for _ in $(seq "$RUNS"); do
    start=$(date +%s.%N)
    /usr/bin/time -o "$tm" -f '%M %U %S' "$@" >"$out" 2>"$err" && RC=0 || RC=$?
    end=$(date +%s.%N)
    t=$(printf '%.2f' "$(echo "$end - $start" | bc)")
    read -r kb usr sys < <(tail -n1 "$tm")
    if [ -z "$WALL" ] || [ "$(echo "$t < $WALL" | bc)" = 1 ]; then
      WALL=$t; CPU=$(echo "$usr + $sys" | bc)
    fi
    if [ $((kb / 1024)) -gt "$PEAK" ]; then PEAK=$((kb / 1024)); fi
  done
}
rate() { echo "scale=1; $1 / $2" | bc; }
strip() { sed 's/\x1b\[[0-9;]*m//g' "$@"; }

echo "== warm the page cache (both tools read the corpus from memory)"
find "$CORPUS" -type f -name '*.evtx' -exec cat {} + >/dev/null

echo "== chainsaw hunt${CHAINSAW_ARGS[*]:+ ${CHAINSAW_ARGS[*]}} (--jsonl: one line per rule hit, as cairn's --json)"
measure "$CHAINSAW" --no-banner hunt "$CORPUS" -s "$RULES" --mapping "$CHAINSAW_MAPPING" --jsonl --skip-errors "${CHAINSAW_ARGS[@]}"
p_wall=$WALL; p_peak=$PEAK; p_hits=$(grep -c '^{' "$out" || true)
cp "$out" "$TMP/peer.jsonl"
echo "chainsaw: exit $RC; $(strip "$err" | grep -E 'Loaded .*detection rules' | sed 's/^\[.\] //'); $(strip "$err" | grep -E 'Detections found' | sed 's/^\[.\] //')"
echo "  wall ${p_wall} s (CPU ${CPU} s), $(rate "$events" "$p_wall") events/s, $(rate "$bytes" "($p_wall * 1048576)") MiB/s, peak RSS ${p_peak} MiB, $p_hits detection line(s)"

if [ "$CAIRN_ON" != 0 ]; then
  echo "== cairn detect --json"
  measure "$CAIRN_BIN" --db "$DB" detect --no-store-rules --rules "$RULES" --json "$CORPUS"
  c_wall=$WALL; c_peak=$PEAK; c_hits=$(grep -c '^{' "$out" || true)
  cp "$out" "$TMP/cairn.jsonl"
  # 0 = detections, 1 = none, 2 = error.
  if [ "$RC" -ge 2 ]; then echo "cairn detect failed (exit $RC):" >&2; tail -n5 "$err" >&2; fi
  echo "cairn: exit $RC; $(grep '^cairn:' "$err" | sed 's/^cairn: //' | paste -sd '|' - | sed 's/|/; /g')"
  echo "  wall ${c_wall} s (CPU ${CPU} s), $(rate "$events" "$c_wall") events/s, $(rate "$bytes" "($c_wall * 1048576)") MiB/s, peak RSS ${c_peak} MiB, $c_hits detection line(s)"
  echo "ratio events/s cairn / chainsaw (how many times faster Cairn is): $(printf '%.2f' "$(echo "scale=3; $p_wall / $c_wall" | bc)")"
  echo "ratio peak RSS chainsaw / cairn (how many times less memory Cairn uses): $(printf '%.2f' "$(echo "scale=3; $p_peak / $c_peak" | bc)")"
  # Superset: the same (file, record, rule id) detections, from both outputs.
  python3 - "$TMP/peer.jsonl" "$TMP/cairn.jsonl" <<'PY'
import collections, json, sys
peer = set()
for line in open(sys.argv[1]):
    d = json.loads(line)
    doc = d["document"]
    peer.add((doc["path"], int(doc["data"]["Event"]["System"]["EventRecordID"]), d["id"]))
ours = set()
for line in open(sys.argv[2]):
    d = json.loads(line)
    ours.add((d["file"], int(d["record"]), d["rule"]["id"]))
print(f"same detections (file, record, rule id): both {len(peer & ours)}, chainsaw only {len(peer - ours)}, cairn only {len(ours - peer)}")
for rule, n in collections.Counter(r for _, _, r in peer - ours).most_common(10):
    print(f"  chainsaw only: {n} x rule {rule}")
PY
fi

if [ "${REGRESSION:-1}" = 0 ]; then exit 0; fi
SIGMA="$DATASETS/sigma"
TSV="$BENCH_EVTX/peer_regression.tsv"
mkdir -p "$BENCH_EVTX"
echo "== SigmaHQ regression cases: each case's rule alone over its .evtx -> $TSV"
printf 'rule_id\tevtx\tpeer_count\tmatch_count\tcairn_count\tnote\n' >"$TSV"
cases=0; p_any=0; p_eq=0; with_mc=0; c_any=0; c_eq=0; missed=""
while IFS= read -r info; do
  # The first rule_metadata id, the first evtx path and an uncommented match_count.
  id=$(awk '/^rule_metadata:/ {m = 1; next} m && /^[[:space:]]*- id:/ {print $3; exit}' "$info")
  rel=$(grep -E '^[[:space:]]+path:.*\.evtx[[:space:]]*$' "$info" | head -n1 | awk '{print $2}' || true)
  mc=$(grep -E '^[[:space:]]+match_count:' "$info" | head -n1 | awk '{print $2}' || true)
  note=""; pc=""; cc=""
  rule=$(grep -rlE "^id: ${id}[[:space:]]*$" "$SIGMA"/rules* 2>/dev/null | head -n1 || true)
  if [ -z "$rel" ] || [ ! -f "$SIGMA/$rel" ]; then note="no evtx"
  elif [ -z "$rule" ]; then note="no rule with this id"
  else
    # One rule in a folder of its own: both tools take a rules folder.
    rm -rf "$TMP/one" && mkdir "$TMP/one" && cp "$rule" "$TMP/one/"
    if "$CHAINSAW" --no-banner hunt "$SIGMA/$rel" -s "$TMP/one" --mapping "$CHAINSAW_MAPPING" --jsonl --skip-errors "${CHAINSAW_ARGS[@]}" >"$out" 2>"$err"; then
      pc=$(grep -c '^{' "$out" || true)
    else
      # Mostly "No valid detection rules": chainsaw rejects the rule; its
      # linter says why (windash, cidr, fieldref... modifiers).
      why=$("$CHAINSAW" --no-banner lint --kind sigma "$TMP/one" 2>&1 | strip | grep -F '[!]' | head -n1 | sed 's/^[^:]*: //' | tr '\t' ' ' || true)
      note="chainsaw rejects rule: ${why:-$(strip "$err" | tail -n1)}"; pc=0
    fi
    if [ "$CAIRN_ON" != 0 ]; then
      "$CAIRN_BIN" --db "$DB" detect --no-store-rules --rules "$TMP/one" --json "$SIGMA/$rel" >"$out" 2>"$err" || true
      cc=$(grep -c '^{' "$out" || true)
    fi
    cases=$((cases + 1))
    if [ "$pc" -ge 1 ]; then p_any=$((p_any + 1)); fi
    if [ -n "$mc" ]; then
      with_mc=$((with_mc + 1))
      if [ "$pc" = "$mc" ]; then p_eq=$((p_eq + 1)); fi
      if [ -n "$cc" ] && [ "$cc" = "$mc" ]; then c_eq=$((c_eq + 1)); fi
    fi
    if [ -n "$cc" ] && [ "$cc" -ge 1 ]; then c_any=$((c_any + 1)); fi
    if [ -n "$cc" ] && [ "$pc" -ge 1 ] && [ "$cc" = 0 ]; then missed="$missed $id"; fi
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$rel" "$pc" "$mc" "$cc" "$note" >>"$TSV"
done < <(find "$SIGMA/regression_data" -name info.yml | sort)
echo "cases run: $cases (of $(($(wc -l <"$TSV") - 1)) info.yml); with match_count: $with_mc"
echo "chainsaw: detects >= 1 in $p_any, equals match_count in $p_eq of $with_mc"
awk -F'\t' 'NR > 1 && $6 != "" {n[$6]++} END {for (k in n) printf "  skipped/odd: %d x %s\n", n[k], k}' "$TSV"
if [ "$CAIRN_ON" != 0 ]; then
  echo "cairn: detects >= 1 in $c_any, equals match_count in $c_eq of $with_mc"
  echo "cases chainsaw detects and cairn does not (superset check):${missed:- none}"
fi
