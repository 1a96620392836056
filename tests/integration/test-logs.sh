#!/bin/bash
# Apps' stdout and stderr reach the journal namespace "peapod" (and not the
# system journal) as two streams with pod and app fields; peapod logs reads
# them back with its filters and formats, and --follow ends with the pod.
. "$(dirname "$0")/lib.sh"
cleanup() { $PEAPOD rm --force "$PFX-logs" "$PFX-seq" "$PFX-fol" "$PFX-rst" >/dev/null 2>&1 || true; }
trap cleanup EXIT
JNS="journalctl --namespace=peapod -q"

$PEAPOD run -d --name "$PFX-logs" busybox --app-name=talker -- sh -c 'echo out-line-1; echo err-line-1 >&2; echo out-line-2; sleep 300' \
        --- busybox --app-name=other -- sh -c 'echo other-out; sleep 300' >/dev/null
pid=$(pod_id "$PFX-logs")
talker_id=$($PEAPOD status --format=json "$PFX-logs" | jq -r '.apps[] | select(.name == "talker") | .id')
[ -n "$talker_id" ] || fail "no app id"

wait_for 10 sh -c "$JNS PEAPOD_APP_ID=$talker_id -o cat | grep -q out-line-2" || fail "stdout lines not in the namespace"
json=$($JNS -o json PEAPOD_APP_ID="$talker_id" | jq -c 'select(.MESSAGE == "err-line-1")')
assert_eq 3 "$(echo "$json" | jq -r .PRIORITY)" "stderr priority"
assert_eq "$pid" "$(echo "$json" | jq -r .PEAPOD_POD_ID)" "PEAPOD_POD_ID on stderr"
assert_eq "peapod-$PFX-logs-talker.service" "$(echo "$json" | jq -r ._SYSTEMD_UNIT | sed 's/\\x2d/-/g')" "_SYSTEMD_UNIT on stderr"
json=$($JNS -o json PEAPOD_APP_ID="$talker_id" | jq -c 'select(.MESSAGE == "out-line-1")')
assert_eq 6 "$(echo "$json" | jq -r .PRIORITY)" "stdout priority"
assert_eq talker "$(echo "$json" | jq -r .PEAPOD_APP)" "PEAPOD_APP"
assert_eq "$talker_id" "$(echo "$json" | jq -r .PEAPOD_APP_ID)" "PEAPOD_APP_ID"
assert_eq "$pid" "$(echo "$json" | jq -r .PEAPOD_POD_ID)" "PEAPOD_POD_ID on stdout"
assert_eq "peapod-$PFX-logs-talker.service" "$(echo "$json" | jq -r ._SYSTEMD_UNIT | sed 's/\\x2d/-/g')" "_SYSTEMD_UNIT on stdout"
wait_for 10 sh -c "$JNS PEAPOD_POD_ID=$pid PEAPOD_APP=other -o cat | grep -q other-out" || fail "second app's line"
# Not in the system journal.
assert_eq 0 "$(journalctl -q PEAPOD_APP_ID="$talker_id" -o cat | wc -l)" "app lines in the system journal"

# peapod logs: stdout lines on stdout, stderr lines on stderr.
out=$($PEAPOD logs "$PFX-logs" talker 2>/dev/null)
err=$($PEAPOD logs "$PFX-logs" talker 2>&1 >/dev/null)
assert_eq "out-line-1
out-line-2" "$out" "peapod logs stdout"
assert_eq "err-line-1" "$err" "peapod logs stderr"
all=$($PEAPOD logs "$PFX-logs" 2>&1)
assert_contains "$all" "other  | other-out" "peapod logs of the whole pod, prefixed"
assert_contains "$all" "talker | out-line-1" "peapod logs of the whole pod, prefixed"
assert_eq "err-line-1" "$($PEAPOD logs --stderr "$PFX-logs" talker 2>&1)" "--stderr"
assert_eq "out-line-1
out-line-2" "$($PEAPOD logs --stdout "$PFX-logs" talker 2>&1)" "--stdout"
# The two streams are two sockets: journald may take err-line-1 after out-line-2.
assert_eq 1 "$($PEAPOD logs --tail 1 "$PFX-logs" talker 2>&1 | wc -l)" "--tail 1"
assert_eq "out-line-2" "$($PEAPOD logs --stdout --tail 1 "$PFX-logs" talker 2>&1)" "--stdout --tail 1"
assert_eq "out-line-1
out-line-2" "$($PEAPOD logs --stdout -n 2 "$PFX-logs" talker 2>&1)" "--stdout -n 2"
assert_eq "" "$($PEAPOD logs --tail 0 "$PFX-logs" talker 2>&1)" "--tail 0"
js=$($PEAPOD logs --format=json "$PFX-logs" talker)
assert_eq 3 "$(echo "$js" | wc -l)" "--format=json: one object per line"
assert_eq "stderr" "$(echo "$js" | jq -r 'select(.message == "err-line-1") | .stream')" "json stream"
assert_eq "talker" "$(echo "$js" | jq -r 'select(.message == "out-line-2") | .app')" "json app"
assert_eq "$talker_id" "$(echo "$js" | jq -r 'select(.message == "out-line-2") | .app_id')" "json app_id"
assert_eq "false" "$(echo "$js" | jq -r 'select(.message == "out-line-2") | .partial')" "json partial"
t=$(echo "$js" | jq -r 'select(.message == "out-line-1") | .time')
[[ "$t" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$ ]] || fail "json time is not RFC3339Nano: $t"
cri=$($PEAPOD logs --cri-format "$PFX-logs" talker 2>/dev/null)
echo "$cri" | grep -Eq "^$t stdout F out-line-1\$" || fail "--cri-format line: $cri"
echo "$cri" | grep -Eq "^[0-9T:.Z-]{30} stderr F err-line-1\$" || fail "--cri-format stderr line on stdout: $cri"
ts=$($PEAPOD logs --timestamps "$PFX-logs" talker 2>/dev/null | sed -n 1p)
assert_eq "$t out-line-1" "$ts" "--timestamps"

