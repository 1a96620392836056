#!/bin/bash
# peapod gc: exited pods go once their grace period is over, with their
# files; running and created pods are never touched; the timer unit runs it.
. "$(dirname "$0")/lib.sh"

exists() { $PEAPOD status "$1" >/dev/null 2>&1; }

$PEAPOD run -d --name "$PFX-old" busybox -- true >/dev/null
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-old | jq -r .state)\" = exited ]" || fail "pod did not exit"
old_id=$(pod_id "$PFX-old")
$PEAPOD pod create --name "$PFX-up" >/dev/null
$PEAPOD run -d --name "$PFX-live" busybox -- sleep 300 >/dev/null
busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' "$PFX-created" 0 1 "" busybox 0 >/dev/null

# Exited just now: the default grace (30m) and 1h keep it.
out=$($PEAPOD gc)
assert_not_contains "$out" "$PFX-old" "default grace period"
$PEAPOD gc --grace-period=1h >/dev/null
exists "$PFX-old" || fail "pod removed within its grace period"

# Once exited for longer than the period, it goes, with its files.
sleep 2
json=$($PEAPOD gc --grace-period=1s --format=json)
assert_eq "$old_id" "$(echo "$json" | jq -r ".[] | select(.name == \"$PFX-old\") | .id")" "gc --format=json names the removed pod"
! exists "$PFX-old" || fail "pod past its grace period kept"
[ ! -e "/var/lib/peapod/pods/$old_id" ] || fail "pod directory left"
for p in up live created; do
        exists "$PFX-$p" || fail "gc removed the $p pod"
done
assert_eq running "$(pod_state "$PFX-live")" "running pod untouched"
assert_eq created "$(pod_state "$PFX-created")" "created pod untouched"

# 0: every exited pod, at once.
$PEAPOD stop "$PFX-live"
out=$($PEAPOD gc --grace-period=0)
assert_contains "$out" "Removed pod $PFX-live" "gc --grace-period=0"
! exists "$PFX-live" || fail "exited pod kept by grace 0"
exists "$PFX-up" || fail "running empty pod removed"

# The shipped units: installed, the timer not enabled, the service does the work.
assert_eq disabled "$(systemctl is-enabled peapod-gc.timer || true)" "timer not enabled by installing"
$PEAPOD stop "$PFX-up"
systemctl start peapod-gc.service
exists "$PFX-up" || fail "the timer's gc ignored the default grace period"

# Bad input: one line, exit 2, nothing removed.
rc=0; err=$($PEAPOD gc --grace-period=5x 2>&1) || rc=$?
assert_eq 2 "$rc" "bad grace period exit code"
assert_contains "$err" "Invalid --grace-period" "bad grace period message"
err=$(must_fail setpriv --reuid=65534 --regid=65534 --clear-groups $PEAPOD gc --grace-period=0)
assert_contains "$err" "denied" "unprivileged gc"
assert_contains "$err" "run it as root" "unprivileged gc is told what to do"
exists "$PFX-up" || fail "a refused gc removed something"
