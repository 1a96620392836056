#!/bin/bash
# Apps' stdout and stderr reach journald as two streams with pod and app fields.
. "$(dirname "$0")/lib.sh"

$PEAPOD run --name "$PFX-logs" busybox --app-name=talker -- sh -c 'echo out-line-1; echo err-line-1 >&2; echo out-line-2; sleep 300' \
        --- busybox --app-name=other -- sh -c 'echo other-out; sleep 300' >/dev/null
pid=$(pod_id "$PFX-logs")
talker_id=$($PEAPOD status --format=json "$PFX-logs" | jq -r '.apps[] | select(.name == "talker") | .id')
[ -n "$talker_id" ] || fail "no app id"

wait_for 10 sh -c "journalctl -q SYSLOG_IDENTIFIER=$talker_id -o cat | grep -q out-line-2" || fail "stdout lines not in the journal"
json=$(journalctl -q -o json SYSLOG_IDENTIFIER="$talker_id" | jq -c 'select(.MESSAGE == "err-line-1")')
assert_eq 3 "$(echo "$json" | jq -r .PRIORITY)" "stderr priority"
assert_eq "$pid" "$(echo "$json" | jq -r .PEAPOD_POD_ID)" "PEAPOD_POD_ID on stderr"
json=$(journalctl -q -o json SYSLOG_IDENTIFIER="$talker_id" | jq -c 'select(.MESSAGE == "out-line-1")')
assert_eq 6 "$(echo "$json" | jq -r .PRIORITY)" "stdout priority"
assert_eq talker "$(echo "$json" | jq -r .PEAPOD_APP)" "PEAPOD_APP"
assert_eq "$talker_id" "$(echo "$json" | jq -r .PEAPOD_APP_ID)" "PEAPOD_APP_ID"
wait_for 10 sh -c "journalctl -q PEAPOD_POD_ID=$pid PEAPOD_APP=other -o cat | grep -q other-out" || fail "second app's line"

# peapod logs: stdout lines on stdout, stderr lines on stderr.
out=$($PEAPOD logs "$PFX-logs" talker 2>/dev/null)
err=$($PEAPOD logs "$PFX-logs" talker 2>&1 >/dev/null)
assert_contains "$out" out-line-1 "peapod logs stdout"
assert_contains "$out" out-line-2 "peapod logs stdout"
assert_not_contains "$out" err-line-1 "stderr kept off stdout"
assert_contains "$err" err-line-1 "peapod logs stderr"
all=$($PEAPOD logs "$PFX-logs" 2>&1)
assert_contains "$all" other-out "peapod logs of the whole pod"
