#!/bin/bash
# An exec (peapod enter, Pod.Exec) is a process of its app's unit, spawned
# by peapodd, not a unit of its own: the command runs in the app's cgroup,
# dies when the app's unit stops, and holds nothing of peapodd's (no fd, no
# variable of its environment, no way to its parent's).
. "$(dirname "$0")/lib.sh"

ENTER=""
cleanup() { [ -z "$ENTER" ] || kill "$ENTER" 2>/dev/null || true; cleanup_pods; }
trap cleanup EXIT

hostile_image "$PFX-peek" peek
$PEAPOD run -d --name "$PFX-x" "localhost/$PFX-peek:latest" --app-name=app --set-env=APPVAR=app-value -- /bin/busybox sleep 300 >/dev/null
wait_for 10 sh -c "[ \"\$($PEAPOD app status --format=json $PFX-x app | jq .pid)\" -gt 0 ]" || fail "app has no pid"
app_pid=$($PEAPOD app status --format=json "$PFX-x" app | jq .pid)
app_cgroup=$(grep '^0::' /proc/$app_pid/cgroup)
peapodd=$(systemctl show -P MainPID peapodd.service)
[ "$peapodd" -gt 0 ] || fail "peapodd does not run"

# What a hostile command finds.
report=$($PEAPOD enter "$PFX-x" -- /bin/peek </dev/null) || fail "peek failed: $report"
say "peek:"; echo "$report" | sed 's/^/    /'
assert_eq "fd 0 fd 1 fd 2" "$(echo "$report" | grep '^fd ' | cut -d' ' -f1,2 | xargs)" "the command's descriptors"
assert_contains "$report" "env APPVAR=app-value" "the app's environment"
for v in $(tr '\0' '\n' </proc/$peapodd/environ | cut -d= -f1); do
        case $v in PATH|HOME|LANG) continue ;; esac
        assert_not_contains "$report" "env $v=" "peapodd's variable $v"
done
assert_contains "$report" "ppid 0" "the helper, its parent, is outside its PID namespace"
assert_not_contains "$report" "parent-environ OK" "its parent's environment"
assert_contains "$report" "$(echo "$app_cgroup" | sed 's/^0:://')" "the command in the app's cgroup (as it sees it)"

# Seen from the host: the command and its helper are in the app's unit's
# cgroup, nowhere else; no exec unit is made.
$PEAPOD enter "$PFX-x" -- /bin/busybox sleep 1000 &
ENTER=$!
wait_for 10 pgrep -x -f '/bin/busybox sleep 1000' >/dev/null || fail "the command does not run"
cmd_pid=$(pgrep -x -f '/bin/busybox sleep 1000')
helper_pid=$(pgrep -f '^peapod-stage1-exec .*sleep 1000')
assert_eq "$app_cgroup" "$(grep '^0::' /proc/$cmd_pid/cgroup)" "the command's cgroup"
assert_eq "$app_cgroup" "$(grep '^0::' /proc/$helper_pid/cgroup)" "the helper's cgroup"
assert_eq 0 "$(systemctl list-units --all --plain --no-legend 'peapod-*_exec-*' | wc -l)" "exec units"
# peapodd's resource limits are not the command's: the app's are.
assert_eq "$(cat /proc/$app_pid/limits)" "$(cat /proc/$cmd_pid/limits)" "the command's resource limits"

# The app's unit stops: the exec dies with it, and peapod enter returns.
$PEAPOD app stop "$PFX-x" app
wait_for 30 sh -c "! kill -0 $cmd_pid 2>/dev/null" || fail "the command outlived its app"
wait_for 10 sh -c "! kill -0 $helper_pid 2>/dev/null" || fail "the helper outlived its app"
rc=0; wait "$ENTER" || rc=$?
ENTER=""
[ "$rc" -ne 0 ] || fail "peapod enter of a killed command exited 0"

# No exec into a stopped app; nothing is spawned for it.
err=$(must_fail $PEAPOD enter "$PFX-x" -- true)
assert_contains "$err" "no running app" "exec into a stopped app"
assert_eq 0 "$(pgrep -c -f '^peapod-stage1-exec ' || true)" "helpers left"

# Right after a start the app's helper has still to make the app: an Exec
# sent the moment StartPod answers waits for it (it used to fail "not
# running (running)", or could join the helper's child before it had the
# app's root).
python3 "$(dirname "$0")/exec-at-start.py" "$PFX" 15 || fail "an Exec right after StartPod failed"
