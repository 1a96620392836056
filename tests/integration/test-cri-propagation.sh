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
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_pods.py"
cri_init
cri_pods k8s-

# host_path on a shared mount of its own, as systemd makes a host's mounts.
mkdir -p "$T/shared"
mount --bind "$T/shared" "$T/shared"
mount --make-rshared "$T/shared"
at_exit 'umount -R "$T/shared" 2>/dev/null'
mounts_before=$(grep -c /var/lib/peapod /proc/self/mountinfo || true)
cri_start

for api in v1 v1alpha2; do
        rm -f "$T/shared/started"
        CRIT_SHARED_DIR=$T/shared "$CRIT" "$CRI_SOCK" propagation $api || fail "propagation $api: $(tail -5 "$T/log")"
        rm -f "$T/shared/started"
        CRIT_SHARED_DIR=$T/shared "$CRIT" "$CRI_SOCK" bidirectional $api || fail "bidirectional $api: $(tail -5 "$T/log")"
done
"$CRIT" "$CRI_SOCK" refusals v1alpha2 || fail "the refusals"
kill -0 "$CRI_PID" || fail "peapod-cri died: $(cat "$T/log")"

assert_eq "" "$(cri_pods)" "pods left by the CRI"
assert_eq "$mounts_before" "$(grep -c /var/lib/peapod /proc/self/mountinfo || true)" "mounts below /var/lib/peapod"
say "ok"
