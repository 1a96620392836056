#!/bin/bash
# devices through peapod-cri with a real gRPC client, in both API
# versions: a node of 10:200 at /dev/net/tun with "r" (an open for reading
# is admitted, one for writing refused by the device cgroup, seen through
# ExecSync) and one of 10:229 at /dev/sub/fuse with "mrw" (read and written), mknod of
# another device refused; a host path that is a
# directory, a file or missing, a container path outside /dev or over
# /dev/pts, and bad permissions are INVALID_ARGUMENT and leave nothing.
. "$(dirname "$0")/lib.sh"
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_isolation.py"
cri_init
cri_pods k8s-default-dev-

cri_start
"$CRIT" "$CRI_SOCK" devices v1 || fail "devices v1: $(tail -5 "$T/log")"
"$CRIT" "$CRI_SOCK" devices v1alpha2 || fail "devices v1alpha2: $(tail -5 "$T/log")"
assert_eq "" "$(cri_pods)" "pods left by the CRI"
say "ok"
