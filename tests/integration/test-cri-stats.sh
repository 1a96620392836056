#!/bin/bash
# The CRI's stats through peapod-cri, from systemd's accounting of the
# units peapod runs things in: ContainerStats (an app's service: CPU time,
# memory, timestamps now, a writable layer of 0), also of a container that
# does not run (no figures); ListContainerStats with each filter (running
# containers only); PodSandboxStats (the pod's slice: CPU, memory,
# processes, its running containers) and ListPodSandboxStats; NOT_FOUND for
# unknown or malformed ids, nothing for filters that match nothing. Pods
# and apps are made with the peapod CLI (container id = pod id + app id).
. "$(dirname "$0")/lib.sh"
CRI=${CRI:-/usr/libexec/peapod/peapod-cri}
CRIT="$(dirname "$(realpath "$0")")/../cri/crit.py"
[ -x "$CRI" ] || fail "$CRI is not installed (its build needs libnghttp2-dev, libprotobuf-c-dev and protobuf-c-compiler: tools/install-deps)"
T=$(mktemp -d)
PID=""
cleanup() {
        [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
        cleanup_pods
        rm -rf "$T"
}
trap cleanup EXIT

app_id() { $PEAPOD app status --format=json "$1" "$2" | jq -r .id; }
running() { [ "$($PEAPOD app status --format=json "$1" "$2" | jq -r .state)" = running ]; }

a=$PFX-stats-a
b=$PFX-stats-b
a_id=$($PEAPOD pod create --name="$a")
b_id=$($PEAPOD pod create --name="$b")
# Some CPU time first, then quiet.
$PEAPOD app add -q --start --name=busy "$a" busybox -- sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 100000' ||
        fail "app add busy"
$PEAPOD app add -q --start --name=idle "$a" busybox -- sleep 100000 || fail "app add idle"
$PEAPOD app add -q --name=later "$a" busybox -- sleep 100000 || fail "app add later"
$PEAPOD app add -q --start --name=other "$b" busybox -- sh -c 'cat /proc/self/status >/dev/null; exec sleep 100000' ||
        fail "app add other"
for x in "$a busy" "$a idle" "$b other"; do
        wait_for 30 running $x || fail "app $x does not run"
done

"$CRI" --listen="$T/cri.sock" 2>"$T/log" &
PID=$!
wait_for 10 test -S "$T/cri.sock" || fail "peapod-cri made no socket: $(cat "$T/log")"

# What systemd knows is what the CRI gets: no CPU time where it has none.
unit=$($PEAPOD app status --format=json "$a" busy | jq -r .unit)
[ -n "$unit" ] && [ "$unit" != null ] || fail "no unit for app busy"
no_cpu=0
[ "$(systemctl show -P CPUUsageNSec "$unit")" != "[not set]" ] || { no_cpu=1; say "systemd has no CPU accounting here"; }
[ "$(systemctl show -P MemoryCurrent "$unit")" != "[not set]" ] || fail "systemd has no memory accounting for $unit"

CRIT_NO_CPU=$no_cpu CRIT_PODS=$a_id,$b_id \
CRIT_RUNNING=$a_id$(app_id "$a" busy),$a_id$(app_id "$a" idle),$b_id$(app_id "$b" other) \
CRIT_CREATED=$a_id$(app_id "$a" later) \
        "$CRIT" "$T/cri.sock" stats || fail "the stats checks failed: $(tail -5 "$T/log")"
kill -0 "$PID" || fail "peapod-cri died: $(cat "$T/log")"
say "ok"
