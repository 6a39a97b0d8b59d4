#!/usr/bin/env bash
# Installs the Debian packages the build needs (run as root or with sudo).
set -euo pipefail
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    build-essential cmake pkg-config clang libclang-rt-14-dev libomp-dev libdnnl-dev libpng-dev libjpeg-dev \
    libcjson-dev libzip-dev >/dev/null
