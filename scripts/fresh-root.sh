#!/usr/bin/env bash
# CI stage (.ci/run): a fresh machine runs both README commands. Builds a new
# Debian 12 (bookworm) root with mmdebstrap (apt variant, plus git), clones the
# commit under test into it with that root's git, copies ../shared beside the
# clone, and inside it (chroot) runs the README's demo command with a few
# iterations, then scripts/deps.sh, the -Werror build and the test suite. Any
# package missing from scripts/deps.sh fails it. Nothing is kept between runs:
# the root is made in a new temporary folder and deleted at the end. Run as
# root (mmdebstrap, mount, chroot).
#
#   scripts/fresh-root.sh [DEMO_ITERATIONS]     (default 30)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
iterations=${1:-30}
mirror=http://deb.debian.org/debian
me=scripts/fresh-root.sh
t0=$(date +%s)

if [ "$(id -u)" != 0 ]; then
    echo "$me: must run as root (mmdebstrap, mount and chroot)" >&2
    exit 1
fi
shared=$(cd "$here/.." && pwd)/shared
if [ ! -d "$shared/data/selfie2anime-sample" ]; then
    echo "$me: needs the sample data: ../shared/data/selfie2anime-sample beside the clone" \
        "(not found at $shared/data/selfie2anime-sample)" >&2
    exit 1
fi
commit=$(git -C "$here" rev-parse HEAD)
if ! command -v mmdebstrap >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi

tmp=$(mktemp -d /tmp/ugatit-fresh-root.XXXXXX)
root=$tmp/root
mounts=()
cleanup() {
    local rc=$? ok=1 i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" || ok=0
    done
    if [ "$ok" = 1 ]; then
        rm -rf --one-file-system "$tmp"
    else
        echo "$me: could not unmount everything under $root; left it in place" >&2
    fi
    echo "== fresh root: $(( $(date +%s) - t0 )) s wall time, exit status $rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP   # through cleanup too

echo "== fresh root: mmdebstrap bookworm (apt variant + git) into $root"
mmdebstrap --quiet --variant=apt --include=git,ca-certificates bookworm "$root" "$mirror"
echo "   $(( $(date +%s) - t0 )) s"

# The commit under test as a bundle (history of HEAD), for the root's git to clone.
mkdir -p "$root/work"
git -C "$here" bundle create -q "$root/work/ugatit.bundle" HEAD
cp -a "$shared" "$root/work/shared"

# Every installed machine has an /etc/hosts naming localhost (the installer or
# the container runtime writes it); mmdebstrap does not, and chromedriver
# reaches Chromium at "localhost".
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"

# Trust anchors this machine added to its own (a proxy's CA, as the machines
# here have) belong to the machine, not to the project: the root gets them as
# a fresh machine of this kind has them, so that apt, git and npm reach their
# registries. Node.js keeps its own list; NODE_EXTRA_CA_CERTS below adds these.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null
fi

mount -t proc proc "$root/proc"
mounts+=("$root/proc")
# Every machine has /sys too: without it Open MPI's topology discovery (hwloc) can fail
# ("failed to find sysfs cpu topology directory") and mpirun with it.
mount -t sysfs -o ro sysfs "$root/sys"
mounts+=("$root/sys")
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
mounts+=("$root/dev/pts")

chroot "$root" /usr/bin/env -i HOME=/root LC_ALL=C.UTF-8 TERM=dumb \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -euo pipefail -c '
cd /work
git -c advice.detachedHead=false clone -q ugatit.bundle ugatit
cd ugatit
git checkout -q --detach "$1"
[ "$(git rev-parse HEAD)" = "$1" ]
s=$(date +%s)
echo "== fresh root: bash scripts/demo.sh --iteration $2"
bash scripts/demo.sh --iteration "$2"
test -s demo/results/shapes/index.html
echo "   $(( $(date +%s) - s )) s"
s=$(date +%s)
echo "== fresh root: scripts/deps.sh, build (gcc, -Werror), tests"
bash scripts/deps.sh
cmake -S . -B build-ci -DCMAKE_BUILD_TYPE=Release -DUGATIT_WERROR=ON -DUGATIT_MPI=ON >/dev/null
cmake --build build-ci -j"$(nproc)" >/dev/null
(cd build-ci && ctest --output-on-failure)
echo "   $(( $(date +%s) - s )) s"
' fresh-root "$commit" "$iterations"
