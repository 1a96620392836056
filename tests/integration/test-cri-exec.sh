#!/bin/bash
# The CRI's ExecSync through peapod-cri, in a container (an app of a pod
# made with the peapod CLI, container id = pod id + app id): stdout,
# stderr and exit codes (128+N for a signal), the app's uid and no
# capabilities, output capped at 16 MiB less 64 KiB, NOT_FOUND for unknown
# or malformed ids, a timeout that kills the command and what it started
# before DEADLINE_EXCEEDED, a client that cancels killing the command too;
# peapod-cri serves on while commands run.
. "$(dirname "$0")/lib.sh"
CRIT="$(dirname "$(realpath "$0")")/../cri/crit.py"
cri_init

pod=$PFX-cri-exec
pod_id=$($PEAPOD pod create --name="$pod")
$PEAPOD app add -q --start --name=probe "$pod" busybox --user=1000 -- sleep 100000 >/dev/null ||
        fail "app add"
wait_for 30 sh -c "[ \"\$($PEAPOD app status --format=json $pod probe | jq -r .state)\" = running ]" || fail "the app does not run"
app_id=$($PEAPOD app status --format=json "$pod" probe | jq -r .id)
[ ${#pod_id} -eq 32 ] && [ ${#app_id} -eq 32 ] || fail "ids: $pod_id $app_id"

cri_start

CRIT_CONTAINER=$pod_id$app_id CRIT_POD=$pod_id "$CRIT" "$CRI_SOCK" exec || fail "the ExecSync checks failed: $(tail -5 "$T/log")"
kill -0 "$CRI_PID" || fail "peapod-cri died: $(cat "$T/log")"
# The app itself is untouched by the kills of its execs.
assert_eq running "$($PEAPOD app status --format=json "$pod" probe | jq -r .state)" "the app after the execs"
say "ok"
