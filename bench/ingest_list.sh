#!/usr/bin/env bash
# List ingest at feed scale: a deterministic 1,000,000-value list (random
# domains and IPv4 addresses), `cairn ingest --format list` beside sqlite3's
# own `.import` of the same lines into an indexed one-column table, in the
# same run. Floors (issue 21): cold <= 5x sqlite3, unchanged re-ingest <= 1x,
# peak RSS < 500 MB, store <= 5x the sqlite3 file. Then a 10,000,000-value
# store: ingest time, size, and the hunt index build (`cairn hunt --no-cache`
# on a one-line log).
#
#   bash bench/ingest_list.sh            # N=1000000 BIG=10000000 RUNS=3
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
BIG=${BIG:-10000000}
RUNS=${RUNS:-3}
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed: apt-get install sqlite3"; exit 1; }
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p cairn-cli
BIN=${CARGO_TARGET_DIR:-target}/release/cairn
TMP=${BENCH_TMP:-$(mktemp -d)}; mkdir -p "$TMP"; trap 'rm -rf "$TMP"' EXIT

# n values from seed: ~70 % domains, ~30 % IPv4, all distinct.
gen() {
  python3 - "$1" "$2" "$3" <<'PY'
import random, sys
n, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
r = random.Random(seed)
tlds = ["com", "net", "org", "info", "xyz", "top", "ru", "cn", "io", "biz"]
letters = "abcdefghijklmnopqrstuvwxyz0123456789"
seen = set()
with open(out, "w") as f:
    while len(seen) < n:
        if r.random() < 0.7:
            v = "".join(r.choice(letters) for _ in range(r.randint(6, 12))) + "." + r.choice(tlds)
        else:
            v = "%d.%d.%d.%d" % (r.randint(1, 223), r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))
        if v not in seen:
            seen.add(v)
            f.write(v + "\n")
PY
}
gen "$N" 21 "$TMP/list.txt"
# The same values in another order (a new fingerprint, nothing changed).
python3 -c "import random,sys; l=open(sys.argv[1]).readlines(); random.Random(7).shuffle(l); open(sys.argv[2],'w').writelines(l)" "$TMP/list.txt" "$TMP/shuffled.txt"
# 1 % changed: every 100th value replaced by a new one.
python3 - "$TMP/list.txt" "$TMP/changed.txt" <<'PY'
import sys
l = open(sys.argv[1]).read().split("\n")[:-1]
for i in range(0, len(l), 100):
    l[i] = "changed-%d.example" % i
