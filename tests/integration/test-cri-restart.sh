#!/bin/bash
# The CRI's state is peapodd's: a sandbox and a running container keep
# their ids, metadata, labels, annotations, image, times and log path
# across a restart of peapod-cri and of peapodd in the middle, in both API
# versions; a container created before is started after them. The log
# file the container writes to while peapod-cri restarts has each line
# once. A StopContainer of a container that ignores SIGTERM, while peapodd
# restarts once more, ends with SIGKILL after its timeout.
. "$(dirname "$0")/lib.sh"
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_pods.py"
cri_init
cri_pods k8s-

cri_start
"$CRIT" "$CRI_SOCK" save "$T/state.json" || fail "creating the sandbox"
# SIGKILL: no commit at exit; the log file may hold lines beyond the cursor.
kill -9 "$CRI_PID"; wait "$CRI_PID" || true; CRI_PID=""
systemctl restart peapodd.service
cri_start
"$CRIT" "$CRI_SOCK" check "$T/state.json" || fail "the state after the restarts: $(tail -5 "$T/log")"
assert_eq "" "$(cri_pods)" "pods left by the CRI"
say "ok"
