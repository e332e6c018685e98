#!/usr/bin/env bash
# Hunt benchmark: `cairn hunt` against `grep -F -f`, `rg -F -f` and `wc -l` on
# the same >= 1 GB of generated Zeek logs (dns, conn, ssl), with indicator sets
# of 1k, 100k and 1M values (domains, IPs, CIDRs, SHA-256/MD5 hashes).
#
#   bench/hunt.sh                 # everything (about 10-15 minutes on 2 cores)
#   SIZE_MB=300 SETS="1000 100000" bench/hunt.sh   # quicker
#   SKIP_TOOLS=1 bench/hunt.sh    # cairn and wc -l only (no grep, no rg)
#
# Needs: cargo, GNU time (/usr/bin/time), grep, rg (apt-get install ripgrep).
# Not a timed test: it prints a Markdown table to paste into
# docs/benchmarks/hunt.md. The grep/rg runs are capped by TOOL_TIMEOUT seconds
# (default 420: long enough for rg at 1M patterns to finish on 2 cores, so the
# ratio is a measurement; a capped run is shown as ">N" and its ratio as a
# lower bound).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${BENCH_DATA:-/tmp/cairn-hunt-bench}
SIZE_MB=${SIZE_MB:-1100}
SETS=${SETS:-"1000 100000 1000000"}
TOOL_TIMEOUT=${TOOL_TIMEOUT:-420}
CAIRN_RUNS=${CAIRN_RUNS:-3}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

# DRIVER=cli (default): the real `cairn hunt --ioc FILE --json`.
# DRIVER=lib: `cairn-loggen hunt`, the same library path without the CLI (for
# when the CLI does not build, e.g. mid-refactor of another crate).
DRIVER=${DRIVER:-cli}

cd "$ROOT"
if [ -z "${SKIP_TOOLS:-}" ]; then
  for t in grep rg /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "bench/hunt.sh: $t not found (rg: apt-get install ripgrep; or SKIP_TOOLS=1)" >&2; exit 1; }
  done
fi
cargo build --release -q -p cairn-loggen
if [ "$DRIVER" = cli ]; then cargo build --release -q -p cairn-cli; fi
CAIRN=$TARGET/release/cairn
LOGGEN=$TARGET/release/cairn-loggen
hunt_build() { # ioc-file: builds and caches the index, summary on stdout+stderr
  if [ "$DRIVER" = cli ]; then "$CAIRN" hunt --ioc "$1" /dev/null
  else "$LOGGEN" hunt --ioc "$1" --cache "$XDG_CACHE_HOME/index.idx" /dev/null; fi
}
hunt_run() { # ioc-file logs...: alerts as JSON lines on stdout
  local ioc=$1; shift
  if [ "$DRIVER" = cli ]; then "$CAIRN" hunt --quiet --json --ioc "$ioc" "$@"
  else "$LOGGEN" hunt --ioc "$ioc" --cache "$XDG_CACHE_HOME/index.idx" "$@"; fi
}
export -f hunt_build hunt_run
export DRIVER CAIRN LOGGEN

mkdir -p "$DATA"
if [ ! -s "$DATA/zeek/ssl.log" ] || [ "$(cat "$DATA/zeek/.size" 2>/dev/null)" != "$SIZE_MB" ]; then
  echo "generating ${SIZE_MB} MB of Zeek logs in $DATA/zeek" >&2
  rm -rf "$DATA/zeek"
  "$LOGGEN" zeek --out "$DATA/zeek" --size-mb "$SIZE_MB"
  echo "$SIZE_MB" > "$DATA/zeek/.size"
fi
LOGS=("$DATA/zeek/dns.log" "$DATA/zeek/conn.log" "$DATA/zeek/ssl.log")
BYTES=$(cat "${LOGS[@]}" | wc -c)
LINES=$(cat "${LOGS[@]}" | wc -l)
MB=$(awk "BEGIN{printf \"%.0f\", $BYTES/1e6}")