open(sys.argv[2], "w").write("\n".join(l) + "\n")
PY
cat "$TMP"/*.txt >/dev/null

# best-of-RUNS wall seconds, and peak RSS (KiB) of the best run
measure() {
  local best=999999 bm=0 t rss
  for _ in $(seq "$RUNS"); do
    [ -n "${PREP:-}" ] && eval "$PREP"
    # OKRC=1: `cairn hunt` exits 1 when nothing is found.
    /usr/bin/time -f "%e %M" -o "$TMP/t" "$@" >/dev/null 2>"$TMP/err" && rc=0 || rc=$?
    [ "$rc" -le "${OKRC:-0}" ] || { cat "$TMP/err" >&2; exit 1; }
    read -r t rss < <(tail -n 1 "$TMP/t")   # a failed status line may come first
    if python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then best=$t; bm=$rss; fi
  done
  echo "$best $bm"
}
ING="$BIN --quiet --db $TMP/kb.db ingest --format list --source bench-list --actor Bench"

read -r sq_t sq_m < <(PREP="rm -f $TMP/sq.db" measure sqlite3 "$TMP/sq.db" \
  "CREATE TABLE v(value TEXT);" ".import $TMP/list.txt v" "CREATE INDEX v_value ON v(value);")
read -r cold_t cold_m < <(PREP="rm -f $TMP/kb.db*" measure $ING "$TMP/list.txt")
store_mb=$(python3 -c "import os; print(sum(os.path.getsize('$TMP/'+f) for f in os.listdir('$TMP') if f.startswith('kb.db'))/1e6)")
sq_mb=$(python3 -c "import os; print(os.path.getsize('$TMP/sq.db')/1e6)")
read -r same_t same_m < <(measure $ING "$TMP/list.txt")
# Differential runs: each starts from the store holding list.txt.
cp "$TMP/kb.db" "$TMP/base.db"
read -r shuf_t shuf_m < <(PREP="cp $TMP/base.db $TMP/kb.db; rm -f $TMP/kb.db-wal $TMP/kb.db-shm" measure $ING "$TMP/shuffled.txt")
read -r chg_t chg_m < <(PREP="cp $TMP/base.db $TMP/kb.db; rm -f $TMP/kb.db-wal $TMP/kb.db-shm" measure $ING "$TMP/changed.txt")
cp "$TMP/base.db" "$TMP/kb.db"; rm -f "$TMP/kb.db-wal" "$TMP/kb.db-shm"
printf '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\n1700000000.0\tC1\t10.0.0.1\t5353\t10.0.0.2\t53\tudp\t1\t%s\n' "$(sed -n 5p "$TMP/list.txt")" >"$TMP/dns.log"
read -r hunt_t hunt_m < <(OKRC=1 measure "$BIN" --quiet --db "$TMP/kb.db" hunt --no-cache "$TMP/dns.log")

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/{print $2}') GB"
echo "input: $N values, $(du -m "$TMP/list.txt" | cut -f1) MB; best of $RUNS runs; sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
r() { python3 -c "print('%.2fx' % ($1/$sq_t))"; }
printf '%-46s %8s %9s %12s\n' "command" "seconds" "vs sqlite3" "peak RSS MB"
printf '%-46s %8.2f %9s %12d\n' "sqlite3 .import + index (floor)" "$sq_t" "1.00x" $((sq_m/1024))
printf '%-46s %8.2f %9s %12d\n' "cairn ingest, cold (new store)" "$cold_t" "$(r "$cold_t")" $((cold_m/1024))
printf '%-46s %8.2f %9s %12d\n' "cairn ingest, same file (fingerprint skip)" "$same_t" "$(r "$same_t")" $((same_m/1024))
printf '%-46s %8.2f %9s %12d\n' "cairn ingest, reordered (differential, 0 chg)" "$shuf_t" "$(r "$shuf_t")" $((shuf_m/1024))
printf '%-46s %8.2f %9s %12d\n' "cairn ingest, 1 % changed" "$chg_t" "$(r "$chg_t")" $((chg_m/1024))
printf '%-46s %8.2f %9s %12d\n' "cairn hunt --no-cache (index build), 1M" "$hunt_t" "" $((hunt_m/1024))
printf 'store: %.1f MB, sqlite3 table: %.1f MB (%.2fx)\n' "$store_mb" "$sq_mb" "$(python3 -c "print($store_mb/$sq_mb)")"

if [ "$BIG" -gt 0 ]; then
  rm -f "$TMP"/kb.db* "$TMP/base.db" "$TMP/sq.db" "$TMP/shuffled.txt" "$TMP/changed.txt"
  gen "$BIG" 2121 "$TMP/big.txt"
  read -r big_t big_m < <(RUNS=1 PREP="rm -f $TMP/kb.db*" measure $ING "$TMP/big.txt")
  big_mb=$(python3 -c "import os; print(sum(os.path.getsize('$TMP/'+f) for f in os.listdir('$TMP') if f.startswith('kb.db'))/1e6)")
  read -r bh_t bh_m < <(RUNS=1 OKRC=1 measure "$BIN" --quiet --db "$TMP/kb.db" hunt --no-cache "$TMP/dns.log")
  echo "10M: $BIG values, $(du -m "$TMP/big.txt" | cut -f1) MB"
  printf '%-46s %8.2f %12d MB peak\n' "cairn ingest, cold, 10M" "$big_t" $((big_m/1024))
  printf '%-46s %8.2f %12d MB peak\n' "cairn hunt --no-cache (index build), 10M" "$bh_t" $((bh_m/1024))
  printf 'store: %.1f MB (%.0f bytes per value)\n' "$big_mb" "$(python3 -c "print($big_mb*1e6/$BIG)")"
fi
