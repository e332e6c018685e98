#!/usr/bin/env bash
# Runs every fuzz target (or those named after the seconds) for SECONDS each
# (default 180) and writes a summary table to fuzz/out/summary.md:
# target, executions, seconds, crashes (with the saved input).
#
#   fuzz/run.sh [SECONDS] [TARGET...]      PARALLEL=2 runs two at once
#                                          NO_BUILD=1 runs the binaries as built
#
# libFuzzer needs nightly compiler flags (-Z sanitizer coverage passes);
# the pinned toolchain is stable, so RUSTC_BOOTSTRAP=1 lets stable accept
# them. Built without a sanitizer (`-s none`): Rust is memory safe here
# (no unsafe outside hunt's simd module), panics, stack overflows and hangs
# are what the fuzzer looks for, and builds and runs are several times
# faster. Each target runs as one process (RAYON_NUM_THREADS=1 keeps the
# scanner's pool to one thread too).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
secs=${1:-180}
shift || true
export RUSTC_BOOTSTRAP=1 CARGO_INCREMENTAL=0 RAYON_NUM_THREADS=1
[ -n "${NO_BUILD:-}" ] || cargo fuzz build -s none --codegen-units 16 >/dev/null
[ -d corpus ] || ./seeds.sh
[ -e corpus/index_load/real.idx ] || ./seeds.sh >/dev/null
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
bin=$here/target/x86_64-unknown-linux-gnu/release
mkdir -p out
run_one() {
    local t=$1
    mkdir -p "corpus/$t" "artifacts/$t"
    local log=out/$t.log
    local start=$SECONDS rc=0
    "$bin/$t" "corpus/$t" -max_total_time="$secs" -max_len=8192 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
        >"$log" 2>&1 || rc=$?
    local took=$((SECONDS - start))
    local execs
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
    local crash
    crash=$(grep -o 'Test unit written to [^ ]*' "$log" | awk '{print $5}' | tail -1 || true)
    printf '%s\t%s\t%s\t%s\t%s\n' "$t" "${execs:-?}" "$took" "$([ $rc -eq 0 ] && echo 0 || echo 1)" "${crash:--}" >"out/$t.row"
}
PARALLEL=${PARALLEL:-1}
for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do wait -n; done
    run_one "$t" &
done
wait
{
    echo "| target | execs | seconds | crashes | input |"
    echo "|---|---:|---:|---:|---|"
    for t in "${targets[@]}"; do
        IFS=$'\t' read -r n e s c i <"out/$t.row"
        echo "| $n | $e | $s | $c | $i |"
    done
} | tee out/summary.md
