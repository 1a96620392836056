#!/bin/bash
# How each app ended is recorded: exit 0, a non-zero code, a signal.
. "$(dirname "$0")/lib.sh"

$PEAPOD run -d --name "$PFX-exit" busybox --app-name=ok -- true \
        --- busybox --app-name=seven -- sh -c 'exit 7' \
        --- busybox --app-name=killed -- sh -c 'kill -KILL $$' >/dev/null
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-exit | jq -r .state)\" = exited ]" || fail "pod did not exit when its apps did"
st=$($PEAPOD status --format=json "$PFX-exit")
app() { echo "$st" | jq -r ".apps[] | select(.name == \"$1\") | .$2"; }
assert_eq exited "$(app ok result)" "ok result"
assert_eq 0 "$(app ok status)" "ok status"
assert_eq exited "$(app seven result)" "seven result"
assert_eq 7 "$(app seven status)" "seven status"
assert_eq killed "$(app killed result)" "killed result"
assert_eq 9 "$(app killed status)" "killed signal"
text=$($PEAPOD status "$PFX-exit")
assert_contains "$text" "status=7" "text status shows the exit code"

# A trapped SIGTERM on stop is the app's own choice to exit.
$PEAPOD run -d --name "$PFX-term" busybox -- sh -c 'trap "exit 3" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
# Stopped once the trap is set (a signal before it kills the shell).
wait_for 30 sh -c "$PEAPOD logs $PFX-term | grep -qx ready" || fail "the trapping app is not ready"
$PEAPOD stop "$PFX-term"
st=$($PEAPOD status --format=json "$PFX-term")
assert_eq exited "$(echo "$st" | jq -r .state)" "stopped pod state"
assert_eq exited "$(echo "$st" | jq -r '.apps[0].result')" "trapping app result"
assert_eq 3 "$(echo "$st" | jq -r '.apps[0].status')" "trapping app status"
