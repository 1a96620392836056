#!/bin/bash
# namespace_options.ipc CONTAINER through peapod-cri with a real gRPC
# client, in both API versions: two containers of mode POD share the pod's
# IPC namespace (and its kernel.shmmni sysctl), a third of mode CONTAINER
# has one of its own, neither the pod's nor the host's; ExecSync joins it.
. "$(dirname "$0")/lib.sh"
CRI=${CRI:-/usr/libexec/peapod/peapod-cri}
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_isolation.py"
[ -x "$CRI" ] || fail "$CRI is not installed (its build needs libnghttp2-dev, libprotobuf-c-dev and protobuf-c-compiler: tools/install-deps)"
T=$(mktemp -d)
PID=""
k8s_pods() { $PEAPOD list --format=json | jq -r '.[] | select(.name | startswith("k8s-default-ipc-")) | .id'; }
cleanup() {
        [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
        for p in $(k8s_pods 2>/dev/null); do $PEAPOD rm --force "$p" >/dev/null 2>&1 || true; done
        rm -rf "$T"
}
trap cleanup EXIT

"$CRI" --listen="$T/cri.sock" 2>"$T/log" &
PID=$!
wait_for 10 test -S "$T/cri.sock" || fail "peapod-cri made no socket: $(cat "$T/log")"
"$CRIT" "$T/cri.sock" ipc v1 || fail "ipc v1: $(tail -5 "$T/log")"
"$CRIT" "$T/cri.sock" ipc v1alpha2 || fail "ipc v1alpha2: $(tail -5 "$T/log")"
assert_eq "" "$(k8s_pods)" "pods left by the CRI"
say "ok"
