#!/bin/sh
# Benchmarks of ugatit against our PyTorch reference on this machine (see README,
# "Benchmarks"). Installs the Debian packages (scripts/deps.sh --bench), builds the Release
# configuration in build-bench/, measures the FP32 FMA peak, then runs every selected row,
# ours and PyTorch's alternately, one process per run, and prints the table. Inference rows
# also run ONNX Runtime (bench/ort) on the same generator.
#
#   bench/run.sh [--rows infer-light,infer-light-bf16,infer-full,train-128,train-256,train-full,
#                        train-full-files,cyclegan-infer,cyclegan-train,unit-infer,unit-train,
#                        munit-infer,munit-train,drit-infer,drit-train,contention,folder]
#                [--rounds N]
#                [--quick] [--profile] [--no-torch] [--no-ort] [--cpu native|avx2]
#
# Rows default to all of them (about 10 minutes, the unit, munit and drit rows several more).
# --quick does one round with fewer repetitions; --profile prints our per-op profile of each row
# as well. --cpu avx2 runs everything, the references too, as on a CPU without AVX-512
# (bench/cpuid_avx2.c; with CPUID faulting, or where the CPU and kernel lack it, caps for ours
# and PyTorch and ONNX Runtime's CPUID instructions patched: bench/cpuid_patch.py).
set -e
cd "$(dirname "$0")/.."
# The build's packages plus the benchmark's (PyTorch, Node.js and npm).
bash scripts/deps.sh --bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DUGATIT_WERROR=ON >/dev/null
cmake --build build-bench -j2 --target ugatit_bench fma_peak ugatit_cli cpuid_avx2 >/dev/null
# ONNX Runtime for the inference rows, where npm can install it (ONNXRUNTIME_NODE_INSTALL=skip:
# the CPU build only, no GPU add-on download).
if command -v npm >/dev/null && [ ! -d bench/ort/node_modules/onnxruntime-node ]; then
    (cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >/dev/null) ||
        echo "bench: could not install onnxruntime-node; the ONNX Runtime column stays empty" >&2
fi
export OMP_NUM_THREADS=2
exec /usr/bin/python3 bench/run.py --build build-bench "$@"
