#!/bin/bash
# peapod run in the foreground, as a podman user types it: the apps' output
# on the right streams, the exit status of the first failing app, --rm,
# failures inside the pod reported, Ctrl-C stops the pod.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
cleanup() {
        cleanup_pods
        rm -rf "$tmp"
}
trap cleanup EXIT

gone() { # name: nothing of the pod is left
        ! $PEAPOD status "$1" >/dev/null 2>&1 || fail "pod $1 is still there"
        assert_eq "" "$(pod_units_list "$1")" "units of $1"
}

# The first run after a boot: journald@peapod starts with the first app's
# output, after run opened the journal, whose files were not there yet
# (sd-journal would never see them appear). Made so here: the namespace's
# journald and sockets stopped, its files gone.
machine_id=$(cat /etc/machine-id)
systemctl stop systemd-journald@peapod.service systemd-journald@peapod.socket systemd-journald-varlink@peapod.socket
rm -rf "/var/log/journal/$machine_id.peapod" "/run/log/journal/$machine_id.peapod"
o=$($PEAPOD run --rm --net=none busybox -- echo first-after-boot)
assert_eq first-after-boot "$o" "the output of the first run after a boot"

# One app: its lines as they were, on the right streams; its status.
rc=0
$PEAPOD run --rm --name "${PFX}one" --net=none busybox -- sh -c 'echo out; echo err >&2; exit 3' >"$tmp/out" 2>"$tmp/err" || rc=$?
assert_eq 3 "$rc" "exit status of run"
assert_eq out "$(cat "$tmp/out")" "stdout of run"
assert_eq err "$(cat "$tmp/err")" "stderr of run"
gone "${PFX}one"

# Every line, up to the last one written just before the app ends (and one
# without a newline), is printed before run exits: run reads what is left
# once journald has answered Synchronize, with no wait for a quiet moment.
o=$($PEAPOD run --rm --net=none busybox -- sh -c 'seq 1 3000; echo -n end')
assert_eq 3001 "$(echo "$o" | wc -l)" "lines of a run that writes 3000 and a last one"
assert_eq end "$(echo "$o" | tail -1)" "the last line, written just before the end"

# 0 when all exit 0; -e sets the environment.
rc=0
o=$($PEAPOD run --rm --net=none busybox -e GREETING=hi -- sh -c 'echo $GREETING') || rc=$?
assert_eq "0 hi" "$rc $o" "a run that succeeds"

# podman's order: -e and -v before the image, for every app; :ro holds.
echo from-host >"$tmp/f"
rc=0
o=$($PEAPOD run --rm --net=none -e GREETING=hello -v "$tmp:/data:ro" busybox -e WHO=a -- \
        sh -c 'echo "$GREETING $WHO $(cat /data/f)"; touch /data/new' 2>/dev/null) || rc=$?
assert_eq "hello a from-host" "$o" "-e and -v before the image"
[ "$rc" -ne 0 ] || fail "touch in a :ro volume succeeded"
[ ! -e "$tmp/new" ] || fail "a file appeared in the :ro host directory"
o=$($PEAPOD run --rm --net=none busybox -v "$tmp:/w" -- sh -c 'echo written >/w/new; echo ok')
assert_eq ok "$o" "-v after the image"
assert_eq written "$(cat "$tmp/new")" "the app wrote to the host directory"
err=$(must_fail $PEAPOD run --rm --net=none -v data:/d busybox)
assert_contains "$err" "the host side is an absolute path" "-v with a volume name"

# Several apps: each line says whose it is; the first app that failed
# decides, in the order given.
rc=0
$PEAPOD run --rm --name "${PFX}two" --net=none busybox --app-name=a -- sh -c 'echo from-a; sleep 1; exit 0' \
        --- busybox --app-name=b -- sh -c 'echo from-b; exit 4' \
        --- busybox --app-name=c -- sh -c 'exit 5' >"$tmp/out" 2>"$tmp/err" || rc=$?
assert_eq 4 "$rc" "exit status of the first failing app"
assert_contains "$(cat "$tmp/out")" "a | from-a" "prefixed line of a"
assert_contains "$(cat "$tmp/out")" "b | from-b" "prefixed line of b"
gone "${PFX}two"

# Failures inside the pod: the helper's reason, and its status.
rc=0
$PEAPOD run --rm --net=none busybox --exec=/nonexistent >"$tmp/out" 2>"$tmp/err" || rc=$?
assert_eq 127 "$rc" "a command that does not exist"
assert_contains "$(cat "$tmp/err")" "/nonexistent" "the reason names the command"
rc=0
$PEAPOD run --rm --net=none busybox --user=nobodyy -- true >"$tmp/out" 2>"$tmp/err" || rc=$?
assert_eq 125 "$rc" "an unknown user"
assert_contains "$(cat "$tmp/err")" "nobodyy" "the reason names the user"

# Killed by a signal: 128+N, as a shell says.
rc=0
$PEAPOD run --rm --net=none busybox -- sh -c 'kill -KILL $$' >/dev/null 2>&1 || rc=$?
assert_eq 137 "$rc" "an app killed by SIGKILL"

# Ctrl-C: the pod is stopped (its app traps SIGTERM and exits 9), run ends
# with that status, and keeps the pod without --rm.
$PEAPOD run --name "${PFX}int" --net=none busybox -- sh -c 'echo up; trap "echo bye; exit 9" TERM; while :; do sleep 0.1; done' \
        >"$tmp/out" 2>"$tmp/err" &
