#!/usr/bin/env bash
# Two hosts on one machine, the way a cluster runs `mpirun -np 2 ugatit
# train`: two network namespaces joined by a veth pair (198.18.77.0/24, the
# benchmarking range of RFC 2544, nobody's network), each with its own host
# name, Open MPI's TCP transport between them and nothing shared in memory.
# mpirun starts in the first; its launcher (plm_rsh_agent, ssh on a cluster)
# is a script that enters the second. The checkpoint after 3 steps must be
# the bytes of the same run on loopback, and the gradients must have crossed
# the veth pair. Needs root and iproute2.
#
#   tests/mpi/netns.sh UGATIT MPIRUN
set -euo pipefail
ugatit=$1 mpirun=$2
me=netns.sh
[ "$(id -u)" = 0 ] || { echo "$me: FAILING: needs root (ip netns)" >&2; exit 1; }
command -v ip >/dev/null || { echo "$me: FAILING: needs ip (iproute2)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/ugatit_netns_XXXXXX)
a=ugA$$ b=ugB$$
cleanup() {
    ip netns del "$a" 2>/dev/null || true
    ip netns del "$b" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$a"
ip netns add "$b"
ip link add "v$a" type veth peer name "v$b"
ip link set "v$a" netns "$a"
ip link set "v$b" netns "$b"
ip -n "$a" addr add 198.18.77.1/24 dev "v$a"
ip -n "$b" addr add 198.18.77.2/24 dev "v$b"
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set "v$a" up
ip -n "$b" link set "v$b" up

# The launcher: Open MPI calls it as `agent HOST COMMAND...`, COMMAND for a shell.
cat >"$tmp/agent.sh" <<AGENT
#!/bin/sh
shift
exec ip netns exec $b unshare --uts sh -c "hostname node-b; \$*"
AGENT
chmod +x "$tmp/agent.sh"
printf '198.18.77.1 slots=1\n198.18.77.2 slots=1\n' >"$tmp/hosts"

cd "$tmp"
"$ugatit" make-shapes --out shapes --n 8 --size 32 --seed 1 >/dev/null
train="$ugatit train --dataset shapes --img_size 32 --ch 2 --n_res 1 --n_dis 4 --light true"
train+=" --threads 1 --decay_flag false --iteration 3 --batch_size 1"
mpi=(--allow-run-as-root --mca pml ob1 --mca btl self,tcp -x OMP_NUM_THREADS=1 -np 2)
net=198.18.77.0/24
timeout 300 ip netns exec "$a" unshare --uts sh -c "hostname node-a; exec $mpirun ${mpi[*]} \
    --hostfile hosts --mca plm_rsh_agent $tmp/agent.sh --mca btl_tcp_if_include $net \
    --mca oob_tcp_if_include $net $train --result_dir two-hosts" >two-hosts.txt 2>&1 ||
    { cat two-hosts.txt; echo "$me: the run across namespaces failed" >&2; exit 1; }
grep -q "2 ranks x 1" two-hosts.txt || { cat two-hosts.txt; echo "$me: not 2 ranks" >&2; exit 1; }
timeout 300 "$mpirun" "${mpi[@]}" --oversubscribe --bind-to none --mca btl_tcp_if_include lo \
    --mca oob_tcp_if_include lo $train --result_dir loopback >loopback.txt 2>&1 ||
    { cat loopback.txt; echo "$me: the run on loopback failed" >&2; exit 1; }
ckpt=shapes/model/shapes_params_0000003.safetensors
cmp "two-hosts/$ckpt" "loopback/$ckpt" ||
    { echo "$me: the run across namespaces differs from the one on loopback" >&2; exit 1; }
rx=$(ip -n "$b" -s -j link show "v$b" | python3 -c \
    'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["bytes"])')
# The tiny model's 6 networks' gradients, 3 steps: over 100 kB each way.
[ "$rx" -gt 100000 ] || { echo "$me: only $rx bytes crossed the veth pair" >&2; exit 1; }
echo "$me: 2 ranks in two network namespaces over TCP: the same bytes as on loopback;" \
     "$rx bytes received by the second host"
