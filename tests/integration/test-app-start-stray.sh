#!/bin/bash
# The first start of an app sends StartTransientUnit at once (no StopUnit
# of a last run's unit: there is none). Only a start that peapodd did not
# see through (a crash after StartTransientUnit) leaves one: here a unit
# of the app's name made by hand stands for it. The start must stop it,
# reset it and start the app's own unit, not fail with UnitExists.
. "$(dirname "$0")/lib.sh"

pod=${PFX}stray
tmp=$(mktemp -d)
stray=""
cleanup() {
        [ -z "$stray" ] || systemctl stop "$stray" 2>/dev/null || true
        cleanup_pods
        rm -rf "$tmp"
}
trap cleanup EXIT

app_field() { $PEAPOD app status --format=json "$pod" "$1" | jq -r ".$2"; }

$PEAPOD pod create --name "$pod" >/dev/null
$PEAPOD app add --start --name other "$pod" busybox -- sleep 601 >/dev/null
$PEAPOD app add --name late "$pod" busybox -- sleep 602 >/dev/null
assert_eq created "$(app_field late state)" "the app not started"
unit=$(app_field other unit)
stray=${unit%-other.service}-late.service
[ "$stray" != "$unit" ] || fail "cannot make the late app's unit name from $unit"
systemd-run --quiet --unit="$stray" sh -c "echo \$\$ >$tmp/stray.pid; exec sleep 603"
wait_for 30 test -s "$tmp/stray.pid" || fail "the stray unit did not begin"
stray_pid=$(cat "$tmp/stray.pid")

$PEAPOD app start "$pod" late || fail "the start with a stray unit of the app's name failed"
assert_eq running "$(app_field late state)" "the started app"
assert_eq "$stray" "$(app_field late unit)" "the app's unit name"
! kill -0 "$stray_pid" 2>/dev/null || fail "the stray unit's process still runs"
assert_eq "active running" "$(systemctl show -P ActiveState "$stray") $(systemctl show -P SubState "$stray")" "the app's unit"
# And the plain first start (no stray): straight to running.
$PEAPOD app add --start --name third "$pod" busybox -- sleep 604 >/dev/null
assert_eq running "$(app_field third state)" "a first start without a stray unit"
say ok