for n in $SETS; do
  [ -s "$DATA/iocs-$n.txt" ] || "$LOGGEN" iocs --count "$n" > "$DATA/iocs-$n.txt"
  # The same values for grep/rg, refanged (they cannot read defanged values or CIDRs).
  sed -e 's/\[\.\]/./g' "$DATA/iocs-$n.txt" > "$DATA/patterns-$n.txt"
done

# Warm the page cache, then time the read-the-file ceiling.
cat "${LOGS[@]}" > /dev/null
run() { # label, command... -> "seconds peak_kb" on stdout, command output to $DATA/out
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  if /usr/bin/time -f "%M" -o "$DATA/time.txt" timeout "$TOOL_TIMEOUT" "$@" > "$DATA/out" 2> "$DATA/err"; then :; fi
  t1=$(date +%s.%N)
  local rc=0
  grep -q "Command terminated by signal\|Command exited with non-zero status 124" "$DATA/time.txt" && rc=124
  local secs
  secs=$(awk "BEGIN{printf \"%.2f\", $t1-$t0}")
  local kb
  kb=$(tail -1 "$DATA/time.txt")
  if [ "$rc" = 124 ]; then secs=">$TOOL_TIMEOUT"; fi
  echo "$secs $kb"
}
# Rows of runs killed by the timeout (">N") have no rate: decided in the
# shell, since awk cannot even parse a program that divides by ">N".
mbps() { if [[ $1 == ">"* ]]; then echo "-"; else awk -v s="$1" -v mb="$MB" 'BEGIN{printf "%.0f", mb/s}'; fi; }
lps() { if [[ $1 == ">"* ]]; then echo "-"; else awk -v s="$1" -v n="$LINES" 'BEGIN{printf "%.1fM", n/s/1e6}'; fi; }
# ratio TOOL_SECONDS CAIRN_SECONDS: "12.3x", or ">12x" for a capped tool.
ratio() {
  if [[ $1 == ">"* ]]; then awk -v t="${1#>}" -v c="$2" 'BEGIN{printf ">%.0fx", t/c}'
  else awk -v t="$1" -v c="$2" 'BEGIN{printf "%.1fx", t/c}'; fi
}

