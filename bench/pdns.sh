#!/usr/bin/env bash
# Passive DNS at scale (issue 22):
#  1. the observation build from ~1 GB of Zeek dns logs (`cairn ingest`,
#     aggregated per name/answer pair) beside the hunt's own speed on the same
#     file (`cairn hunt` with the starter pack's indicators) — floor: at least
#     half the hunt's MB/s; peak memory; store bytes per pDNS row. Two files:
#     a real dns.log repeated (DNS as it repeats) and the generator's
#     (every pair new: the worst case);
#  2. pivot latency at depth 2 over a store of ROWS (10,000,000) pDNS rows
#     (generated COF: names in zones on dedicated addresses, shared hosting
#     hubs, CNAME chains), whole `cairn pivot` processes, p50/p99 over QUERIES
#     random names — floor: p99 under 100 ms;
#  3. the same pivots through `cairn serve` (`GET /api/v1/pivot`), where no
#     process starts and the warninglists are loaded once.
#
#   SIZE_MB=0 skips part 1.
#   bash bench/pdns.sh              # SIZE_MB=1000 ROWS=10000000 QUERIES=200
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-1000}
ROWS=${ROWS:-10000000}
QUERIES=${QUERIES:-200}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p cairn-cli -p cairn-loggen
BIN=${CARGO_TARGET_DIR:-target}/release/cairn
GEN=${CARGO_TARGET_DIR:-target}/release/cairn-loggen
TMP=${BENCH_TMP:-$(mktemp -d)}; mkdir -p "$TMP"; trap 'rm -rf "$TMP"' EXIT

DATASETS=${CAIRN_DATASETS:-$(cd .. && pwd)/shared/datasets}
REAL_DNS="$DATASETS/zeek/zed-sample-data/zeek-default/dns.log.gz"

# One file: the hunt (index cached) and the observation build, each timed.
measure() {
    local label=$1 dns=$2
    local mb lines
    mb=$(du -m "$dns" | cut -f1)
    lines=$(wc -l < "$dns")
    cat "$dns" >/dev/null
    "$BIN" --db "$TMP/hunt.db" hunt "$dns" --json >/dev/null || true   # index cached
    /usr/bin/time -f "%e %M" -o "$TMP/t" "$BIN" --db "$TMP/hunt.db" hunt "$dns" --json >/dev/null || true
    # (time says "Command exited with non-zero status 1" first when no hit)
    read -r HUNT_S HUNT_KB < <(tail -n 1 "$TMP/t")
    rm -f "$TMP/obs.db"
    /usr/bin/time -f "%e %M" -o "$TMP/t" "$BIN" --db "$TMP/obs.db" --quiet ingest "$dns" --source bench --json > "$TMP/obs.json"
    read -r OBS_S OBS_KB < "$TMP/t"
    EDGES=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['relationships'])" "$TMP/obs.json")
    STORE=$(stat -c %s "$TMP/obs.db")
    python3 - "$label" "$mb" "$lines" "$HUNT_S" "$HUNT_KB" "$OBS_S" "$OBS_KB" "$EDGES" "$STORE" <<'PY'
import sys
label, mb, lines, hs, hk, os_, ok, edges, store = sys.argv[1:]
mb, lines, hs, os_, edges, store = int(mb), int(lines), float(hs), float(os_), int(edges), int(store)
print(f"-- {label}: dns.log {mb} MB, {lines:,} lines")
print(f"hunt:              {hs:6.2f} s  {mb/hs:7.1f} MB/s  peak {int(hk)//1024} MB")
print(f"observation build: {os_:6.2f} s  {mb/os_:7.1f} MB/s  peak {int(ok)//1024} MB"
      f"  ({mb/os_/(mb/hs):.2f}x the hunt's speed; floor 0.5x)")
print(f"pDNS rows: {edges:,}; store {store/1e6:.1f} MB = {store/max(edges,1):.0f} bytes per row")
PY
}

if [ "$SIZE_MB" -gt 0 ]; then
echo "== 1. observation build vs hunt on Zeek dns logs"
"$BIN" --db "$TMP/hunt.db" --quiet ingest --starter >/dev/null
# Real traffic: the zed sample's dns.log (a real network's day: 53,615
# lines, 2,853 distinct query/answer sets) repeated to SIZE_MB, so pairs
# repeat as DNS does.
if [ -f "$REAL_DNS" ]; then
    zcat "$REAL_DNS" | grep -v '^#close' > "$TMP/one.log"
    grep -v '^#' "$TMP/one.log" > "$TMP/body.log"
    cp "$TMP/one.log" "$TMP/real.log"
    while [ "$(du -m "$TMP/real.log" | cut -f1)" -lt "$SIZE_MB" ]; do cat "$TMP/body.log" >> "$TMP/real.log"; done
    measure "real (zed sample dns.log repeated)" "$TMP/real.log"
    rm -f "$TMP/one.log" "$TMP/body.log" "$TMP/real.log"
