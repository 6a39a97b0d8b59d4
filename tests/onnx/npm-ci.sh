#!/usr/bin/env bash
# Installs tests/onnx's locked onnxruntime-node into DIR/node_modules for the
# ONNX round trip (tests/test_onnx.c), once per version of the lock file.
# Needs node and npm (scripts/deps.sh) and the npm registry.
#
#   npm-ci.sh DIR
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
dir=$1
for tool in node npm; do
    command -v "$tool" >/dev/null ||
        { echo "npm-ci.sh: needs $tool (scripts/deps.sh installs nodejs and npm)" >&2; exit 1; }
done
mkdir -p "$dir"
if cmp -s "$src/package-lock.json" "$dir/installed.lock"; then
    exit 0
fi
rm -f "$dir/installed.lock"
cp "$src/package.json" "$src/package-lock.json" "$dir/"
# onnxruntime-node's install script would fetch CUDA binaries from outside the
# registry on a machine with CUDA; the CPU build is in the package.
(cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error) ||
    { echo "npm-ci.sh: npm ci failed in $dir" >&2; exit 1; }
cp "$src/package-lock.json" "$dir/installed.lock"
