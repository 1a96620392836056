#!/bin/bash
# Apps in a running pod: pod create makes an empty pod that stays up; app
# add/start/stop/rm/list/status change one app while the pod and the other
# apps go on; apps added later survive a restart of peapodd.
. "$(dirname "$0")/lib.sh"

app_json() { $PEAPOD app status --format=json "$1" "$2"; }
app_field() { app_json "$1" "$2" | jq -r ".$3"; }
busctl_pod() { busctl --json=short get-property org.peapod1 "/org/peapod1/pod/$1" org.peapod1.Pod "$2" | jq -r .data; }

pod=$PFX-empty
id=$($PEAPOD pod create --name "$pod")
assert_eq running "$(pod_state "$pod")" "empty pod runs"
assert_eq "$id" "$(pod_id "$pod")" "pod create prints the id"
assert_eq false "$(busctl_pod "$id" StopWhenAppsExit)" "empty pod property"
assert_eq 0 "$($PEAPOD app list --format=json "$pod" | jq length)" "no apps yet"
sleep 1
assert_eq running "$(pod_state "$pod")" "empty pod still runs"

# add: created, not started; the image's name gives the app's name.
assert_eq web "$($PEAPOD app add --name web "$pod" busybox -- sh -c 'echo hi >/marker; exec sleep 300')" "add prints the name"
assert_eq created "$(app_field "$pod" web state)" "added app is created"
assert_eq 0 "$(app_field "$pod" web pid)" "created app has no pid"
assert_eq busybox "$($PEAPOD app add -q "$pod" busybox -- true; $PEAPOD app list --format=json "$pod" | jq -r '.[1].name')" "derived name"
assert_eq busybox-2 "$($PEAPOD app add "$pod" busybox -- true)" "second derived name"
$PEAPOD app rm "$pod" busybox busybox-2

$PEAPOD app start "$pod" web
assert_eq running "$(app_field "$pod" web state)" "started app runs"
pid=$(app_field "$pod" web pid)
[ "$pid" -gt 1 ] || fail "no main pid: $pid"
assert_contains "$(tr '\0' ' ' </proc/$pid/cmdline)" "sleep 300" "main pid is the app's process"
unit=$(app_field "$pod" web unit)
assert_eq active "$(systemctl is-active "$unit")" "app unit"
[ "$(app_field "$pod" web started)" -gt 0 ] || fail "no start time"

# An app added with --start runs at once; its exit leaves the pod up.
assert_eq short "$($PEAPOD app add --start --name short "$pod" busybox -- sh -c 'exit 4')" "add --start"
wait_for 10 sh -c "[ \"\$($PEAPOD app status --format=json $pod short | jq -r .state)\" = exited ]" || fail "short app did not exit"
assert_eq 4 "$(app_field "$pod" short status)" "exit code of short app"
assert_eq exited "$(app_field "$pod" short result)" "result of short app"
[ "$(app_field "$pod" short exited)" -ge "$(app_field "$pod" short started)" ] || fail "exit before start"
assert_eq running "$(pod_state "$pod")" "pod runs on after an app exited"
assert_eq running "$(app_field "$pod" web state)" "other app unaffected"

