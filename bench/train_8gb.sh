#!/bin/sh
# Whether the full model at 256 trains in 8 GB (README, "Training", Memory): `ugatit train` on
# the sample data with Adam's moments where the program puts them (--moments_dir auto), in
# memory and in files (--moments_dir memory, DIR), a checkpoint and a resume, without a limit
# and inside a memory cgroup, beside PyTorch's training step under the same limit
# (bench/train_8gb.py). Installs the packages (scripts/deps.sh --bench) and builds
# build-bench/ like bench/run.sh. About 8 minutes and 22 GB of disk in build-bench/.
#
#   bench/train_8gb.sh [--limit-gb G] [--no-torch]
set -e
cd "$(dirname "$0")/.."
bash scripts/deps.sh --bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DUGATIT_WERROR=ON >/dev/null
cmake --build build-bench -j2 --target ugatit_cli >/dev/null
exec /usr/bin/python3 bench/train_8gb.py --build build-bench "$@"
