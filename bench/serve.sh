#!/usr/bin/env bash
# Server load benchmark (loopback only, bounded): the per-event indicator
# lookup a SIEM makes, `GET /api/v1/indicators/lookup?value=…`, against a
# store holding ATT&CK Enterprise + the starter pack + 1M indicators, driven
# by wrk with a rotating mix of hits (subdomains of known domains, IPs in
# known CIDRs, exact hashes) and misses. For scale, the same wrk run against
# the server's static stylesheet (the HTTP stack's ceiling) and against
# Python's http.server on the same machine.
#
#   bench/serve.sh                      # ~5 minutes on 2 cores, first run longer
#   N=100000 DURATION=10 bench/serve.sh # quicker
#
# Needs: wrk (apt-get install wrk), cargo, python3. Prints Markdown rows for
# docs/BENCHMARKS.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${BENCH_DATA:-/tmp/cairn-serve-bench}
N=${N:-1000000}
DURATION=${DURATION:-20}
CONNS=${CONNS:-32}
PORT=${PORT:-18080}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DATASETS=${CAIRN_DATASETS:-$ROOT/../shared/datasets}

cd "$ROOT"
cargo build --release -q -p cairn-cli -p cairn-loggen
CAIRN=$TARGET/release/cairn
LOGGEN=$TARGET/release/cairn-loggen
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 2; }
mkdir -p "$DATA"
export CAIRN_DB=$DATA/bench-$N.db

if [ ! -s "$CAIRN_DB" ]; then
  [ -s "$DATA/iocs-$N.txt" ] || "$LOGGEN" iocs --count "$N" > "$DATA/iocs-$N.txt"
  "$CAIRN" -q ingest --starter >/dev/null
  if [ -s "$DATASETS/attack/enterprise-attack-18.1.json" ]; then
    "$CAIRN" -q ingest "$DATASETS/attack/enterprise-attack-18.1.json" >/dev/null
  fi
  /usr/bin/time -f "ingest of $N indicators: %e s, %M KB peak" \
    "$CAIRN" -q ingest "$DATA/iocs-$N.txt" --format list --source "bench $N" --actor RedHotel >/dev/null
fi
TOKEN=$("$CAIRN" -q token create --name "bench-$$" --role reader)

# Lookup values: half hits drawn from the indicator file (domains asked as a
# subdomain, CIDRs as an address inside), half misses.
python3 - "$DATA/iocs-$N.txt" "$DATA/lookup.lua" "$TOKEN" <<'PY'
import random, sys, urllib.parse
random.seed(7)
vals = [l.strip().replace('[.]', '.') for l in open(sys.argv[1]) if l.strip() and not l.startswith('#')]
picks = random.sample(vals, min(2000, len(vals)))
qs = []
for v in picks:
    if '/' in v and v.count('.') == 3:            # CIDR -> an address inside
        net = v.split('/')[0].split('.'); net[3] = str(int(net[3]) + 1); v = '.'.join(net)
    elif any(c.isalpha() for c in v) and '.' in v and len(v) < 64 and not v.startswith('http'):
        v = 'www.' + v                               # domain -> subdomain
    qs.append(v)
for i in range(len(qs)):
    qs.append(random.choice(['miss%d.example.net' % i, '10.%d.%d.%d' % (i % 250, i % 7, i % 200),
                             '%064x' % random.getrandbits(256)]))
random.shuffle(qs)
with open(sys.argv[2], 'w') as f:
    f.write('local paths = {\n')
    for q in qs:
        f.write('  "/api/v1/indicators/lookup?value=%s",\n' % urllib.parse.quote(q, safe=''))
    f.write('}\nlocal i = 0\nwrk.headers["Authorization"] = "Bearer %s"\n' % sys.argv[3])
    f.write('request = function()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n')
PY

"$CAIRN" -q serve --listen "127.0.0.1:$PORT" --rate-limit 0 > "$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; kill ${PY:-0} 2>/dev/null || true' EXIT
start=$(date +%s.%N)
until curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/stats"; do
  sleep 0.2
  kill -0 $SERVER 2>/dev/null || { cat "$DATA/serve.log"; exit 2; }
done
ready=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $start}")
RSS=$(awk '/VmRSS/{print $2}' /proc/$SERVER/status)
echo "server ready in ${ready} s (index built from the store), RSS ${RSS} KB" >&2

# One request checked by hand so a broken server cannot post good numbers.
curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/indicators/lookup?value=kb.dga.asia" | grep -q '"found":true'

run_wrk() { # label, url, [script]
  local out
  if [ -n "${3:-}" ]; then out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$3" "$2")
  else out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency "$2"); fi
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p50=$(awk '$1=="50%"{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/{print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  echo "| $1 | $rps | $p50 | $p99 | $non2xx |"
}

echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo); load before: $(cut -d' ' -f1-3 /proc/loadavg); wrk -t2 -c$CONNS -d${DURATION}s, server and wrk on the same 2 cores"
echo
echo "| target | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
run_wrk "cairn lookup (ATT&CK + $N indicators, 50% hits)" "http://127.0.0.1:$PORT/" "$DATA/lookup.lua"
run_wrk "cairn static stylesheet (HTTP ceiling)" "http://127.0.0.1:$PORT/static/app.css"
mkdir -p "$DATA/www" && cp "$ROOT/crates/serve/assets/app.css" "$DATA/www/app.css"
(cd "$DATA/www" && exec python3 -m http.server $((PORT + 1)) --bind 127.0.0.1 >/dev/null 2>&1) &
PY=$!
sleep 1
run_wrk "python3 -m http.server, same file" "http://127.0.0.1:$((PORT + 1))/app.css"
echo
echo "server RSS after: $(awk '/VmRSS/{print $2}' /proc/$SERVER/status) KB"
"$CAIRN" -q token revoke "bench-$$" >/dev/null
