#!/bin/bash
# The CRI's stats through peapod-cri, from systemd's accounting of the
# units peapod runs things in: ContainerStats (an app's service: CPU time,
# memory, timestamps now, a writable layer of 0), also of a container that
# does not run (no figures); ListContainerStats with each filter (running
# containers only); PodSandboxStats (the pod's slice: CPU, memory,
# processes, its running containers) and ListPodSandboxStats; NOT_FOUND for
# unknown or malformed ids, nothing for filters that match nothing; label
# selectors that match one container (or sandbox) and not another, and
# the stats' attributes with the CRI's labels, annotations and metadata.
# Sandboxes and containers are made through the CRI (crit_pods.py
# stats-setup); a pod made with the peapod CLI is no sandbox and has no
# stats here.
. "$(dirname "$0")/lib.sh"
CRIT="$(dirname "$(realpath "$0")")/../cri/crit.py"
CRIT_PODS="$(dirname "$(realpath "$0")")/../cri/crit_pods.py"
cri_init
cri_pods k8s-
running_cli() { [ "$($PEAPOD app status --format=json "$cli" cli | jq -r .state)" = running ]; }

cri_start
"$CRIT_PODS" "$CRI_SOCK" stats-setup "$T/made.json" || fail "stats-setup: $(tail -5 "$T/log")"
a_id=$(jq -r .a "$T/made.json")
b_id=$(jq -r .b "$T/made.json")
# Not a sandbox: never in the stats.
cli=$PFX-stats-cli
cli_id=$($PEAPOD pod create --name="$cli")
$PEAPOD app add -q --start --name=cli "$cli" busybox -- sleep 100000 || fail "app add cli"

# What systemd knows is what the CRI gets: no CPU time where it has none.
unit=$($PEAPOD app status --format=json "$a_id" busy-0 | jq -r .unit)
[ -n "$unit" ] && [ "$unit" != null ] || fail "no unit for container busy"
# A sandbox's containers account CPU time on any host (the kubelet reads
# it here); a pod of the CLI's where that costs nothing (all cgroup2),
# elsewhere as the host's DefaultCPUAccounting= says.
assert_eq yes "$(systemctl show -P CPUAccounting "$unit")" "CPUAccounting of a sandbox's container"
assert_eq true "$(busctl get-property org.peapod1 "/org/peapod1/pod/$a_id" org.peapod1.Pod CPUAccounting | awk '{ print $2 }')" \
        "the sandbox's CPUAccounting"
cli_unit=$($PEAPOD app status --format=json "$cli" cli | jq -r .unit)
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then want=yes; else want=$(systemctl show -P DefaultCPUAccounting); fi
assert_eq "$want" "$(systemctl show -P CPUAccounting "$cli_unit")" "CPUAccounting of a CLI pod's app"
no_cpu=0
[ "$(systemctl show -P CPUUsageNSec "$unit")" != "[not set]" ] || { no_cpu=1; say "systemd has no CPU accounting here"; }
[ "$(systemctl show -P MemoryCurrent "$unit")" != "[not set]" ] || fail "systemd has no memory accounting for $unit"

CRIT_NO_CPU=$no_cpu CRIT_PODS=$a_id,$b_id \
CRIT_RUNNING=$(jq -r '.running | join(",")' "$T/made.json") \
CRIT_CREATED=$(jq -r .created "$T/made.json") \
        "$CRIT" "$CRI_SOCK" stats || fail "the stats checks failed: $(tail -5 "$T/log")"
wait_for 30 running_cli || fail "app cli does not run"
CRIT_NOT_SANDBOX=$cli_id "$CRIT" "$CRI_SOCK" stats-not-sandbox || fail "a pod that is no sandbox has stats"
kill -0 "$CRI_PID" || fail "peapod-cri died: $(cat "$T/log")"
say "ok"
