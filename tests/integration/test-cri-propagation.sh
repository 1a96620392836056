#!/bin/bash
# CreateContainer's mounts[].propagation through peapod-cri with the real
# gRPC client: HOST_TO_CONTAINER (rslave) shows a tmpfs the host mounts
# below host_path after the container started, PRIVATE does not;
# ContainerStatus gives the propagation back. BIDIRECTIONAL (rshared) in
# a privileged container: its mount below container_path appears on the
# host, the host's later mount appears in it, a container that is not
# privileged is refused. BIDIRECTIONAL outside a privileged sandbox, a
# read-only HOST_TO_CONTAINER and one without no_new_privs are
# INVALID_ARGUMENT naming why (the refusals check, here in v1alpha2).
# Nothing of the sandboxes is left.
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
        umount -R "$T/shared" 2>/dev/null || true
        rm -rf "$T"
}
trap cleanup EXIT

# host_path on a shared mount of its own, as systemd makes a host's mounts.
mkdir -p "$T/shared"
mount --bind "$T/shared" "$T/shared"
mount --make-rshared "$T/shared"
mounts_before=$(grep -c /var/lib/peapod /proc/self/mountinfo || true)
"$CRI" --listen="$T/cri.sock" 2>"$T/log" &
PID=$!
wait_for 10 test -S "$T/cri.sock" || fail "peapod-cri made no socket: $(cat "$T/log")"

for api in v1 v1alpha2; do
        rm -f "$T/shared/started"
        CRIT_SHARED_DIR=$T/shared "$CRIT" "$T/cri.sock" propagation $api || fail "propagation $api: $(tail -5 "$T/log")"
        rm -f "$T/shared/started"
        CRIT_SHARED_DIR=$T/shared "$CRIT" "$T/cri.sock" bidirectional $api || fail "bidirectional $api: $(tail -5 "$T/log")"
done
"$CRIT" "$T/cri.sock" refusals v1alpha2 || fail "the refusals"
kill -0 "$PID" || fail "peapod-cri died: $(cat "$T/log")"

assert_eq "" "$(k8s_pods)" "pods left by the CRI"
assert_eq "$mounts_before" "$(grep -c /var/lib/peapod /proc/self/mountinfo || true)" "mounts below /var/lib/peapod"
say "ok"
