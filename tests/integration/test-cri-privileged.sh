#!/bin/bash
# privileged through peapod-cri with a real gRPC client, in both API
# versions: a privileged container in a sandbox that is not privileged is
# INVALID_ARGUMENT (kubelet's rule) and leaves nothing; in a privileged
# sandbox it has every capability and no seccomp filter beyond the host's,
# opens the host's /dev/net/tun, writes sysfs and /proc/sys, with kubelet's
# masked paths, capabilities, seccomp profile and a device ignored; a plain
# container beside it has none of that.
. "$(dirname "$0")/lib.sh"
CRI=${CRI:-/usr/libexec/peapod/peapod-cri}
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_isolation.py"
[ -x "$CRI" ] || fail "$CRI is not installed (its build needs libnghttp2-dev, libprotobuf-c-dev and protobuf-c-compiler: tools/install-deps)"
T=$(mktemp -d)
PID=""
k8s_pods() { $PEAPOD list --format=json | jq -r '.[] | select(.name | startswith("k8s-default-priv-")) | .id'; }
cleanup() {
        [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
        for p in $(k8s_pods 2>/dev/null); do $PEAPOD rm --force "$p" >/dev/null 2>&1 || true; done
        rm -rf "$T"
}
trap cleanup EXIT

"$CRI" --listen="$T/cri.sock" 2>"$T/log" &
PID=$!
wait_for 10 test -S "$T/cri.sock" || fail "peapod-cri made no socket: $(cat "$T/log")"
[ -c /dev/net/tun ] || { say "the lab has no /dev/net/tun: skipped"; exit 77; }
"$CRIT" "$T/cri.sock" privileged v1 || fail "privileged v1: $(tail -5 "$T/log")"
"$CRIT" "$T/cri.sock" privileged v1alpha2 || fail "privileged v1alpha2: $(tail -5 "$T/log")"
assert_eq "" "$(k8s_pods)" "pods left by the CRI"
say "ok"