# --since/--until: an app that writes, waits, writes again.
$PEAPOD run -d --name "$PFX-seq" busybox -- sh -c 'echo early; sleep 2; echo late; sleep 300' >/dev/null
wait_for 15 sh -c "$PEAPOD logs $PFX-seq | grep -q late" || fail "late line"
late_t=$($PEAPOD logs --format=json "$PFX-seq" | jq -r 'select(.message == "late") | .time')
early_t=$($PEAPOD logs --format=json "$PFX-seq" | jq -r 'select(.message == "early") | .time')
assert_eq "late" "$($PEAPOD logs --since="$late_t" "$PFX-seq")" "--since=RFC3339 of the late line"
assert_eq "early" "$($PEAPOD logs --until="$early_t" "$PFX-seq")" "--until=RFC3339 of the early line"
assert_eq "early
late" "$($PEAPOD logs --since='-10min' "$PFX-seq")" "--since=-10min"
assert_eq "early
late" "$($PEAPOD logs --since='1h ago' --until=now "$PFX-seq")" "--since='1h ago' --until=now"
assert_eq "" "$($PEAPOD logs --until='2000-01-01 00:00:00' "$PFX-seq")" "--until in the past"
assert_eq "" "$($PEAPOD logs --since='+1h' "$PFX-seq")" "--since in the future"
# Local "YYYY-MM-DD HH:MM:SS" one second before the late line's second.
local_late=$(date -d "@$(( $(date -d "$late_t" +%s) ))" '+%Y-%m-%d %H:%M:%S')
assert_contains "$($PEAPOD logs --since="$local_late" "$PFX-seq")" late "--since='YYYY-MM-DD HH:MM:SS'"

# Bad input: one line, exit 2, nothing printed on stdout.
for bad in --since=yesterday-ish --until=2026-13-01 "--since=5 parsecs ago" --tail=-1 --format=yaml; do
        rc=0; out=$($PEAPOD logs "$bad" "$PFX-seq" 2>/tmp/err.$$) || rc=$?
        assert_eq 2 "$rc" "exit code of peapod logs $bad"
        assert_eq "" "$out" "stdout of peapod logs $bad"
        assert_eq 1 "$(wc -l </tmp/err.$$)" "one error line for $bad"
done
rm -f /tmp/err.$$
must_fail $PEAPOD logs --stdout --stderr "$PFX-seq" >/dev/null
must_fail $PEAPOD logs --follow --until=now "$PFX-seq" >/dev/null
must_fail $PEAPOD logs "$PFX-seq" no-such-app >/dev/null

# --follow prints lines as they come and ends when the pod exits, with its
# last line; an exited pod's logs stay until it is removed.
$PEAPOD run -d --name "$PFX-fol" busybox -- sh -c 'i=0; while [ $i -lt 20 ]; do echo tick-$i; i=$((i+1)); sleep 0.1; done; echo last-words' >/dev/null
out=$(timeout 30 $PEAPOD logs --follow "$PFX-fol") || fail "peapod logs --follow did not end with the pod (rc $?)"
assert_eq 21 "$(echo "$out" | wc -l)" "lines seen by --follow"
assert_eq "last-words" "$(echo "$out" | tail -1)" "last line seen by --follow"
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-fol | jq -r .state)\" = exited ]" || fail "pod did not exit"
assert_eq 21 "$($PEAPOD logs "$PFX-fol" | wc -l)" "logs of an exited pod"
assert_eq 21 "$(timeout 10 $PEAPOD logs -f "$PFX-fol" | wc -l)" "--follow of an exited pod ends at once"
$PEAPOD rm "$PFX-fol"
must_fail $PEAPOD logs "$PFX-fol" >/dev/null

# --follow follows an app across restarts (it keeps its id) and ends when
# the pod is stopped.
$PEAPOD pod create --name "$PFX-rst" --quiet
$PEAPOD app add --name once --quiet "$PFX-rst" busybox -- sh -c 'echo run-$(cat /proc/uptime | cut -d" " -f1)'
id1=$($PEAPOD app status --format=json "$PFX-rst" once | jq -r .id)
timeout 60 $PEAPOD logs --follow "$PFX-rst" once >"/tmp/follow.$$" &
fpid=$!
sleep 1
for run in 1 2; do
        $PEAPOD app start "$PFX-rst" once
        wait_for 20 sh -c "[ \"\$($PEAPOD app status --format=json $PFX-rst once | jq -r .state)\" = exited ]" || fail "run $run did not end"
done
assert_eq "$id1" "$($PEAPOD app status --format=json "$PFX-rst" once | jq -r .id)" "app id after a restart"
wait_for 20 sh -c "[ \$(wc -l </tmp/follow.$$) -ge 2 ]" || fail "--follow did not see both runs: $(cat /tmp/follow.$$)"
$PEAPOD stop "$PFX-rst"
rc=0; wait $fpid || rc=$?
assert_eq 0 "$rc" "--follow ends when the pod is stopped"
assert_eq 2 "$(grep -c '^run-' /tmp/follow.$$)" "lines of both runs seen by --follow"
rm -f /tmp/follow.$$
say ok
