#!/bin/bash
# ListPodSandbox and ListContainers are answered from peapod-cri's cache of
# peapodd's pods, kept by peapodd's signals: they follow sandboxes made,
# stopped and removed, containers made, started, stopped and exiting by
# themselves, promptly and in agreement with the status calls (which read
# peapodd directly); across a restart of peapodd, and a container killed
# while peapodd was stopped; with as many bus matches for three sandboxes
# as for none.
. "$(dirname "$0")/lib.sh"
CRI=${CRI:-/usr/libexec/peapod/peapod-cri}
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_pods.py"
[ -x "$CRI" ] || fail "$CRI is not installed (its build needs libnghttp2-dev, libprotobuf-c-dev and protobuf-c-compiler: tools/install-deps)"
T=$(mktemp -d)
PID=""
k8s_pods() { $PEAPOD list --format=json | jq -r '.[] | select(.name | startswith("k8s-")) | .id'; }
cleanup() {
        systemctl unmask --runtime peapodd.service 2>/dev/null || true
        [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
        for p in $(k8s_pods 2>/dev/null); do $PEAPOD rm --force "$p" >/dev/null 2>&1 || true; done
        rm -rf "$T"
}
trap cleanup EXIT

"$CRI" --listen="$T/cri.sock" 2>"$T/log" &
PID=$!
wait_for 10 test -S "$T/cri.sock" || fail "peapod-cri made no socket: $(cat "$T/log")"

for api in v1 v1alpha2; do
        CRI_PID=$PID "$CRIT" "$T/cri.sock" lists $api || fail "lists $api: $(tail -5 "$T/log")"
done
kill -0 "$PID" || fail "peapod-cri died: $(cat "$T/log")"
assert_eq "" "$(k8s_pods)" "pods left by the CRI"
say "ok"
