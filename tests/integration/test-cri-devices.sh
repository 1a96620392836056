#!/bin/bash
# devices through peapod-cri with a real gRPC client, in both API
# versions: a node of 10:200 at /dev/net/tun with "r" (an open for reading
# is admitted, one for writing refused by the device cgroup, seen through
# ExecSync) and one of 10:229 at /dev/sub/fuse with "mrw" (read and written), mknod of
# another device refused; a host path that is a
# directory, a file or missing, a container path outside /dev or over
# /dev/pts, and bad permissions are INVALID_ARGUMENT and leave nothing.
. "$(dirname "$0")/lib.sh"
CRI=${CRI:-/usr/libexec/peapod/peapod-cri}
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_isolation.py"
[ -x "$CRI" ] || fail "$CRI is not installed (its build needs libnghttp2-dev, libprotobuf-c-dev and protobuf-c-compiler: tools/install-deps)"
T=$(mktemp -d)
PID=""
k8s_pods() { $PEAPOD list --format=json | jq -r '.[] | select(.name | startswith("k8s-default-dev-")) | .id'; }
cleanup() {
        [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
        for p in $(k8s_pods 2>/dev/null); do $PEAPOD rm --force "$p" >/dev/null 2>&1 || true; done
        rm -rf "$T"
}
trap cleanup EXIT

"$CRI" --listen="$T/cri.sock" 2>"$T/log" &
PID=$!
wait_for 10 test -S "$T/cri.sock" || fail "peapod-cri made no socket: $(cat "$T/log")"
"$CRIT" "$T/cri.sock" devices v1 || fail "devices v1: $(tail -5 "$T/log")"
"$CRIT" "$T/cri.sock" devices v1alpha2 || fail "devices v1alpha2: $(tail -5 "$T/log")"
assert_eq "" "$(k8s_pods)" "pods left by the CRI"
say "ok"