fi
# The worst case: the generator repeats almost no name/answer pair, so
# every line is a new row to store.
# loggen splits its size over dns, conn and ssl; ask for three times the dns.
"$GEN" zeek --out "$TMP/zeek" --size-mb $((SIZE_MB * 3)) >/dev/null
measure "generated (no pair repeats)" "$TMP/zeek/dns.log"
rm -rf "$TMP/zeek"
fi

echo "== 2. pivot at depth 2 over $ROWS pDNS rows"
python3 - "$ROWS" "$TMP/pdns.jsonl" "$TMP/names.txt" <<'PY'
import json, random, sys
rows, out, names = int(sys.argv[1]), sys.argv[2], sys.argv[3]
r = random.Random(22)
hubs = ["198.51.%d.%d" % (i // 256, i % 256) for i in range(200)]  # shared hosting
picked = []
with open(out, "w") as f:
    n = 0
    zone = 0
    while n < rows:
        zone += 1
        dedicated = "%d.%d.%d.%d" % (r.randint(1, 223), r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))
        for h in range(r.randint(3, 12)):
            name = "h%d.zone%d.example" % (h, zone)
            ip = dedicated if r.random() < 0.6 else r.choice(hubs)
            t = 1685577600 + r.randint(0, 86400 * 90)
            f.write(json.dumps({"rrname": name, "rrtype": "A", "rdata": ip, "time_first": t,
                                "time_last": t + r.randint(0, 86400 * 30), "count": r.randint(1, 500)}) + "\n")
            n += 1
            if h == 0 and r.random() < 0.5:
                f.write(json.dumps({"rrname": "www.zone%d.example" % zone, "rrtype": "CNAME",
                                    "rdata": name, "time_first": t, "time_last": t, "count": 1}) + "\n")
                n += 1
            if r.random() < 0.0005:
                picked.append(name)
open(names, "w").write("\n".join(picked) + "\n")
PY
SRC_MB=$(du -m "$TMP/pdns.jsonl" | cut -f1)
/usr/bin/time -f "%e %M" -o "$TMP/t" "$BIN" --db "$TMP/big.db" --quiet ingest "$TMP/pdns.jsonl" --source cof --json > "$TMP/big.json"
read -r BIG_S BIG_KB < "$TMP/t"
BIG_EDGES=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['relationships'])" "$TMP/big.json")
echo "COF ingest: $SRC_MB MB, $BIG_EDGES rows in $BIG_S s, peak $((BIG_KB / 1024)) MB; store $(( $(stat -c %s "$TMP/big.db") / 1000000 )) MB"
head -n "$QUERIES" "$TMP/names.txt" > "$TMP/q.txt"
python3 - "$BIN" "$TMP/big.db" "$TMP/q.txt" <<'PY'
import subprocess, sys, time
binp, db, qf = sys.argv[1:]
qs = [l.strip() for l in open(qf) if l.strip()]
lat, nodes = [], 0
for q in qs:
    t = time.perf_counter()
    out = subprocess.run([binp, "--db", db, "pivot", q, "--depth", "2", "--json"], capture_output=True)
    lat.append((time.perf_counter() - t) * 1000)
    if out.returncode == 0:
        import json
        nodes += len(json.loads(out.stdout)["nodes"])
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
print(f"pivot --depth 2, {len(qs)} queries (whole processes): p50 {pct(0.5):.1f} ms  p99 {pct(0.99):.1f} ms  "
      f"max {lat[-1]:.1f} ms  ({nodes/len(qs):.1f} nodes each); floor p99 < 100 ms")
PY

echo "== 3. the same pivots through a running server (GET /api/v1/pivot: no process start, warninglists cached)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" --db "$TMP/big.db" --quiet serve --listen "127.0.0.1:$PORT" --anonymous-read --rate-limit 0 >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
python3 - "$PORT" "$TMP/q.txt" <<'PY'
import json, sys, time, urllib.parse, urllib.request
port, qf = sys.argv[1:]
qs = [l.strip() for l in open(qf) if l.strip()]
base = f"http://127.0.0.1:{port}/api/v1/pivot?depth=2&value="
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
        break
    except Exception:
        time.sleep(0.1)
urllib.request.urlopen(base + urllib.parse.quote(qs[0])).read()   # warm: warninglists loaded once
lat, nodes = [], 0
for q in qs:
    t = time.perf_counter()
    body = urllib.request.urlopen(base + urllib.parse.quote(q)).read()
    lat.append((time.perf_counter() - t) * 1000)
    nodes += len(json.loads(body)["nodes"])
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
print(f"GET /api/v1/pivot depth 2, {len(qs)} queries: p50 {pct(0.5):.1f} ms  p99 {pct(0.99):.1f} ms  "
      f"max {lat[-1]:.1f} ms  ({nodes/len(qs):.1f} nodes each); floor p99 < 100 ms")
PY
