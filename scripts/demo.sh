#!/usr/bin/env bash
# The built-in demo from a fresh clone: installs the packages, builds, then
# makes the discs-and-squares data set, trains a small model on it, tests it
# and writes the report demo/results/shapes/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec build/ugatit demo --dir demo "$@"
