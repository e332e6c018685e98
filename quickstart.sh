#!/usr/bin/env bash
# Cairn in five minutes, offline, on its embedded store: load the starter pack
# (and the real published datasets when ../shared/datasets is there), read
# RedHotel's profile under any vendor's name, pull indicators out of a report,
# hunt the bundled Zeek logs, and rank the groups behind a set of techniques.
set -euo pipefail
cd "$(dirname "$0")"
export CAIRN_DB=${CAIRN_DB:-$PWD/target/quickstart.db}
DATA=${CAIRN_DATASETS:-../shared/datasets}
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

cargo build --release -q -p cairn-cli
export PATH="$PWD/target/release:$PATH"
rm -f "$CAIRN_DB" "$CAIRN_DB"-*

step cairn ingest --starter
cairn ingest --starter
if [ -f "$DATA/attack/enterprise-attack-18.1.json" ]; then
  step cairn ingest "$DATA"/attack/enterprise-attack-18.1.json "$DATA"/misp-galaxy/clusters/{threat-actor,microsoft-activity-group}.json "$DATA"/misp-warninglists/lists/{google,microsoft,rfc1918}/list.json
  cairn ingest "$DATA"/attack/enterprise-attack-18.1.json "$DATA"/misp-galaxy/clusters/{threat-actor,microsoft-activity-group}.json \
    "$DATA"/misp-warninglists/lists/{google,microsoft,rfc1918}/list.json 2>/dev/null
else
  echo "(no datasets at $DATA: showing the starter pack only)"
fi

step cairn actor "Charcoal Typhoon"
cairn actor "Charcoal Typhoon" | head -60

step cairn search winnti
cairn search winnti | head -8 || true

if [ -f "$DATA/insikt/redhotel-2023-08-appendix.txt" ]; then
  step cairn extract "$DATA/insikt/redhotel-2023-08-appendix.txt"
  cairn extract "$DATA/insikt/redhotel-2023-08-appendix.txt" | head -15
fi

step cairn hunt examples/logs/zeek
cairn hunt examples/logs/zeek || true

if [ -f "$DATA/attack/enterprise-attack-18.1.json" ]; then
  step cairn attribute --technique T1190 --technique T1059.001 --technique T1574.002 --software "Cobalt Strike" --software ShadowPad --country TW --sector government
  cairn attribute --technique T1190 --technique T1059.001 --technique T1574.002 \
    --software "Cobalt Strike" --software ShadowPad --country TW --sector government --top 5 || true
fi
printf '\nThe store is %s; try `cairn actor "Aquatic Panda"`, `cairn stats`, or --json on any command.\n' "$CAIRN_DB"
