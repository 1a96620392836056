#!/bin/bash
# The CRI's state is peapodd's: a sandbox and a running container keep
# their ids, metadata, labels, annotations, image, times and log path
# across a restart of peapod-cri and of peapodd in the middle, in both API
# versions; a container created before is started after them. The log
# file the container writes to while peapod-cri restarts has each line
# once. A StopContainer of a container that ignores SIGTERM, while peapodd
# restarts once more, ends with SIGKILL after its timeout.
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
start_cri() {
        rm -f "$T/cri.sock"
        "$CRI" --listen="$T/cri.sock" 2>>"$T/log" &
        PID=$!
        wait_for 10 test -S "$T/cri.sock" || fail "peapod-cri made no socket: $(cat "$T/log")"
}

start_cri
"$CRIT" "$T/cri.sock" save "$T/state.json" || fail "creating the sandbox"
# SIGKILL: no commit at exit; the log file may hold lines beyond the cursor.
kill -9 "$PID"; wait "$PID" || true; PID=""
systemctl restart peapodd.service
start_cri
"$CRIT" "$T/cri.sock" check "$T/state.json" || fail "the state after the restarts: $(tail -5 "$T/log")"
assert_eq "" "$(k8s_pods)" "pods left by the CRI"
say "ok"