# Negative cases: each a clear error that changes nothing.
err=$(must_fail $PEAPOD app rm "$pod" web)
assert_contains "$err" "running" "rm of a running app"
err=$(must_fail $PEAPOD app add --name web "$pod" busybox -- true)
assert_contains "$err" "already" "duplicate app name"
err=$(must_fail $PEAPOD app add "$pod" localhost/no-such-image:1)
assert_contains "$err" "not found" "unknown image"
err=$(must_fail $PEAPOD app add --name Bad_Name "$pod" busybox)
assert_contains "$err" "Invalid app name" "bad app name"
err=$(must_fail $PEAPOD app status "$pod" nosuch)
assert_contains "$err" "no app nosuch" "unknown app"
err=$(must_fail $PEAPOD app start "$pod" web)
assert_contains "$err" "already" "start of a running app"
err=$(must_fail $PEAPOD app start "$PFX-nosuchpod" web)
assert_contains "$err" "No such pod" "unknown pod"
[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "more than one line: $err"
# The same over D-Bus, with the error names programs match on.
bus_err() { busctl call org.peapod1 "/org/peapod1/pod/$id" org.peapod1.Pod "$@" 2>&1 >/dev/null || true; }
assert_contains "$(bus_err GetApp s nosuch)" "has no app nosuch" "GetApp of an unknown app"
# dbus-send prints the error's name.
dbus_err() { dbus-send --system --print-reply --dest=org.peapod1 "/org/peapod1/pod/$id" "org.peapod1.Pod.$1" "${@:2}" 2>&1 >/dev/null || true; }
assert_contains "$(dbus_err GetApp string:nosuch)" "org.peapod1.Error.NoSuchApp" "error name of an unknown app"
assert_contains "$(dbus_err RemoveApp string:web uint64:0)" "org.peapod1.Error.AppRunning" "error name of removing a running app"
assert_contains "$(dbus_err StartApp string:web)" "org.peapod1.Error.BadState" "error name of starting a running app"
assert_contains "$(busctl --json=short call org.peapod1 /org/peapod1/pod/$id org.peapod1.Pod GetApp s web | jq -r '.data[0].State.data')" "running" "GetApp State"
[ "$(busctl --json=short call org.peapod1 /org/peapod1/pod/$id org.peapod1.Pod GetApp s web | jq -r '.data[0].MainPID.data')" = "$pid" ] || fail "GetApp MainPID"
out=$(busctl call org.peapod1 "/org/peapod1/pod/$id" org.peapod1.Pod AddApp 'ssa(sv)t' web busybox 0 0 2>&1 || true)
assert_contains "$out" "already" "AddApp of a taken name"
out=$(busctl call org.peapod1 "/org/peapod1/pod/$id" org.peapod1.Pod AddApp 'ssa(sv)t' x busybox 1 Bogus s y 0 2>&1 || true)
assert_contains "$out" "Unknown app property Bogus" "AddApp with an unknown property"
out=$(busctl call org.peapod1 "/org/peapod1/pod/$id" org.peapod1.Pod AddApp 'ssa(sv)t' x busybox 0 8 2>&1 || true)
assert_contains "$out" "Unknown flags" "AddApp with unknown flags"
out=$(busctl call org.peapod1 "/org/peapod1/pod/$id" org.peapod1.Pod RemoveApp st web 0 2>&1 || true)
assert_contains "$out" "stop it first" "RemoveApp of a running app"
assert_eq 2 "$($PEAPOD app list --format=json "$pod" | jq length)" "nothing changed by failures"

# Stop one app: the pod and the other app stay.
$PEAPOD app stop "$pod" web
assert_eq exited "$(app_field "$pod" web state)" "stopped app"
assert_eq killed "$(app_field "$pod" web result)" "stopped by SIGTERM"
assert_eq 15 "$(app_field "$pod" web status)" "signal of stopped app"
assert_eq running "$(pod_state "$pod")" "pod runs on after app stop"
err=$(must_fail $PEAPOD app stop "$pod" web)
assert_contains "$err" "not running" "stop of a stopped app"

# Restart keeps what the app wrote in its root.
$PEAPOD app start "$pod" web
assert_eq running "$(app_field "$pod" web state)" "restarted app"
rootfs=/var/lib/peapod/pods/$id/apps/web/rootfs
# (The root is mounted in the app's mount namespace only; what the app
# wrote is in its writable layer.)
assert_eq hi "$(cat "/var/lib/peapod/pods/$id/apps/web/upper/marker")" "app's write in its root"

# Apps added later survive a restart of peapodd.
systemctl restart peapodd.service
assert_eq running "$(app_field "$pod" web state)" "web after daemon restart"
assert_eq 4 "$(app_field "$pod" short status)" "short after daemon restart"
$PEAPOD app stop "$pod" web
assert_eq exited "$(app_field "$pod" web state)" "stop after daemon restart"

# rm: the unit, the mount and the files go.
$PEAPOD app start "$pod" web
$PEAPOD app rm --force "$pod" web short
assert_eq 0 "$($PEAPOD app list --format=json "$pod" | jq length)" "apps removed"
[ ! -e "/var/lib/peapod/pods/$id/apps/web" ] || fail "app dir left behind"
! findmnt "$rootfs" >/dev/null || fail "app root still mounted"
assert_eq inactive "$(systemctl is-active "$unit" || true)" "app unit gone"
assert_eq running "$(pod_state "$pod")" "pod without apps runs on"
# The Apps property follows.
assert_eq 0 "$(busctl --json=short get-property org.peapod1 "/org/peapod1/pod/$id" org.peapod1.Pod Apps | jq '.data | length')" "Apps property"

# A plain rm of an app that has exited releases the unit of its last run
# (loaded, "failed") without peapodd waiting for it; the name is free for
# a new app at once, whose start stops and resets what is left first.
$PEAPOD app add --start --name quick "$pod" busybox -- sh -c 'exit 3' >/dev/null
wait_for 10 sh -c "[ \"\$($PEAPOD app status --format=json $pod quick | jq -r .state)\" = exited ]" || fail "quick app did not exit"
qunit=$(app_field "$pod" quick unit)
assert_eq loaded "$(systemctl show -P LoadState "$qunit")" "exited app's unit stays loaded"
$PEAPOD app rm "$pod" quick
assert_eq 0 "$($PEAPOD app list --format=json "$pod" | jq length)" "exited app removed"
wait_for 30 sh -c "[ -z \"\$(systemctl list-units --all --plain --no-legend '$qunit')\" ]" ||
        fail "unit of a removed app still loaded: $(systemctl list-units --all --plain --no-legend "$qunit")"
assert_eq quick "$($PEAPOD app add --start --name quick "$pod" busybox -- sleep 300)" "same name again"
assert_eq running "$(app_field "$pod" quick state)" "new app of a removed one's name runs"
assert_eq active "$(systemctl is-active "$qunit")" "its unit"
# And right after the rm, without waiting for anything.
$PEAPOD app rm --force "$pod" quick
assert_eq quick "$($PEAPOD app add --start --name quick "$pod" busybox -- sleep 300)" "same name after a forced rm"
assert_eq running "$(app_field "$pod" quick state)" "new app after a forced rm runs"
$PEAPOD app rm --force "$pod" quick
wait_for 30 sh -c "[ -z \"\$(systemctl list-units --all --plain --no-legend '$qunit')\" ]" ||
        fail "unit of a forced removed app still loaded"

$PEAPOD stop "$pod"
assert_eq exited "$(pod_state "$pod")" "stopped pod"
err=$(must_fail $PEAPOD app add "$pod" busybox -- true)
assert_contains "$err" "exited" "add to an exited pod"
$PEAPOD rm "$pod"

# A pod made by 'run' still ends with its last app, also when that app is stopped.
$PEAPOD run -d --name "$PFX-run" busybox --app-name=a -- sleep 300 >/dev/null
assert_eq true "$(busctl_pod "$(pod_id "$PFX-run")" StopWhenAppsExit)" "run pod property"
$PEAPOD app stop "$PFX-run" a
wait_for 10 sh -c "[ \"\$($PEAPOD status --format=json $PFX-run | jq -r .state)\" = exited ]" || fail "run pod did not end"
