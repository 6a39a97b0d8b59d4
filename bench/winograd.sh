#!/bin/sh
# Our Winograd convolution against oneDNN per shape and pass (bench/bench_winograd.c), on
# both ISA paths from one machine: the AVX-512 run (where the CPU has it; its rows also time
# our AVX2 path against oneDNN's AVX-512 choice), then the AVX2 run with oneDNN and our
# dispatch both capped by ONEDNN_MAX_CPU_ISA=AVX2; ROUNDS rounds of the two, alternating.
#
#   ROUNDS=2 THREADS=2 bench/winograd.sh [--reps R] [N C HW K] ...
set -e
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DUGATIT_WERROR=ON >/dev/null
cmake --build build-bench -j2 --target bench_winograd >/dev/null
round=1
while [ "$round" -le "${ROUNDS:-2}" ]; do
    echo "round $round: $(uptime)"
    OMP_NUM_THREADS=${THREADS:-2} build-bench/bench/bench_winograd "$@"
    ONEDNN_MAX_CPU_ISA=AVX2 OMP_NUM_THREADS=${THREADS:-2} build-bench/bench/bench_winograd "$@"
    round=$((round + 1))
done
