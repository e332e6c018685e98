#!/usr/bin/env bash
# Indicator lookups under wrk (loopback only, bounded) with the store on
# PostgreSQL: one `cairn serve` on the embedded store, one on PostgreSQL,
# then two servers on the same PostgreSQL database each driven by its own
# wrk at once (what a load balancer in front of two servers sees). The
# store: ATT&CK Enterprise + N generated indicators linked to RedHotel
# (`cairn-loggen iocs`); the lookups: bench/lookup_mix.py (half hits).
#
#   bench/serve_postgres.sh                       # ~4 minutes after the ingests
#   N=100000 DURATION=10 bench/serve_postgres.sh  # quicker
#
# Needs: wrk (apt-get install wrk), psql, curl, python3, a PostgreSQL at $PG.
# On one 2-core machine the servers and wrk share the cores, so two servers
# cannot add throughput here: the figure shows what sharing one database
# costs, not how far it scales.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${BENCH_DATA:-/tmp/cairn-serve-bench}
N=${N:-1000000}
DURATION=${DURATION:-20}
CONNS=${CONNS:-32}
PORT=${PORT:-18180}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DATASETS=${CAIRN_DATASETS:-$ROOT/../shared/datasets}

cd "$ROOT"
cargo build --release -q -p cairn-cli -p cairn-loggen
CAIRN=$TARGET/release/cairn
LOGGEN=$TARGET/release/cairn-loggen
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 2; }
mkdir -p "$DATA"
iocs=$DATA/iocs-$N.txt
[ -s "$iocs" ] || "$LOGGEN" iocs --count "$N" > "$iocs"
attack=$DATASETS/attack/enterprise-attack-18.1.json

db_name="cairn_bench_serve_$$"
admin_url="${PG%/}/postgres"
pgdb="${PG%/}/$db_name"
sqlite=$DATA/pg-compare-$N.db
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null
}
trap cleanup EXIT
psql "$admin_url" -qc "CREATE DATABASE $db_name" >/dev/null
rm -f "$sqlite" "$sqlite"-*

for db in "$sqlite" "$pgdb"; do
  [ -s "$attack" ] && "$CAIRN" -q --db "$db" ingest "$attack" >/dev/null
  "$CAIRN" -q --db "$db" ingest "$iocs" --format list --source "bench $N" --actor RedHotel >/dev/null
done
# Autovacuum would otherwise visit the fresh million rows during the runs.
psql "$pgdb" -qc "VACUUM (ANALYZE)" >/dev/null
sleep 5
sq_token=$("$CAIRN" -q --db "$sqlite" token create --name bench --role reader)
pg_token=$("$CAIRN" -q --db "$pgdb" token create --name bench --role reader)
python3 "$ROOT/bench/lookup_mix.py" "$iocs" "$DATA/lookup-sqlite.lua" "$sq_token"
python3 "$ROOT/bench/lookup_mix.py" "$iocs" "$DATA/lookup-pg.lua" "$pg_token"

start_server() { # db, port, token, lookup script
  "$CAIRN" -q --db "$1" serve --listen "127.0.0.1:$2" --rate-limit 0 > "$DATA/serve-$2.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  until curl -fs -o /dev/null -H "Authorization: Bearer $3" "http://127.0.0.1:$2/api/v1/stats"; do
    sleep 0.2
    kill -0 "$pid" 2>/dev/null || { cat "$DATA/serve-$2.log" >&2; exit 2; }
  done
  # One answer checked by hand, so a broken server cannot post good numbers.
  local v; v=$(grep -m1 -v '^#' "$iocs" | sed 's/\[\.\]/./g')
  curl -fs -H "Authorization: Bearer $3" "http://127.0.0.1:$2/api/v1/indicators/lookup?value=$v" \
    | grep -q '"found":true' || { echo "server on port $2 does not find $v" >&2; exit 2; }
  # Steady state is measured: a server computes each hit's context once per
  # store generation (from PostgreSQL, a few round trips), then keeps it.
  wrk -t1 -c8 -d"${WARMUP:-10}s" -s "$4" "http://127.0.0.1:$2/" > /dev/null
}

# wrk's output, reduced to: requests/s p50 p99 non-2xx
wrk_run() { # threads, conns, url, script
  local out rps p50 p99 bad
  out=$(wrk -t"$1" -c"$2" -d"${DURATION}s" --latency -s "$4" "$3")
  # Kept whole for a look at the latency distribution.
  echo "$out" > "$DATA/wrk-$(date +%s%N).txt"
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p50=$(awk '$1=="50%"{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  bad=$(awk '/Non-2xx/{print $NF}' <<<"$out")
  echo "$rps $p50 $p99 ${bad:-0}"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo);" \
  "PostgreSQL $(psql "$admin_url" -Atc 'SHOW server_version'); store: ATT&CK + $N indicators;" \
  "${DURATION}s per run, $CONNS connections in all; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| setup | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
p1=$PORT p2=$((PORT + 1)) p3=$((PORT + 2))
start_server "$sqlite" "$p1" "$sq_token" "$DATA/lookup-sqlite.lua"
read -r rps p50 p99 bad < <(wrk_run 2 "$CONNS" "http://127.0.0.1:$p1/" "$DATA/lookup-sqlite.lua")
echo "| one server, embedded store (SQLite) | $rps | $p50 | $p99 | $bad |"
kill "${PIDS[0]}"
start_server "$pgdb" "$p2" "$pg_token" "$DATA/lookup-pg.lua"
read -r rps p50 p99 bad < <(wrk_run 2 "$CONNS" "http://127.0.0.1:$p2/" "$DATA/lookup-pg.lua")
echo "| one server, PostgreSQL | $rps | $p50 | $p99 | $bad |"
start_server "$pgdb" "$p3" "$pg_token" "$DATA/lookup-pg.lua"
half=$((CONNS / 2))
wrk_run 1 "$half" "http://127.0.0.1:$p2/" "$DATA/lookup-pg.lua" > "$DATA/wrk-a" &
wa=$!
wrk_run 1 "$half" "http://127.0.0.1:$p3/" "$DATA/lookup-pg.lua" > "$DATA/wrk-b" &
wb=$!
wait "$wa" "$wb"
read -r ra pa qa ba < "$DATA/wrk-a"
read -r rb pb qb bb < "$DATA/wrk-b"
sum=$(echo "$ra + $rb" | bc)
echo "| two servers, one PostgreSQL database: A | $ra | $pa | $qa | $ba |"
echo "| two servers, one PostgreSQL database: B | $rb | $pb | $qb | $bb |"
echo "| two servers, one PostgreSQL database: both | $sum | | | $((ba + bb)) |"
