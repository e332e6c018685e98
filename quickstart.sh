#!/usr/bin/env bash
# Cairn in five minutes, offline, on its embedded store: load the starter pack
# (and the real published datasets when ../shared/datasets is there), read
# RedHotel's profile under any vendor's name, read a report (indicators, techniques,
# software, victims) and attribute it,
# hunt the bundled Zeek logs, rank the groups behind a set of techniques, and
# finally serve it all as a web app, REST API and TAXII 2.1 feed.
set -euo pipefail
cd "$(dirname "$0")"
export CAIRN_DB=${CAIRN_DB:-$PWD/target/quickstart.db}
DATA=${CAIRN_DATASETS:-../shared/datasets}
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

cargo build --release -q -p cairn-cli
export PATH="${CARGO_TARGET_DIR:-$PWD/target}/release:$PATH"
rm -f "$CAIRN_DB" "$CAIRN_DB"-*

step cairn ingest --starter
cairn ingest --starter
if [ -d "$DATA/misp-galaxy/clusters" ]; then
  step cairn ingest "$DATA"/misp-galaxy/clusters/{threat-actor,microsoft-activity-group}.json "$DATA"/misp-warninglists/lists/{google,microsoft,rfc1918}/list.json
  cairn ingest "$DATA"/misp-galaxy/clusters/{threat-actor,microsoft-activity-group}.json \
    "$DATA"/misp-warninglists/lists/{google,microsoft,rfc1918}/list.json 2>/dev/null
else
  echo "(no datasets at $DATA: the starter pack alone — ATT&CK and RedHotel's published indicators)"
fi

step cairn actor "Charcoal Typhoon"
cairn actor "Charcoal Typhoon" | head -60 || true   # head closes the pipe early: not a failure

step cairn search winnti
cairn search winnti | head -8 || true

if [ -f "$DATA/insikt/redhotel-2023-08-appendix.txt" ]; then
  step cairn extract "$DATA/insikt/redhotel-2023-08-appendix.txt"
  cairn extract "$DATA/insikt/redhotel-2023-08-appendix.txt" | head -15 || true
fi

step cairn extract examples/reports/redhotel-2023.md   "(the prose too: techniques, software, groups, victims, each with its sentence)"
cairn extract examples/reports/redhotel-2023.md | sed -n '/in the prose/,$p' | head -24 || true
step cairn attribute --report examples/reports/redhotel-2023.md   "(the groups it names, beside the ranking inferred without them)"
cairn attribute --report examples/reports/redhotel-2023.md --top 5 --explain 0 | head -16 || true

step cairn hunt examples/logs/zeek
cairn hunt examples/logs/zeek || true

