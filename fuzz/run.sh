#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in their own build
# folder and runs each for a bounded time on a scratch copy of its seed
# corpus (fuzz/corpus/NAME stays as committed). Fails on any crash, leak,
# timeout, out-of-memory or sanitizer report; the input that caused it is
# left in the build folder as crash-*/leak-*/timeout-*/oom-*.
#   FUZZ_TIME   seconds per target (default 60)
#   FUZZ_BUILD  build folder (default build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."

time=${FUZZ_TIME:-60}
build=${FUZZ_BUILD:-build-fuzz}
targets=(safetensors pt pt_legacy pickle)

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DUGATIT_WERROR=ON -DUGATIT_FUZZ=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for name in "${targets[@]}"; do
    work=$(mktemp -d)
    log="$build/fuzz_$name.log"
    dict=()
    if [ "$name" != safetensors ]; then dict=(-dict=fuzz/pickle.dict); fi
    echo "== fuzz_$name: ${time}s"
    if "$build/fuzz/fuzz_$name" "$work" "fuzz/corpus/$name" "${dict[@]}" \
        -max_total_time="$time" -rss_limit_mb=2048 -timeout=10 -max_len=16384 \
        -artifact_prefix="$build/fuzz_$name-" -print_final_stats=1 >"$log" 2>&1; then
        grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$log" | tail -2 || true
    else
        echo "fuzz_$name FAILED (log: $log)"
        tail -n 40 "$log"
        status=1
    fi
    rm -rf "$work"
done
exit $status
