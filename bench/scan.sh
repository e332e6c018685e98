#!/usr/bin/env bash
# File scanning: `cairn scan` (hashes, every Authenticode signature, the
# store's lookups) against Python's signify on the same PE files; and, with
# a YARA build and the yara-x CLI installed, `cairn scan --rules` against
# `yr scan` alone on the same rules. Signature parsing is also compared on
# a corpus where every PE is signed (bench/sign_corpus.sh, osslsigncode).
# Usage: bench/scan.sh [FOLDER]
#   FOLDER  PE files to scan (default: Debian's wine, mingw-w64, shim-signed
#           and grub-efi-amd64-signed packages unpacked under $BENCH_PE,
#           default /tmp/cairn-bench-pe; fetched with apt-get download)
# Environment: RUNS (default 3, fastest kept), RULES (default the
# ReversingLabs blocklist), YARA=1 to build cairn with --features yara.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
DATASETS="${CAIRN_DATASETS:-../shared/datasets}"
RUNS="${RUNS:-3}"
RULES="${RULES:-$DATASETS/codesign/reversinglabs/blocklist.yara}"
CORPUS="${1:-}"
if [ -z "$CORPUS" ]; then
  BENCH_PE="${BENCH_PE:-/tmp/cairn-bench-pe}"
  CORPUS="$BENCH_PE/x"
  if [ ! -d "$CORPUS" ]; then
    mkdir -p "$BENCH_PE" && cd "$BENCH_PE"
    apt-get download libwine mingw-w64-x86-64-dev mingw-w64-i686-dev \
      gcc-mingw-w64-x86-64-win32-runtime shim-signed grub-efi-amd64-signed
    mkdir -p x && for d in *.deb; do dpkg-deb -x "$d" x; done
    cd - >/dev/null
  fi
fi
mb=$(du -sm "$CORPUS" | cut -f1)
echo "== corpus: $CORPUS ($mb MB, $(find "$CORPUS" -type f | wc -l) files)"

FEATURES=()
if [ "${YARA:-0}" = 1 ]; then FEATURES=(--features yara); fi
echo "== build cairn (release${FEATURES:+, yara})"
cargo build -q --release -p cairn-cli "${FEATURES[@]}"
CAIRN="${CARGO_TARGET_DIR:-target}/release/cairn"
DB=$(mktemp -d)/bench.db
out=$(mktemp); err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

fastest() {
  local best="" start end t
  for _ in $(seq "$RUNS"); do
    start=$(date +%s.%N)
    "$@" >"$out" 2>"$err" || true
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
  done
  printf "%.3f\n" "$best"
}
peak_mb() { /usr/bin/time -f %M "$@" >/dev/null 2>"$err"; echo $(( $(tail -n1 "$err") / 1024 )); }

echo "== cairn scan (SHA-256 and the hashes the store can match, every signature, store lookups)"
ours=$(fastest "$CAIRN" --db "$DB" scan --json --no-store-rules "$CORPUS")
signed=$(grep -c '"signatures":\[{' "$out" || true)
echo "cairn scan: ${ours} s, $signed finding line(s) with signatures; $(tail -n1 "$err")"
if [ -x /usr/bin/time ]; then echo "  peak RSS $(peak_mb "$CAIRN" --db "$DB" scan --json --no-store-rules "$CORPUS") MB"; fi
ours=$(fastest "$CAIRN" --db "$DB" scan --json --no-store-rules --all-hashes "$CORPUS")
echo "cairn scan --all-hashes (MD5, SHA-1, SHA-256, Authenticode SHA-256 of every file): ${ours} s"
echo "== the same work as signify (signatures, signer fields, Authenticode SHA-256; one thread)"
cargo build -q --release -p cairn-codesign --example sigs
ours=$(fastest "${CARGO_TARGET_DIR:-target}/release/examples/sigs" "$CORPUS")
echo "cairn-codesign: ${ours} s; $(cat "$out")"
if python3 -c "import signify.authenticode" 2>/dev/null; then
  theirs=$(fastest python3 bench/scan_signify.py "$CORPUS")
  echo "signify: ${theirs} s; $(cat "$out")"
  echo "ratio signify / cairn-codesign (how many times faster Cairn is): $(echo "scale=1; $theirs / $ours" | bc)"
else
  echo "signify is not importable: pip install signify==0.9.3 (and see scan_signify.py's note)"
fi

SIGNED="${SIGNED:-${BENCH_PE:-/tmp/cairn-bench-pe}/signed}"
if [ ! -d "$SIGNED" ] && command -v osslsigncode >/dev/null; then
  bash bench/sign_corpus.sh "$CORPUS" "$SIGNED"
fi
if [ -d "$SIGNED" ] && python3 -c "import signify.authenticode" 2>/dev/null; then
  echo "== every PE signed ($SIGNED): signature parsing alone, then with the Authenticode SHA-256"
  for mode in --parse-only ""; do
    ours=$(fastest "${CARGO_TARGET_DIR:-target}/release/examples/sigs" $mode "$SIGNED")
    echo "cairn-codesign ${mode:-(with hash)}: ${ours} s; $(cat "$out")"
    theirs=$(fastest python3 bench/scan_signify.py $mode "$SIGNED")
    echo "signify ${mode:-(with hash)}: ${theirs} s; $(cat "$out")"
    echo "ratio signify / cairn-codesign: $(echo "scale=1; $theirs / $ours" | bc)"
  done
fi

if [ "${YARA:-0}" != 1 ]; then
  echo "(YARA part skipped: YARA=1 builds cairn with --features yara)"
  exit 0
fi
echo "== YARA: cairn scan --rules (also signatures and hashes) vs yr scan alone; rules: $RULES"
ours=$(fastest "$CAIRN" --db "$DB" scan --json --no-store-rules --rules "$RULES" "$CORPUS")
echo "cairn scan --rules: ${ours} s, $(grep -c '"kind":"yara"' "$out" || true) YARA finding(s)"
every=$(fastest "$CAIRN" --db "$DB" scan --json --no-store-rules --all-hashes --rules "$RULES" "$CORPUS")
echo "cairn scan --rules --all-hashes (as with a store holding MD5, SHA-1 and Authenticode-hash indicators): ${every} s"
if ! command -v yr >/dev/null 2>&1; then
  echo "yr is not installed: cargo install yara-x-cli --locked (a ~15 min release build)"
  exit 0
fi
theirs=$(fastest yr scan --disable-console-logs -p "$(nproc)" -r "$RULES" "$CORPUS")
echo "yr scan: ${theirs} s, $(grep -c . "$out" || true) match line(s)"
echo "ratio cairn / yr (1.0 = as fast; the floor is 1.3): $(echo "scale=2; $ours / $theirs" | bc); with --all-hashes: $(echo "scale=2; $every / $theirs" | bc)"
