#!/bin/sh
# Benchmarks of ugatit against our PyTorch reference on this machine (see README,
# "Benchmarks"). Builds the Release configuration in build-bench/, measures the FP32 FMA peak,
# then runs every selected row, ours and PyTorch's alternately, one process per run, and prints
# the table.
#
#   bench/run.sh [--rows infer-light,infer-full,train-128,train-256,train-full] [--rounds N]
#                [--quick] [--profile]
#
# Rows default to all of them (about 10 minutes). --quick does one round with fewer
# repetitions; --profile prints our per-op profile of each row as well.
set -e
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DUGATIT_WERROR=ON >/dev/null
cmake --build build-bench -j2 --target ugatit_bench fma_peak >/dev/null
export OMP_NUM_THREADS=2
exec /usr/bin/python3 bench/run.py --build build-bench "$@"
