#!/bin/bash
# StartApp does not hold peapodd: the start of an app first stops the unit
# of its last run, and here that stop takes 5 s (a unit bound to it that
# ignores SIGTERM stops first, until its own stop timeout); meanwhile reads
# answer at once (a generous bound here: the figure itself is for bench/).
# The StartApp answers only once the app runs; the app's other calls are
# refused meanwhile (BadState: starting).
. "$(dirname "$0")/lib.sh"

pod=${PFX}appstart
tied=${PFX}-tied.service
tmp=$(mktemp -d)
cleanup() {
        systemctl stop "$tied" 2>/dev/null || true
        cleanup_pods
        rm -rf "$tmp"
}
trap cleanup EXIT

app_field() { $PEAPOD app status --format=json "$pod" "$1" | jq -r ".$2"; }

$PEAPOD pod create --name "$pod" >/dev/null
$PEAPOD app add --start --name other "$pod" busybox -- sh -c "$STUBBORN" >/dev/null
# Its first run exits at once (its unit stays "active (exited)"); later
# runs (the app's root is kept) sleep.
$PEAPOD app add --start --name again "$pod" busybox -- sh -c 'if [ -e /ran ]; then exec sleep 601; fi; touch /ran' >/dev/null
wait_for 30 sh -c "[ \"\$($PEAPOD app status --format=json $pod again | jq -r .state)\" = exited ]" ||
        fail "the app's first run did not exit"
unit=$(app_field again unit)
assert_eq active "$(systemctl show -P ActiveState "$unit")" "the unit of the app's first run"
# Stopped before the app's unit, which it is bound to and ordered after;
# it ignores SIGTERM, so its stop takes its 5 s timeout (then SIGKILL),
# and it is collected then (a unit that stays loaded would keep the app's
# old unit loaded too: UnitExists). Not a TERM trap that sleeps: systemd
# sends SIGTERM to the cgroup until no new process turns up, and a sleep
# the trap forked in between got it too (the stop then took no time).
systemd-run --quiet --unit="$tied" -p BindsTo="$unit" -p After="$unit" -p TimeoutStopSec=5 \
        -p CollectMode=inactive-or-failed sh -c "trap '' TERM; touch $tmp/tied; while :; do sleep 0.1; done"
wait_for 30 test -e "$tmp/tied" || fail "the tied unit did not begin"

start=$SECONDS
( set +e; $PEAPOD app start "$pod" again >"$tmp/start.out" 2>&1; echo $? >"$tmp/start.rc" ) &
wait_for 30 sh -c "[ \"\$(systemctl show -P ActiveState '$tied')\" = deactivating ]" || {
        cat "$tmp/start.out" "$tmp/start.rc" 2>/dev/null
        systemctl status --no-pager "$tied" "$unit" 2>&1 | head -30
        # Every invocation of both units, not only the last (status shows that one).
        journalctl -b --no-pager -q -o short-precise -u "$tied" -u "$unit" | tail -30
        journalctl -b --no-pager -q -o short-precise -n 30 _SYSTEMD_UNIT=peapodd.service
        fail "the start did not stop the last run's unit"
}

err=$(must_fail $PEAPOD app stop "$pod" again)
assert_contains "$err" "starting" "stop of a starting app"
err=$(must_fail $PEAPOD app rm --force "$pod" again)
assert_contains "$err" "starting" "forced rm of a starting app"
err=$(must_fail $PEAPOD app start "$pod" again)
assert_contains "$err" "starting" "a second start of a starting app"

max_ms=0 reads=0
until [ -e "$tmp/start.rc" ]; do
        # Each read on its own: the bound is per call (a process each, on
        # a loaded machine).
        t0=$(date +%s%N)
        busctl --system call org.peapod1 /org/peapod1 org.peapod1.Manager ListPods >/dev/null || fail "ListPods failed during the start"
        ms=$((($(date +%s%N) - t0) / 1000000))
        [ $ms -le $max_ms ] || max_ms=$ms
        t0=$(date +%s%N)
        $PEAPOD app status --format=json "$pod" other >/dev/null || fail "app status failed during the start"
        ms=$((($(date +%s%N) - t0) / 1000000))
        [ $ms -le $max_ms ] || max_ms=$ms
        reads=$((reads + 1))
        [ $((SECONDS - start)) -lt 60 ] || fail "the start did not end within 60 s"
done
elapsed=$((SECONDS - start))
say "$reads pairs of reads during the app start, the slowest read took $max_ms ms; the start took $elapsed s"
[ "$reads" -ge 5 ] || fail "too few reads during the start ($reads): did it end at once?"
[ $max_ms -lt 1000 ] || fail "a read waited $max_ms ms while an app was starting"
# The tied unit ended at its stop timeout: the answer waited for it.
[ "$elapsed" -ge 4 ] || fail "the start answered after $elapsed s, before the last run's unit could have stopped"

assert_eq 0 "$(cat "$tmp/start.rc")" "the start ($(cat "$tmp/start.out"))"
assert_eq running "$(app_field again state)" "the started app"
assert_eq "active running" "$(systemctl show -P ActiveState "$unit") $(systemctl show -P SubState "$unit")" "the app's new unit"
assert_eq running "$(app_field other state)" "the other app goes on"
# A start of a running app is refused at once.
err=$(must_fail $PEAPOD app start "$pod" again)
assert_contains "$err" "running" "start of a running app"

# An app that has not run in this life of the pod starts without a stop
# first. A unit under its name all the same (what a crash before its start
# was recorded leaves) is stopped then, and the app runs in its own.
fresh=fresh
stray=peapod-$pod-$fresh.service
systemd-run --quiet --unit="$stray" -p RemainAfterExit=yes true
wait_for 30 sh -c "[ \"\$(systemctl show -P ActiveState '$stray')\" = active ]" || fail "the stray unit did not start"
$PEAPOD app add --start --name "$fresh" "$pod" busybox -- sleep 602 >/dev/null || fail "an app whose unit name a stray unit had did not start"
assert_eq running "$(app_field "$fresh" state)" "the app after a stray unit of its name"
assert_contains "$(systemctl show -P ExecStart "$stray")" "peapod-stage1-app" "the app's own unit in place of the stray one"
assert_eq "active running" "$(systemctl show -P ActiveState "$stray") $(systemctl show -P SubState "$stray")" "the app's unit"
say ok
