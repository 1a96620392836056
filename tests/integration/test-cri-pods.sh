#!/bin/bash
# Sandboxes and containers through peapod-cri with a real gRPC client, in
# both API versions: kubelet's sequence (RunPodSandbox, CreateContainer,
# StartContainer, StopContainer with a timeout on an app that ignores
# SIGTERM, RemoveContainer, StopPodSandbox, RemovePodSandbox) with labels,
# annotations and metadata that round-trip exactly and idempotent removals;
# two containers that share the sandbox's network (one serves with busybox
# httpd, the other fetches through 127.0.0.1, the host through the IP that
# PodSandboxStatus gives; a host port is published, a container port alone
# is not); the security context checked
# from inside the containers (uid, gid, groups, capabilities, no_new_privs,
# read-only rootfs, seccomp); refusals that leave nothing; the container's
# CRI log file, every line of stdout and stderr; host paths mounted
# read-only (through a symlink) and read-write, unmounted with the container. Afterwards no
# pod, unit or mount of theirs is left.
. "$(dirname "$0")/lib.sh"
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_pods.py"
cri_init
cri_pods k8s-

mounts_before=$(grep -c /var/lib/peapod /proc/self/mountinfo || true)
cri_start

for api in v1 v1alpha2; do
        "$CRIT" "$CRI_SOCK" lifecycle $api || fail "lifecycle $api: $(tail -5 "$T/log")"
done
"$CRIT" "$CRI_SOCK" pair v1 || fail "two containers sharing the network"
"$CRIT" "$CRI_SOCK" security v1alpha2 || fail "the security context"
"$CRIT" "$CRI_SOCK" security v1 || fail "the security context"
"$CRIT" "$CRI_SOCK" refusals v1 || fail "the refusals"
"$CRIT" "$CRI_SOCK" logs v1alpha2 || fail "the log file"
"$CRIT" "$CRI_SOCK" mounts v1 || fail "the mounts"
kill -0 "$CRI_PID" || fail "peapod-cri died: $(cat "$T/log")"

# Nothing left: no pod, no unit, no mount.
assert_eq "" "$(cri_pods)" "pods left by the CRI"
assert_eq "" "$(systemctl list-units --all --plain --no-legend | grep k8s || true)" "units left by the CRI"
assert_eq "$mounts_before" "$(grep -c /var/lib/peapod /proc/self/mountinfo || true)" "mounts below /var/lib/peapod"
say "ok"
