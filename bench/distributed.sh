#!/usr/bin/env bash
# A hunt spread over workers through NATS JetStream (`cairn hunt --nats`
# with `cairn worker`s) against the single-process hunt (`cairn hunt`) on the
# same files, the queue's cost per piece, and the latency of live matching
# (`cairn hunt --follow`). Not a test: prints MB/s, ratios and latencies.
#   bench/distributed.sh                       # 1 GB of generated Zeek logs
#   BENCH_MB=200 NATS=nats://127.0.0.1:4222 RATE=2000 EVENTS=20000 RUNS=7 bench/distributed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/tmp/cairn-bench-dist}
BENCH_MB=${BENCH_MB:-1000}
NATS=${NATS:-nats://127.0.0.1:4222}
RATE=${RATE:-2000}
EVENTS=${EVENTS:-20000}
CHUNK=${CHUNK:-67108864}
CAIRN=${CAIRN:-}
cores=$(nproc)
mkdir -p "$BENCH_DIR"
if [ -z "$CAIRN" ]; then
  cargo build --release -p cairn-cli -p cairn-loggen >&2
  CAIRN="${CARGO_TARGET_DIR:-target}/release/cairn"
fi
LOGGEN="$(dirname "$CAIRN")/cairn-loggen"
logs="$BENCH_DIR/logs-${BENCH_MB}mb"
[ -d "$logs" ] || "$LOGGEN" zeek --out "$logs" --size-mb "$BENCH_MB" > /dev/null
db="$BENCH_DIR/store.db"
[ -f "$db" ] || "$CAIRN" --db "$db" ingest --starter > /dev/null 2>&1
bytes=$(du -cb "$logs"/*.log | tail -1 | cut -f1)
cat "$logs"/*.log > /dev/null   # page cache warm for every run alike
"$CAIRN" --db "$db" hunt "$logs" --json > /dev/null 2>&1 || true   # index cached

best_of_3() {   # best wall time of RUNS (3) runs of "$@" (stdout discarded)
  local best=1e9 s e
  for _ in $(seq "${RUNS:-3}"); do
    s=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; e=$(date +%s.%N)
    best=$(python3 -c "print(min($best, $e - $s))")
  done
  echo "$best"
}
pieces() {      # pieces a hunt with chunks of $1 bytes makes of the logs
  python3 -c "
import os,sys
c=int(sys.argv[1]); n=0
for f in os.listdir(sys.argv[2]):
    s=os.path.getsize(os.path.join(sys.argv[2],f)); b=-(-s//262144); per=-(-c//262144)
    n += 1 if b < 2*per else -(-b//per)
print(n)" "$1" "$logs"
}
workers=()
start_workers() {  # $1 workers sharing the cores, on queue $2
  local threads=$(( cores / $1 )); [ "$threads" -ge 1 ] || threads=1
  for _ in $(seq "$1"); do
    "$CAIRN" worker --nats "$NATS" --queue "$2" --threads "$threads" 2> /dev/null & workers+=($!)
  done
  sleep 1
}
stop_workers() { kill -TERM "${workers[@]}" 2>/dev/null || true; wait "${workers[@]}" 2>/dev/null || true; workers=(); }
trap stop_workers EXIT

local_s=$(best_of_3 "$CAIRN" --db "$db" hunt "$logs" --json)
mbs() { python3 -c "print(round($bytes / 1e6 / $1, 1))"; }
echo "machine: $cores cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); logs: $bytes bytes (Zeek dns/conn/ssl, generated), store: ATT&CK + RedHotel starter"
echo "single-process hunt:           ${local_s}s = $(mbs "$local_s") MB/s"
for n in 1 2; do
  q="bench-$$-$n"
  start_workers "$n" "$q"
  t=$(best_of_3 "$CAIRN" --db "$db" hunt "$logs" --json --nats "$NATS" --queue "$q" --chunk-size "$CHUNK")
  stop_workers
  echo "hunt --nats, $n worker(s) ($(pieces "$CHUNK") pieces): ${t}s = $(mbs "$t") MB/s, $(python3 -c "print(round($local_s / $t, 2))")x the single process"
done
# Compressed logs, the usual archive: each .log.gz is one piece, and
# gunzip, not matching, is the work (24 files, 8 days of three logs).
gz="$BENCH_DIR/gz-${GZ_MB:-40}mb"
if [ ! -d "$gz" ]; then
  for d in 1 2 3 4 5 6 7 8; do
    "$LOGGEN" zeek --out "$gz/day$d" --size-mb "${GZ_MB:-40}" --seed "$d" --gzip > /dev/null
  done
fi
gz_bytes=$(du -cb "$gz"/*/*.gz | tail -1 | cut -f1)
"$CAIRN" --db "$db" hunt "$gz" --json > /dev/null 2> "$BENCH_DIR/gz.err" || true
gz_raw=$(grep -o '[0-9.]* MB in' "$BENCH_DIR/gz.err" | head -1 | cut -d' ' -f1)
gz_local=$(best_of_3 "$CAIRN" --db "$db" hunt "$gz" --json)
echo "compressed: $(ls "$gz"/*/*.gz | wc -l) .log.gz files, $gz_bytes bytes ($gz_raw MB unpacked)"
echo "single-process hunt:           ${gz_local}s = $(python3 -c "print(round($gz_raw / $gz_local, 1))") MB/s unpacked"
for n in 1 2; do
  q="bench-$$-gz$n"
  start_workers "$n" "$q"
  t=$(best_of_3 "$CAIRN" --db "$db" hunt "$gz" --json --nats "$NATS" --queue "$q")
  stop_workers
  echo "hunt --nats, $n worker(s) (24 pieces): ${t}s = $(python3 -c "print(round($gz_raw / $t, 1))") MB/s, $(python3 -c "print(round($gz_local / $t, 2))")x the single process"
done
# The queue's cost per piece: the same hunt cut into many more pieces.
small=$((4 << 20)); q="bench-$$-small"
start_workers 1 "$q"
t_small=$(best_of_3 "$CAIRN" --db "$db" hunt "$logs" --json --nats "$NATS" --queue "$q" --chunk-size "$small")
t_big=$(best_of_3 "$CAIRN" --db "$db" hunt "$logs" --json --nats "$NATS" --queue "$q" --chunk-size "$CHUNK")
stop_workers
p_small=$(pieces "$small"); p_big=$(pieces "$CHUNK")
echo "queue cost per piece: $(python3 -c "print(round(($t_small - $t_big) / ($p_small - $p_big) * 1000, 2))") ms ($p_small pieces in ${t_small}s vs $p_big in ${t_big}s, 1 worker)"

# Live matching: every event a hit, published at RATE events/s.
if python3 -c "import nats" 2>/dev/null || pip install -q nats-py >&2; then
  q="bench-$$-live"
  "$CAIRN" --db "$db" hunt --nats "$NATS" --queue "$q" --follow "$q.events" \
    --max-events "$EVENTS" --for 120 --json > /dev/null 2>&1 & follower=$!
  sleep 1.5
  python3 bench/live_latency.py "$NATS" "$q.events" "$q.alerts" "$RATE" "$EVENTS"
  wait "$follower" || true
else
  echo "live latency: nats-py not installable; skipped"
fi
