#!/bin/bash
# peapodd killed with SIGKILL: pods keep running; a restarted daemon knows
# them again and catches up on what happened meanwhile.
. "$(dirname "$0")/lib.sh"

$PEAPOD run -d --name "$PFX-keep" busybox --app-name=long -- sleep 300 \
        --- busybox --app-name=short -- sh -c 'sleep 2; exit 5' >/dev/null
id=$(pod_id "$PFX-keep")
leader=$(machinectl show --value -p Leader "$PFX-keep")
daemon=$(systemctl show -P MainPID peapodd.service)
[ "$daemon" -gt 0 ] || fail "peapodd not running as a service"

kill -KILL "$daemon"
# Keep it down (cancel the pending automatic restart) while the short app exits.
systemctl stop peapodd.service
wait_for 10 sh -c "! kill -0 $daemon" || fail "peapodd did not die"
# The pod does not depend on the daemon.
kill -0 "$leader" || fail "pod init died with the daemon"
assert_eq active "$(systemctl is-active "peapod-$PFX\\x2dkeep-long.service")" "app unit after daemon death"

# While the daemon is down, the short app exits with 5.
wait_for 30 sh -c "[ \"\$(systemctl show -P ExecMainStatus 'peapod-$PFX\\x2dkeep-short.service')\" = 5 ]" ||
        fail "the short app did not exit while peapodd was down"
systemctl start peapodd.service
assert_eq running "$(pod_state "$PFX-keep")" "pod state after restart"
st=$($PEAPOD status --format=json "$PFX-keep")
assert_eq "$id" "$(echo "$st" | jq -r .id)" "same pod"
assert_eq exited "$(echo "$st" | jq -r '.apps[] | select(.name == "short") | .state')" "short app exit seen"
assert_eq 5 "$(echo "$st" | jq -r '.apps[] | select(.name == "short") | .status')" "short app exit code"
assert_eq running "$(echo "$st" | jq -r '.apps[] | select(.name == "long") | .state')" "long app running"
[ "$(machinectl show --value -p Leader "$PFX-keep")" = "$leader" ] || fail "leader changed"

# And the restarted daemon still controls it.
$PEAPOD stop "$PFX-keep"
assert_eq exited "$(pod_state "$PFX-keep")" "stop after restart"
assert_eq killed "$($PEAPOD status --format=json "$PFX-keep" | jq -r '.apps[] | select(.name == "long") | .result')" "long app killed by stop"

# With peapodd not reachable, the CLI says so in one line.
systemctl stop peapodd.service
systemctl mask --runtime peapodd.service
err=$(must_fail $PEAPOD list)
systemctl unmask --runtime peapodd.service
assert_contains "$err" "Cannot reach peapodd" "daemon not reachable"
[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "more than one line: $err"
$PEAPOD list >/dev/null
