#!/usr/bin/env bash
# Server load benchmark (loopback only, bounded): the per-event indicator
# lookup a SIEM makes, `GET /api/v1/indicators/lookup?value=…`, against a
# store holding ATT&CK Enterprise + the starter pack + 1M indicators, driven
# by wrk with a rotating mix of hits (subdomains of known domains, IPs in
# known CIDRs, exact hashes) and misses. For scale, the same wrk run against
# the server's static stylesheet (the HTTP stack's ceiling) and against
# Python's http.server on the same machine.
#
# Then the actor pages: wrk on `GET /api/v1/actors/{name}` and the HTML page
# `/actor/{name}` (signed in as an analyst) for RedHotel and APT41, on a
# store holding ATT&CK Enterprise + the MISP threat-actor and
# microsoft-activity-group galaxies + the starter pack, beside the time of the
# first (cold) request, which makes the answer; and the whole TAXII
# "everything" collection read at 100 objects a page.
#
#   bench/serve.sh                      # ~6 minutes on 2 cores, first run longer
#   N=100000 DURATION=10 bench/serve.sh # quicker
#   PART=actors bench/serve.sh          # the actor pages and TAXII only (~2 minutes)
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

# wrk with one header set by a Lua script (auth), Markdown row out.
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

header_lua() { # file, header, value
  printf 'wrk.headers["%s"] = "%s"\n' "$2" "$3" > "$1"
}

actors_bench() {
  local db=$DATA/actors.db gal=$DATASETS/misp-galaxy/clusters port=$((PORT + 2))
  [ -s "$DATASETS/attack/enterprise-attack-18.1.json" ] && [ -s "$gal/threat-actor.json" ] \
    || { echo "actor bench: datasets not found under $DATASETS" >&2; return 2; }
  if [ ! -s "$db" ]; then
    CAIRN_DB=$db "$CAIRN" -q ingest "$DATASETS/attack/enterprise-attack-18.1.json" \
      "$gal/threat-actor.json" "$gal/microsoft-activity-group.json" >/dev/null
    CAIRN_DB=$db "$CAIRN" -q ingest --starter >/dev/null
  fi
  local tok; tok=$(CAIRN_DB=$db "$CAIRN" -q token create --name "bench-actors-$$" --role analyst)
  CAIRN_DB=$db "$CAIRN" -q serve --listen "127.0.0.1:$port" --rate-limit 0 > "$DATA/serve-actors.log" 2>&1 &
  ASERVER=$!
  until curl -fs -o /dev/null -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/api/v1/stats"; do
    sleep 0.2
    kill -0 $ASERVER 2>/dev/null || { cat "$DATA/serve-actors.log"; return 2; }
  done
  # A browser session for the HTML page.
  curl -fs -c "$DATA/cookies" -o /dev/null --data-urlencode "token=$tok" "http://127.0.0.1:$port/login"
  local session; session=$(awk 'NF>=7 && $0 !~ /^# / {print $6"="$7}' "$DATA/cookies" | tail -1)
  header_lua "$DATA/bearer.lua" Authorization "Bearer $tok"
  header_lua "$DATA/cookie.lua" Cookie "$session"
  echo
  echo "actor pages: ATT&CK + MISP galaxies + starter pack; machine: $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg); wrk -t2 -c$CONNS -d${DURATION}s"
  echo
  echo "| target | cold first request | requests/s | p50 | p99 | non-2xx |"
  echo "|---|---|---|---|---|---|"
  local name url cold row
  for name in RedHotel APT41; do
    url="http://127.0.0.1:$port/api/v1/actors/$name"
    cold=$(curl -fs -o "$DATA/actor.json" -w '%{time_total}' -H "Authorization: Bearer $tok" "$url")
    grep -q '"members"' "$DATA/actor.json" || { echo "no profile for $name" >&2; return 2; }
    row=$(run_wrk "API \`/api/v1/actors/$name\`" "$url" "$DATA/bearer.lua")
    echo "$row" | sed "s/^| \([^|]*\)|/| \1| ${cold} s |/"
    url="http://127.0.0.1:$port/actor/$name"
    cold=$(curl -fs -o "$DATA/actor.html" -w '%{time_total}' -H "Cookie: $session" "$url")
    grep -q "<h1" "$DATA/actor.html" || { echo "no page for $name" >&2; return 2; }
    row=$(run_wrk "page \`/actor/$name\`" "$url" "$DATA/cookie.lua")
    echo "$row" | sed "s/^| \([^|]*\)|/| \1| ${cold} s |/"
  done
  echo
  python3 - "http://127.0.0.1:$port" "$tok" <<'PY'
import json, sys, time, urllib.parse, urllib.request
base, tok = sys.argv[1], sys.argv[2]
hdr = {"Authorization": "Bearer " + tok, "Accept": "application/taxii+json;version=2.1"}
def get(path):
    with urllib.request.urlopen(urllib.request.Request(base + path, headers=hdr)) as r:
        return json.load(r)
cols = get("/taxii2/cairn/collections/")["collections"]
every = next(c for c in cols if "everything" in c["title"].lower())
start, n, pages, nxt = time.time(), 0, 0, None
while True:
    q = {"limit": "100"}
    if nxt:
        q["next"] = nxt
    env = get("/taxii2/cairn/collections/%s/objects/?%s" % (every["id"], urllib.parse.urlencode(q)))
    n += len(env.get("objects", [])); pages += 1
    if not env.get("more"):
        break
    nxt = env["next"]
print("TAXII \"%s\": %d objects in %d pages of 100, read whole in %.2f s" % (every["title"], n, pages, time.time() - start))
PY
  kill $ASERVER 2>/dev/null || true
  CAIRN_DB=$db "$CAIRN" -q token revoke "bench-actors-$$" >/dev/null
}

trap 'kill ${SERVER:-0} ${ASERVER:-0} 2>/dev/null || true; kill ${PY:-0} 2>/dev/null || true' EXIT
if [ "${PART:-all}" = actors ]; then
  actors_bench
  exit 0
fi

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
python3 "$ROOT/bench/lookup_mix.py" "$DATA/iocs-$N.txt" "$DATA/lookup.lua" "$TOKEN"

"$CAIRN" -q serve --listen "127.0.0.1:$PORT" --rate-limit 0 > "$DATA/serve.log" 2>&1 &
SERVER=$!
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
kill $SERVER 2>/dev/null || true
actors_bench