# Team scale: the same hunt spread over workers through NATS JetStream, when
# a server listens on 127.0.0.1:4222 (`nats-server -js`).
if (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; then
  step "cairn worker --nats nats://127.0.0.1:4222 & cairn hunt examples/logs/zeek --nats nats://127.0.0.1:4222"   "(the same alerts, hunted by a worker)"
  cairn worker --nats nats://127.0.0.1:4222 --queue quickstart 2>/dev/null & worker=$!
  cairn hunt examples/logs/zeek --nats nats://127.0.0.1:4222 --queue quickstart --patience 30 | sed -n "/^Hunted/,/^By indicator/p" | head -8 || true
  kill -TERM "$worker" 2>/dev/null; wait "$worker" 2>/dev/null || true
else
  echo "(no NATS server on 127.0.0.1:4222: skipping the distributed hunt; start \`nats-server -js\` to see it)"
fi

# Team scale: the store itself on PostgreSQL, when a server listens on
# 127.0.0.1:5432 and lets this user create a database (trust auth here).
PGQ=${PGQ:-postgres://postgres@127.0.0.1:5432}
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && command -v psql >/dev/null \
   && psql "$PGQ/postgres" -qc "DROP DATABASE IF EXISTS cairn_quickstart" 2>/dev/null \
   && psql "$PGQ/postgres" -qc "CREATE DATABASE cairn_quickstart" 2>/dev/null; then
  step "cairn --db $PGQ/cairn_quickstart ingest --starter; … actor; … hunt examples/logs/zeek; … export zeek-intel"   "(the same store on PostgreSQL: many servers and ingests can share it)"
  cairn --db "$PGQ/cairn_quickstart" ingest --starter >/dev/null
  cairn --db "$PGQ/cairn_quickstart" stats | tail -3
  cairn --db "$PGQ/cairn_quickstart" actor "earth lusca" | head -4 || true
  cairn --db "$PGQ/cairn_quickstart" hunt examples/logs/zeek | sed -n "/^Hunted/,/^By indicator/p" | head -8 || true
  cairn --db "$PGQ/cairn_quickstart" export zeek-intel --actor RedHotel | grep -v '^#' | head -3 || true
  psql "$PGQ/postgres" -qc "DROP DATABASE cairn_quickstart WITH (FORCE)" 2>/dev/null || true
else
  echo "(no PostgreSQL on 127.0.0.1:5432 that lets us create a database: skipping the shared store)"
fi

step cairn ingest examples/logs/zeek/{dns,ssl}.log.gz --source sensor-1   "(the same logs as observations: passive DNS and TLS)"
cairn ingest examples/logs/zeek/{dns,ssl}.log.gz --source sensor-1 >/dev/null
step cairn pivot kb.dga.asia --depth 2
cairn pivot kb.dga.asia --depth 2 || true
step cairn infra RedHotel --tiers   "(each value's STIX infrastructure type and why; the sensor's pDNS adds reasons)"
cairn infra RedHotel --tiers | awk 'NR == 1 || / 20[0-9][0-9]-/' | head -8 || true

step cairn attribute --technique T1190 --technique T1059.001 --technique T1574.002 --software "Cobalt Strike" --software ShadowPad --country TW --sector government
cairn attribute --technique T1190 --technique T1059.001 --technique T1574.002 \
  --software "Cobalt Strike" --software ShadowPad --country TW --sector government --top 5 || true
if [ -f "$DATA/asn/asn-ipv4.csv.gz" ]; then
  step cairn ingest asn-ipv4.csv.gz --as-of 2026-06-17 tranco10k/list.json   "(address → AS table; a popularity list)"
  cairn ingest "$DATA/asn/asn-ipv4.csv.gz" --as-of 2026-06-17 >/dev/null
  cairn ingest "$DATA/misp-warninglists/lists/tranco10k/list.json" >/dev/null
  step cairn infra RedHotel
  cairn infra RedHotel | head -16 || true
  step cairn infra score examples/infra/candidates.txt --actor RedHotel
  cairn infra score examples/infra/candidates.txt --actor RedHotel || true
fi

if [ -d "$DATA/codesign" ]; then
  C="$DATA/codesign"
  step cairn ingest cert_graveyard_database.csv CS_Dataset.csv lolcerts/{leaked,malicious}.csv blocklist.yara   "(abused code-signing certificates: four published lists)"
  cairn ingest "$C"/certgraveyard/cert_graveyard_database.csv "$C"/xingtulab/CS_Dataset.csv \
    "$C"/lolcerts/{leaked,malicious}.csv "$C"/reversinglabs/blocklist.yara >/dev/null
  step cairn cert 0c:09:99:17:98:01:b4:6b:92:91:1b:8b:67:10:18:a8   "(the certificate a PlugX sample was signed with; who uses PlugX, per ATT&CK)"
  cairn cert 0c:09:99:17:98:01:b4:6b:92:91:1b:8b:67:10:18:a8 | head -24 || true
  step cairn ingest examples/certs/team-leaks.csv --source "example leak list" --actor RedHotel   "(an EXAMPLE list naming a public sample's test certificate)"
  cairn ingest examples/certs/team-leaks.csv --source "example leak list" --actor RedHotel >/dev/null
  step cairn scan signed-samples/   "(who signed each file, and whether the signer is known: exit 0 on a match)"
  cairn scan "$C/signed-samples" | head -16 || true
fi

if [ -d "$DATA/sigma" ] && [ -d "$DATA/evtx" ]; then
  step cairn ingest sigma/rules   "(SigmaHQ's rules: one source, each rule with its ATT&CK tags)"
  cairn ingest "$DATA/sigma/rules" --source SigmaHQ >/dev/null
  step cairn detect "evtx/TA0008-Lateral Movement" --json '>' lateral.jsonl   "(Sigma over real EVTX samples; one JSON line per detection)"
  LAT="$(dirname "$CAIRN_DB")/lateral.jsonl"
  cairn detect -q "$DATA/evtx/TA0008-Lateral Movement" --json > "$LAT" || true
  head -c 600 "$LAT"; echo " …"
  step cairn attribute --detections lateral.jsonl   "(which groups those techniques point to, weighted by rule level and spread)"
  cairn attribute --detections "$LAT" --top 5 --explain 1 | head -16 || true
fi

step cairn export navigator --actor RedHotel -o redhotel-layer.json
cairn export navigator --actor RedHotel -o "$(dirname "$CAIRN_DB")/redhotel-layer.json" && \
  echo "ATT&CK Navigator layer written to $(dirname "$CAIRN_DB")/redhotel-layer.json"

step cairn export zeek-intel --actor RedHotel -o redhotel.intel
cairn export zeek-intel --actor RedHotel -o "$(dirname "$CAIRN_DB")/redhotel.intel" && \
  head -4 "$(dirname "$CAIRN_DB")/redhotel.intel"
echo "(a Zeek Intel file: add it to Intel::read_files; also suricata-dataset, rpz, csv, ecs-ndjson)"

step cairn feed catalogue
cairn --quiet feed catalogue
echo "(offline here: subscribe with \`cairn feed add NAME --from-catalogue ID\`, then \`cairn feed sync\`)"

# A feed that works offline: this store served over TAXII 2.1 on loopback,
# pulled into a second store (a partner's Cairn, or any TAXII server).
PEER=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cairn --quiet serve --listen "127.0.0.1:$PEER" --anonymous-read >/dev/null 2>&1 &
PEER_PID=$!
trap 'kill $PEER_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PEER/taxii2/" >/dev/null 2>&1 && break; sleep 0.1; done
SECOND="$(dirname "$CAIRN_DB")/quickstart-subscriber.db"
rm -f "$SECOND" "$SECOND"-*
step cairn feed add redhotel http://127.0.0.1:$PEER/taxii2/ --kind taxii --collection "Insikt Group: RedHotel report (2023-08)"
cairn --db "$SECOND" --quiet feed add redhotel "http://127.0.0.1:$PEER/taxii2/" --kind taxii \
  --collection "Insikt Group: RedHotel report (2023-08)" --every 1h
step "cairn feed sync && cairn feed sync && cairn feed list   (the second run asks only for what is new)"
cairn --db "$SECOND" feed sync || true
cairn --db "$SECOND" feed sync || true
cairn --db "$SECOND" feed list
kill $PEER_PID 2>/dev/null || true

printf '\nThe store is %s; try `cairn actor "Aquatic Panda"`, `cairn stats`, or --json on any command.\n' "$CAIRN_DB"

# Last: the web app, REST API and TAXII feed over the same store.
step cairn token create --name quickstart --role admin
cairn token revoke quickstart >/dev/null 2>&1 || true
TOKEN=$(cairn token create --name quickstart --role admin)
ADDR=${CAIRN_LISTEN:-127.0.0.1:8080}
cat <<MSG

  Open http://$ADDR/ and sign in with this token (admin; shown once):

      $TOKEN

  Then search "Charcoal Typhoon", open the actor, pivot to an indicator, try Attribute and Hunt.
  API:   curl -H "Authorization: Bearer $TOKEN" "http://$ADDR/api/v1/indicators/lookup?value=kb.dga.asia"
  Sensors pull: curl -H "Authorization: Bearer $TOKEN" "http://$ADDR/api/v1/export/zeek-intel?actor=RedHotel"
  Docs:  http://$ADDR/api/v1/openapi.json      TAXII 2.1: http://$ADDR/taxii2/
  Readers (cairn token create --name x --role reader) never see TLP:RED or TLP:AMBER+STRICT.
MSG
if [ -t 1 ] && [ "${NO_SERVE:-0}" != 1 ]; then
  step cairn serve --listen "$ADDR"   "(Ctrl-C to stop)"
  exec cairn serve --listen "$ADDR"
else
  echo "(not a terminal: run \`CAIRN_DB=$CAIRN_DB cairn serve\` yourself)"
fi
