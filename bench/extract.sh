#!/usr/bin/env bash
# Throughput of `cairn extract` against the Python libraries analysts use
# today (ioc-finder, iocextract), on the same generated report corpus.
# Not a test: prints MB/s for each tool and the ratio. Usage:
#   bench/extract.sh            # 24 MB corpus
#   BENCH_MB=48 BENCH_DIR=/tmp/x bench/extract.sh
# Slow libraries are timed on a prefix of the same file (PY_MB megabytes,
# cut at a line end); MB/s is computed on the bytes each tool processed.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/tmp/cairn-bench}
BENCH_MB=${BENCH_MB:-24}
IOCFINDER_MB=${IOCFINDER_MB:-1}
IOCEXTRACT_MB=${IOCEXTRACT_MB:-0.1}
CAIRN=${CAIRN:-}
mkdir -p "$BENCH_DIR"
corpus="$BENCH_DIR/reports-${BENCH_MB}mb.txt"

if [ -z "$CAIRN" ]; then
  cargo build --release -p cairn-cli >&2
  CAIRN="${CARGO_TARGET_DIR:-target}/release/cairn"
fi
[ -f "$corpus" ] || python3 bench/extract_gen.py "$corpus" "$BENCH_MB"

if [ ! -x "$BENCH_DIR/venv/bin/python" ]; then
  python3 -m venv "$BENCH_DIR/venv"
fi
# iocextract imports `requests` without declaring it.
"$BENCH_DIR/venv/bin/pip" install -q ioc-finder iocextract requests >&2 \
  || echo "warning: pip install failed; Python figures will be missing" >&2

bytes=$(stat -c %s "$corpus")
best=1e9
for _ in 1 2 3; do
  s=$(date +%s.%N)
  "$CAIRN" extract "$corpus" --json --no-prose > "$BENCH_DIR/cairn.jsonl" || true
  e=$(date +%s.%N)
  best=$(python3 -c "print(min($best, $e - $s))")
done
n=$(wc -l < "$BENCH_DIR/cairn.jsonl")
cairn_mbs=$(python3 -c "print(round($bytes / 1048576 / $best, 2))")
echo "cairn extract --json --no-prose: $bytes bytes in ${best}s (best of 3) = $cairn_mbs MB/s, $n unique indicators"

# With the prose read too (techniques, software, groups, victims), from a
# store holding ATT&CK to train the reader on. The first run after a store
# changes trains the reader and caches it beside the store; later runs load
# it. Both are timed on an empty report; then a 100-page report (400 kB, cut
# from the corpus at a line end) and the whole corpus, with the reader cached.
db="$BENCH_DIR/prose.db"
[ -f "$db" ] || "$CAIRN" --db "$db" ingest --starter > /dev/null 2>&1
rm -f "$db".prose*.rdr
echo "Nothing here." > "$BENCH_DIR/empty.txt"
secs() { local s e; s=$(date +%s.%N); "$@" > /dev/null || true; e=$(date +%s.%N); python3 -c "print(round($e - $s, 3))"; }
train=$(secs "$CAIRN" --db "$db" extract "$BENCH_DIR/empty.txt" --json)
load=$(secs "$CAIRN" --db "$db" extract "$BENCH_DIR/empty.txt" --json)
echo "reader: trained and cached in ${train}s (first run after the store changed), loaded in ${load}s (every later run); empty report, process start included"
python3 - "$corpus" "$BENCH_DIR/report-100p.txt" <<'PY'
import sys
data = open(sys.argv[1], "rb").read(400_000)
open(sys.argv[2], "wb").write(data[: data.rfind(b"\n") + 1])
PY
page_bytes=$(stat -c %s "$BENCH_DIR/report-100p.txt")
page_secs=$(secs "$CAIRN" --db "$db" extract "$BENCH_DIR/report-100p.txt" --json)
echo "cairn extract --json with prose, 100-page report ($page_bytes bytes): ${page_secs}s end to end (floor: under 1 s)"
s=$(date +%s.%N)
"$CAIRN" --db "$db" extract "$corpus" --json > "$BENCH_DIR/cairn-prose.jsonl" || true
e=$(date +%s.%N)
prose_secs=$(python3 -c "print(round($e - $s, 2))")
findings=$(grep -vc '"kind":"indicator"' "$BENCH_DIR/cairn-prose.jsonl" || true)
echo "cairn extract --json with prose: $bytes bytes in ${prose_secs}s = $(python3 -c "print(round($bytes / 1048576 / $prose_secs, 2))") MB/s end to end with the reader cached, $findings prose findings (floor: 1 MB/s)"

fastest=0
for tool in ioc-finder iocextract; do
  mb=$IOCFINDER_MB; [ "$tool" = iocextract ] && mb=$IOCEXTRACT_MB
  if r=$("$BENCH_DIR/venv/bin/python" bench/extract_py.py "$tool" "$corpus" "$mb"); then
    read -r _ b secs found <<< "$r"
    mbs=$(python3 -c "print(round($b / 1048576 / $secs, 4))")
    echo "$tool: $b bytes in ${secs}s = $mbs MB/s, $found indicators (with repeats)"
    fastest=$(python3 -c "print(max($fastest, $mbs))")
  else
    echo "$tool: failed to run"
  fi
done
if python3 -c "import sys; sys.exit(0 if $fastest > 0 else 1)"; then
  echo "ratio: cairn is $(python3 -c "print(round($cairn_mbs / $fastest, 1))")x the faster Python library (floor: 20x)"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
