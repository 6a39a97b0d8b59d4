#!/usr/bin/env bash
# Installs the Debian packages (bookworm) that the build, the tests and the demo
# need (run as root or with sudo), Node.js and npm among them (the ONNX export's
# test; bench/run.sh's ONNX Runtime column uses them too). With --bench, also
# Python's PyTorch for bench/run.sh's reference column (and Pillow, with which
# its folder row reads the images). scripts/fresh-root.sh
# checks the default set in a new root.
#
#   scripts/deps.sh [--bench]
set -euo pipefail
pkgs=(
    build-essential cmake pkg-config        # compiler, make, the build's module lookup
    clang libclang-rt-14-dev libomp-dev     # the sanitizer build and the fuzzers (.ci/run)
    libdnnl-dev ocl-icd-opencl-dev          # oneDNN; its CMake config requires OpenCL
    libpng-dev libjpeg-dev libcjson-dev libzip-dev
    # ugatit export --onnx: protobuf-c and its compiler, ONNX's schema (onnx.proto)
    libprotobuf-c-dev protobuf-c-compiler libonnx-dev
    python3-onnx                            # the export's test: Debian's ONNX checker
    libmicrohttpd-dev                       # ugatit serve's HTTP server
    libyaml-dev                             # ugatit train --config (UNIT's official YAML)
    libopenmpi-dev openmpi-bin              # -DUGATIT_MPI=ON: training under mpirun, its tests
    iproute2                                # the MPI test across two network namespaces (ip netns)
    python3 chromium chromium-driver        # serve's tests: HTTP, load, the page in headless Chromium
)
# The export's round-trip test runs onnxruntime-node (tests/onnx): Debian's nodejs
# and npm, unless npm is there already (NodeSource's nodejs carries its own npm
# and conflicts with Debian's).
command -v npm >/dev/null || pkgs+=(nodejs npm)
case "${1:-}" in
    "") ;;
    --bench)
        pkgs+=(python3 python3-numpy python3-torch python3-pil) ;;
    *) echo "scripts/deps.sh: unknown option '$1' (only --bench)" >&2; exit 2 ;;
esac
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
