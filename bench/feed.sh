#!/usr/bin/env bash
# Feed benchmark (loopback only): one Cairn server's TAXII 2.1 collection
# pulled into a second, empty store by `cairn feed sync`, beside OASIS
# `taxii2-client` (PyPI) reading the same collection page by page and
# discarding it — the client alone, with nothing stored. Then a second sync
# with nothing new (one request per collection), and an incremental one
# after a list of 10,000 values is ingested upstream.
#
#   bash bench/feed.sh            # ATT&CK Enterprise + ICS + the Insikt files (the starter pack)
#   CAIRN_BIN=target/debug/cairn bash bench/feed.sh   # skip the release build
#
# Needs python3 (a venv with taxii2-client is made under target/). Prints a
# Markdown table for docs/BENCHMARKS.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -z "${CAIRN_BIN:-}" ]; then
    cargo build --release -q -p cairn-cli
    CAIRN_BIN=$TARGET/release/cairn
fi
PAGE=${PAGE:-1000}
VENV=$TARGET/bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import taxii2client" 2>/dev/null ||
    "$VENV/bin/pip" install -q --disable-pip-version-check taxii2-client==2.3.0
TMP=$(mktemp -d)
cleanup() { [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

UP=$TMP/upstream.db
"$CAIRN_BIN" --quiet --db "$UP" ingest --starter >/dev/null
PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CAIRN_BIN" --quiet --db "$UP" serve --listen "127.0.0.1:$PORT" --anonymous-read >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/taxii2/" >/dev/null && break; sleep 0.1; done
BASE="http://127.0.0.1:$PORT/taxii2/"
ALL=$(curl -sf -H 'Accept: application/taxii+json;version=2.1' "${BASE}cairn/collections/" |
    "$VENV/bin/python" -c 'import json,sys; print(next(c["id"] for c in json.load(sys.stdin)["collections"] if c["title"] == "Cairn: everything"))')

# best wall time in seconds and peak RSS (KiB)
measure() {
    /usr/bin/time -f "%e %M" -o "$TMP/t" "$@" >"$TMP/out" 2>&1 || { cat "$TMP/out" >&2; exit 1; }
    cat "$TMP/t"
}

cat >"$TMP/client.py" <<PY
import sys
from taxii2client.v21 import Collection, as_pages
c = Collection("${BASE}cairn/collections/$ALL/")
n = 0
for page in as_pages(c.get_objects, per_request=$PAGE):
    n += len(page.get("objects", []))
print(n)
PY
read -r py_t py_m < <(measure "$VENV/bin/python" "$TMP/client.py")
py_n=$(cat "$TMP/out")

DOWN=$TMP/downstream.db
"$CAIRN_BIN" --quiet --db "$DOWN" feed add up "$BASE" --kind taxii --collection "$ALL" --page-size "$PAGE" >/dev/null
read -r cold_t cold_m < <(measure "$CAIRN_BIN" --quiet --db "$DOWN" feed sync up --json)
added() { grep -o '"added":[0-9]*' "$TMP/out" | head -1 | cut -d: -f2; }
cold_added=$(added)
read -r again_t again_m < <(measure "$CAIRN_BIN" --quiet --db "$DOWN" feed sync up --json)

seq 1 10000 | sed 's/^/bench-/; s/$/.example.net/' >"$TMP/new.txt"
"$CAIRN_BIN" --quiet --db "$UP" ingest --format list --source "bench list" "$TMP/new.txt" >/dev/null
read -r inc_t inc_m < <(measure "$CAIRN_BIN" --quiet --db "$DOWN" feed sync up --json)
inc_added=$(added)

ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); binary: $CAIRN_BIN; pages of $PAGE"
echo
echo "| run | seconds | vs taxii2-client | peak RSS MB | objects |"
echo "|---|---:|---:|---:|---:|"
echo "| taxii2-client reads the collection (nothing stored) | $py_t | 1.00x | $((py_m / 1024)) | $py_n |"
echo "| cairn feed sync, first (fetch + store) | $cold_t | $(ratio "$cold_t" "$py_t") | $((cold_m / 1024)) | $cold_added added |"
echo "| cairn feed sync, nothing new | $again_t | $(ratio "$again_t" "$py_t") | $((again_m / 1024)) | 0 |"
echo "| cairn feed sync after 10,000 list values upstream | $inc_t | $(ratio "$inc_t" "$py_t") | $((inc_m / 1024)) | $inc_added added |"
