#!/usr/bin/env bash
# The PostgreSQL store against the embedded SQLite store: the same `cairn
# ingest` of ATT&CK and of a one-million-value list into each, then the
# re-ingest with 1% of the list changed, and the hunt index's read of the
# store. Not a test: prints seconds and ratios.
#   bench/postgres.sh
#   PG=postgres://postgres@127.0.0.1:5432 VALUES=1000000 CAIRN=target/release/cairn bench/postgres.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/tmp/cairn-bench-pg}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
VALUES=${VALUES:-1000000}
ATTACK=${ATTACK:-../shared/datasets/attack/enterprise-attack-18.1.json}
CAIRN=${CAIRN:-}
mkdir -p "$BENCH_DIR"
if [ -z "$CAIRN" ]; then
  cargo build --release -p cairn-cli >&2
  CAIRN="${CARGO_TARGET_DIR:-target}/release/cairn"
fi
list="$BENCH_DIR/list-$VALUES.txt"
list2="$BENCH_DIR/list-$VALUES-v2.txt"
listb="$BENCH_DIR/list-$VALUES-b.txt"
if [ ! -f "$list" ]; then
  awk -v n="$VALUES" 'BEGIN { for (i = 0; i < n; i++) printf "h%d.c%d.bench-%d.info\n", i, i % 977, i % 31 }' > "$list"
  # The next version: 1% dropped, 1% new.
  awk -v n="$VALUES" 'NR % 100 != 0 { print } END { for (i = 0; i < n / 100; i++) printf "new%d.bench.info\n", i }' "$list" > "$list2"
  sed 's/^h/b/' "$list" > "$listb"
fi
db_name="cairn_bench_$$"
psql_url="${PG%/}/postgres"
psql "$psql_url" -qc "DROP DATABASE IF EXISTS $db_name" >/dev/null
psql "$psql_url" -qc "CREATE DATABASE $db_name" >/dev/null
trap 'psql "$psql_url" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null' EXIT
pgdb="${PG%/}/$db_name"
sqlite="$BENCH_DIR/kb.db"
rm -f "$sqlite" "$sqlite"-*

secs() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
row() {
  local what=$1; shift
  local s p
  s=$(secs "$CAIRN" --db "$sqlite" "$@")
  p=$(secs "$CAIRN" --db "$pgdb" "$@")
  printf "%-44s %8.2f s %8.2f s %6.2fx\n" "$what" "$s" "$p" "$(echo "$p / $s" | bc -l)"
}
echo "cairn: $CAIRN ($("$CAIRN" --version))"
echo "PostgreSQL: $(psql "$psql_url" -Atc 'SHOW server_version')"
printf "%-44s %10s %10s %7s\n" "step" "SQLite" "PostgreSQL" "PG/SQLite"
row "ingest ATT&CK Enterprise ($(du -m "$ATTACK" | cut -f1) MB)" ingest "$ATTACK"
row "ingest a list of $VALUES values" ingest "$list" --format list --source bench --actor RedHotel
row "re-ingest it, 1% dropped + 1% new" ingest "$list2" --format list --source bench --actor RedHotel
# Two sources at once: SQLite has one writer (the second waits for the
# first); PostgreSQL runs them side by side. Wall time of both.
both() {
  local db=$1 t0 t1
  t0=$(date +%s.%N)
  "$CAIRN" --db "$db" ingest "$list" --format list --source bench-a --actor RedHotel > /dev/null 2>&1 &
  "$CAIRN" --db "$db" ingest "$listb" --format list --source bench-b --actor RedHotel > /dev/null 2>&1 &
  wait
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
s=$(both "$sqlite"); p=$(both "$pgdb")
printf "%-44s %8.2f s %8.2f s %6.2fx\n" "two new lists of $VALUES values at once" "$s" "$p" "$(echo "$p / $s" | bc -l)"
held() { "$CAIRN" --db "$1" stats --json | python3 -c 'import json,sys; print(sum(s["objects"] for s in json.load(sys.stdin)["sources"] if s["name"].startswith("bench-")))'; }
echo "  (afterwards the two lists hold $(held "$sqlite") statements on SQLite, $(held "$pgdb") on PostgreSQL)"
ioc="$BENCH_DIR/one.log"
echo '{"query":"h5.c5.bench-5.info"}' > "$ioc"
row "hunt index built from the store" hunt --no-cache --json "$ioc"
