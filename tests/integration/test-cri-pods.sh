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
CRI=${CRI:-/usr/libexec/peapod/peapod-cri}
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_pods.py"
[ -x "$CRI" ] || fail "$CRI is not installed (its build needs libnghttp2-dev, libprotobuf-c-dev and protobuf-c-compiler: tools/install-deps)"
T=$(mktemp -d)
PID=""
k8s_pods() { $PEAPOD list --format=json | jq -r '.[] | select(.name | startswith("k8s-")) | .id'; }
cleanup() {
        [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
        for p in $(k8s_pods 2>/dev/null); do $PEAPOD rm --force "$p" >/dev/null 2>&1 || true; done
        rm -rf "$T"
}
trap cleanup EXIT

mounts_before=$(grep -c /var/lib/peapod /proc/self/mountinfo || true)
"$CRI" --listen="$T/cri.sock" 2>"$T/log" &
PID=$!
wait_for 10 test -S "$T/cri.sock" || fail "peapod-cri made no socket: $(cat "$T/log")"

for api in v1 v1alpha2; do
        "$CRIT" "$T/cri.sock" lifecycle $api || fail "lifecycle $api: $(tail -5 "$T/log")"
done
"$CRIT" "$T/cri.sock" pair v1 || fail "two containers sharing the network"
"$CRIT" "$T/cri.sock" security v1alpha2 || fail "the security context"
"$CRIT" "$T/cri.sock" security v1 || fail "the security context"
"$CRIT" "$T/cri.sock" refusals v1 || fail "the refusals"
"$CRIT" "$T/cri.sock" logs v1alpha2 || fail "the log file"
"$CRIT" "$T/cri.sock" mounts v1 || fail "the mounts"
kill -0 "$PID" || fail "peapod-cri died: $(cat "$T/log")"

# Nothing left: no pod, no unit, no mount.
assert_eq "" "$(k8s_pods)" "pods left by the CRI"
assert_eq "" "$(systemctl list-units --all --plain --no-legend | grep k8s || true)" "units left by the CRI"
assert_eq "$mounts_before" "$(grep -c /var/lib/peapod /proc/self/mountinfo || true)" "mounts below /var/lib/peapod"
say "ok"