WC_ALL=()
for _ in 1 2 3; do read -r S KB < <(run wc wc -l "${LOGS[@]}"); WC_ALL+=("$S $KB"); done
read -r WC_S WC_KB < <(printf '%s\n' "${WC_ALL[@]}" | sort -n | sed -n 2p)
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/{print $2}') GB RAM"
echo "load at start: $(uptime | sed 's/.*load average: //')"
echo "logs: ${#LOGS[@]} Zeek files (dns, conn, ssl), $MB MB, $LINES lines, page-cached"
echo "wc -l: ${WC_S} s ($(mbps "$WC_S") MB/s; median of 3)"
echo
echo "| indicators | tool | time (s) | MB/s | lines/s | peak RSS (MB) | matching lines | notes |"
echo "|---:|---|---:|---:|---:|---:|---:|---|"
for n in $SETS; do
  export XDG_CACHE_HOME="$DATA/cache-$n"
  rm -rf "$XDG_CACHE_HOME"; mkdir -p "$XDG_CACHE_HOME"
  # 1) build the index (and cache it), 2) the timed run, with the index built.
  read -r B_S B_KB < <(run build bash -c 'hunt_build "$0"' "$DATA/iocs-$n.txt")
  IDX=$(cat "$DATA/out" "$DATA/err" | grep -o 'Index: .*' | head -1 || true)
  BPI=$(echo "$IDX" | sed -n 's/.*, \([0-9.]*\) bytes\/indicator.*/\1/p')
  BUILD_S=$(echo "$IDX" | sed -n 's/.*built, \([0-9.]*\) s.*/\1/p')
  # cairn takes seconds, so it runs CAIRN_RUNS times (wall time on a shared
  # VM moves by +-20 %): the median is reported, with the spread. Each run
  # follows a `wc -l` run (the last run's alerts are counted below), so the
  # share of `wc -l` compares runs made in the same seconds: the median of
  # the pairs' ratios.
  C_ALL=()
  PAIR=()
  for _ in $(seq "$CAIRN_RUNS"); do
    read -r W _ < <(run wc wc -l "${LOGS[@]}")
    read -r S KB < <(run cairn bash -c 'hunt_run "$@"' _ "$DATA/iocs-$n.txt" "${LOGS[@]}")
    C_ALL+=("$S $KB")
    PAIR+=("$(awk -v w="$W" -v c="$S" 'BEGIN{printf "%.1f", 100*w/c}') $W")
  done
  SHARE=$(printf '%s\n' "${PAIR[@]}" | sort -n | sed -n "$(( (CAIRN_RUNS + 1) / 2 ))p" | cut -d' ' -f1)
  WC_PAIRED=$(printf '%s\n' "${PAIR[@]}" | awk '{print $2}' | sort -n | sed -n "$(( (CAIRN_RUNS + 1) / 2 ))p")
  PAIRS=$(printf '%s\n' "${PAIR[@]}" | sort -n | awk '{printf "%s%s/%s", (NR > 1 ? ", " : ""), $1, $2}')
  read -r C_S C_KB < <(printf '%s\n' "${C_ALL[@]}" | sort -n | sed -n "$(( (CAIRN_RUNS + 1) / 2 ))p")
  C_SPREAD=$(printf '%s\n' "${C_ALL[@]}" | sort -n | awk 'NR==1{lo=$1} {hi=$1} END{printf "%s-%s", lo, hi}')
  C_HITS=$(wc -l < "$DATA/out")
  C_LINES=$(grep -o '"file":"[^"]*","line":[0-9]*' "$DATA/out" | sort -u | wc -l)
  echo "| $n | cairn hunt ($DRIVER) | $C_S | $(mbps "$C_S") | $(lps "$C_S") | $((C_KB/1024)) | $C_LINES ($C_HITS alerts) | median of $CAIRN_RUNS runs ($C_SPREAD s); index built once in ${BUILD_S} s (peak $((B_KB/1024)) MB), then cached; ${BPI} bytes/indicator |"
  if [ -n "${SKIP_TOOLS:-}" ]; then
    echo "| $n | ratios | (tools skipped) | cairn/wc: ${SHARE}% of wc -l throughput (median of $CAIRN_RUNS paired runs; wc -l ${WC_PAIRED} s; pairs % wc s: ${PAIRS}) | | | | load: $(uptime | sed 's/.*load average: //') |"
    continue
  fi
  read -r G_S G_KB < <(run grep grep -F -f "$DATA/patterns-$n.txt" "${LOGS[@]}")
  G_LINES=$(wc -l < "$DATA/out")
  echo "| $n | grep -F -f | $G_S | $(mbps "$G_S") | $(lps "$G_S") | $((G_KB/1024)) | $G_LINES | substring matches |"
  read -r R_S R_KB < <(run rg rg -F -f "$DATA/patterns-$n.txt" "${LOGS[@]}")
  R_LINES=$(wc -l < "$DATA/out")
  echo "| $n | rg -F -f | $R_S | $(mbps "$R_S") | $(lps "$R_S") | $((R_KB/1024)) | $R_LINES | substring matches |"
  echo "| $n | ratios | rg/cairn: $(ratio "$R_S" "$C_S"), grep/cairn: $(ratio "$G_S" "$C_S") | cairn/wc: ${SHARE}% of wc -l throughput (median of $CAIRN_RUNS paired runs; wc -l ${WC_PAIRED} s; pairs % wc s: ${PAIRS}) | | | | load after: $(uptime | sed 's/.*load average: //') |"
done