pid=$!
wait_for 60 grep -qx up "$tmp/out" || fail "the app did not start: $(cat "$tmp/err")"
kill -INT $pid
rc=0
wait $pid || rc=$?
assert_eq 9 "$rc" "run after Ctrl-C"
assert_contains "$(cat "$tmp/out")" "bye" "the app's last words"
assert_eq exited "$(pod_state "${PFX}int")" "the pod after Ctrl-C"

# wait: until the pod has ended, then its status as run reports it.
$PEAPOD run -d --name "${PFX}w" --net=none busybox --app-name=a -- sh -c 'sleep 1; exit 0' \
        --- busybox --app-name=b -- sh -c 'sleep 1; exit 6' >/dev/null
assert_eq 6 "$($PEAPOD wait "${PFX}w")" "peapod wait"
assert_eq exited "$(pod_state "${PFX}w")" "the pod after wait"
assert_eq 6 "$($PEAPOD wait "${PFX}w")" "peapod wait on an exited pod"

# kill: a signal the helper passes on reaches the app's trap; the default
# KILL ends it; one app or all.
$PEAPOD run -d --name "${PFX}k" --net=none busybox --app-name=a -- sh -c 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.1; done' \
        --- busybox --app-name=b -- sleep 600 >/dev/null
wait_for 30 sh -c "$PEAPOD logs ${PFX}k a | grep -qx ready" || fail "app a is not ready"
$PEAPOD kill --signal=USR1 "${PFX}k" a
wait_for 30 sh -c "$PEAPOD logs ${PFX}k a | grep -qx got-usr1" || fail "USR1 did not reach app a: $($PEAPOD logs "${PFX}k")"
assert_eq running "$($PEAPOD app status --format=json "${PFX}k" b | jq -r .state)" "b after a signal to a"
$PEAPOD kill "${PFX}k" b
wait_for 30 sh -c "[ \"\$($PEAPOD app status --format=json ${PFX}k b | jq -r .state)\" = exited ]" || fail "app b not killed"
assert_eq "killed 9" "$($PEAPOD app status --format=json "${PFX}k" b | jq -r '"\(.result) \(.status)"')" "app b after kill"
$PEAPOD kill -s TERM "${PFX}k"
assert_eq 143 "$($PEAPOD wait "${PFX}k")" "the pod after kill -s TERM"
o=$(must_fail $PEAPOD kill -s NOPE "${PFX}k")
assert_contains "$o" "Invalid --signal" "a bad signal"
o=$(must_fail $PEAPOD kill "${PFX}k")
assert_contains "$o" "not running" "kill of an exited pod"

# start of an exited pod: its app runs again, with its files.
rc=0
$PEAPOD run --name "${PFX}again" --net=none busybox -- sh -c 'if [ -e /ran ]; then echo again; exit 0; fi; touch /ran; echo first; exit 2' >"$tmp/out" || rc=$?
assert_eq "2 first" "$rc $(cat "$tmp/out")" "the first run"
$PEAPOD start "${PFX}again"
assert_eq 0 "$($PEAPOD wait "${PFX}again")" "the second run"
assert_eq "first
again" "$($PEAPOD logs "${PFX}again")" "both runs' lines"

# --restart: on-failure starts the app again until it exits 0; the pod
# then ends. always starts it again after a clean exit too, until stopped.
rc=0
$PEAPOD run --rm --net=none busybox --restart=on-failure -- sh -c 'echo run; if [ -e /once ]; then exit 0; fi; touch /once; exit 1' \
        >"$tmp/out" 2>"$tmp/err" || rc=$?
assert_eq "0 run
run" "$rc $(cat "$tmp/out")" "on-failure: two runs, the second clean"
$PEAPOD run -d --name "${PFX}always" --net=none busybox --restart=always -- sh -c 'echo tick; exit 0' >/dev/null
wait_for 60 sh -c "[ \$($PEAPOD logs ${PFX}always | grep -c tick) -ge 3 ]" || fail "always: not started again: $($PEAPOD logs "${PFX}always")"
assert_eq running "$(pod_state "${PFX}always")" "a pod whose app restarts always"
assert_eq always "$(busctl --json=short call org.peapod1 "$(busctl --json=short call org.peapod1 /org/peapod1 org.peapod1.Manager GetPod s "${PFX}always" | jq -r '.data[0]')" org.peapod1.Pod GetApp s busybox | jq -r '.data[0].Restart.data')" "GetApp's Restart"
$PEAPOD stop "${PFX}always"
assert_eq exited "$(pod_state "${PFX}always")" "stopped, not restarted"
o=$(must_fail $PEAPOD run --net=none busybox --restart=sometimes -- true)
assert_contains "$o" "Invalid --restart" "a bad policy"

# -d keeps today's behaviour: the id, at once.
id=$($PEAPOD run -d --name "${PFX}det" --net=none busybox -- sleep 600)
assert_eq "$id" "$(pod_id "${PFX}det")" "run -d prints the pod's id"
assert_eq running "$(pod_state "${PFX}det")" "the pod after run -d"
o=$(must_fail $PEAPOD run -d --rm --net=none busybox -- true)
assert_contains "$o" "not with -d" "-d with --rm"
say ok
