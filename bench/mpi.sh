#!/bin/sh
# Data-parallel training on this machine (README, "Train on several
# machines"): the step time of 1 process x 2 threads (batch 2) against
# 2 ranks x 1 thread (batch 1 each, the same global batch) at img 256, light
# and full, with the time a rank waits in communication and the bytes it
# all-reduces per step, as `ugatit train` prints them. Builds build-mpi/
# (Release, -DUGATIT_MPI=ON) unless BUILD names another MPI build.
#
#   bench/mpi.sh [--steps N] [--rows light,full]
set -e
cd "$(dirname "$0")/.."
steps=4 rows=light,full
while [ $# -gt 0 ]; do
    case "$1" in
        --steps) steps=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        *) echo "bench/mpi.sh: unknown option '$1' (--steps N, --rows light,full)" >&2; exit 2 ;;
    esac
done
build=${BUILD:-build-mpi}
if [ -z "${BUILD:-}" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DUGATIT_WERROR=ON -DUGATIT_MPI=ON >/dev/null
    cmake --build "$build" -j2 --target ugatit_cli >/dev/null
fi
ugatit=$PWD/$build/ugatit
tmp=$(mktemp -d /tmp/ugatit_bench_mpi_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$ugatit" make-shapes --out "$tmp/shapes" --n 8 --size 256 --seed 1 >/dev/null
mpirun="mpirun --allow-run-as-root --oversubscribe --bind-to none --mca pml ob1"
mpirun="$mpirun --mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo"
# Seconds per step from log.csv's last column (time since the start), steps 2 to N:
# the first step warms up. Communication and bytes from the last progress line.
per_step() { awk -F, 'NR == 2 { t = $NF } END { printf "%.2f", ($NF - t) / (NR - 2) }' "$1"; }
last() { grep '^\[' "$1" | tail -1; }
printf '%-6s %-22s %10s %14s %10s\n' model run "s/step" "comm s/step" "MB/step"
for row in $(echo "$rows" | tr , ' '); do
    case "$row" in
        light) model="--light true" ;;
        full) model="--light false" ;;
        *) echo "bench/mpi.sh: unknown row '$row'" >&2; exit 2 ;;
    esac
    args="train --dataset $tmp/shapes --img_size 256 $model --iteration $steps"
    args="$args --decay_flag false --print_freq $steps --save_freq 1000000"
    OMP_NUM_THREADS=2 "$ugatit" $args --result_dir "$tmp/one-$row" --threads 2 \
        --batch_size 2 >"$tmp/one.txt"
    $mpirun -x OMP_NUM_THREADS=1 -np 2 "$ugatit" $args --result_dir "$tmp/two-$row" \
        --threads 1 --batch_size 1 >"$tmp/two.txt"
    printf '%-6s %-22s %10s %14s %10s\n' "$row" "1 process x 2 threads" \
        "$(per_step "$tmp/one-$row/shapes/log.csv")" - -
    last "$tmp/two.txt" | awk -v m="$row" -v s="$(per_step "$tmp/two-$row/shapes/log.csv")" '{
        for (i = 1; i <= NF; i++) {
            if ($i == "comm") { c = $(i + 1) " " $(i + 3); gsub(/,/, "", c) }
            if ($i == "MB/it") b = $(i - 1)
        }
        printf "%-6s %-22s %10s %14s %10s\n", m, "2 ranks x 1 thread", s, c, b }'
done
