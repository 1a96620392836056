#!/bin/bash
# StopApp does not hold peapodd: an app that ignores SIGTERM takes its
# stop timeout (then SIGKILL) to stop, and meanwhile reads answer at once
# (a generous bound here: the figure itself is for bench/). The StopApp
# still answers only when the app has stopped, with how it ended; a second
# StopApp joins the first, StartApp and a plain RemoveApp of the stopping
# app are refused, and a forced RemoveApp of a running app answers once the
# app is stopped and removed.
. "$(dirname "$0")/lib.sh"

pod=${PFX}appstop
tmp=$(mktemp -d)
cleanup() {
        cleanup_pods
        rm -rf "$tmp"
}
trap cleanup EXIT

app_field() { $PEAPOD app status --format=json "$pod" "$1" | jq -r ".$2"; }
$PEAPOD pod create --name "$pod" >/dev/null
for a in slow other gone; do
        $PEAPOD app add --start --name "$a" "$pod" busybox -- sh -c "$STUBBORN" >/dev/null
        wait_stubborn "$pod" "$a"
done
unit=$(app_field slow unit)

start=$SECONDS
( set +e; $PEAPOD app stop "$pod" slow >"$tmp/a.out" 2>&1; echo $? >"$tmp/a.rc" ) &
wait_for 30 sh -c "[ \"\$(systemctl show -P ActiveState '$unit')\" = deactivating ]" || fail "the stop did not begin"
# A second stop joins the first and answers with it.
( set +e; $PEAPOD app stop "$pod" slow >"$tmp/b.out" 2>&1; echo $? >"$tmp/b.rc" ) &

err=$(must_fail $PEAPOD app start "$pod" slow)
assert_contains "$err" "stopping" "start of a stopping app"
err=$(must_fail $PEAPOD app rm "$pod" slow)
assert_contains "$err" "stopping" "plain rm of a stopping app"

max_ms=0 reads=0
until [ -e "$tmp/a.rc" ] && [ -e "$tmp/b.rc" ]; do
        # Each read on its own: the bound is per call (a process each, on
        # a loaded machine).
        t0=$(date +%s%N)
        busctl --system call org.peapod1 /org/peapod1 org.peapod1.Manager ListPods >/dev/null || fail "ListPods failed during the stop"
        ms=$((($(date +%s%N) - t0) / 1000000))
        [ $ms -le $max_ms ] || max_ms=$ms
        t0=$(date +%s%N)
        $PEAPOD app status --format=json "$pod" other >/dev/null || fail "app status failed during the stop"
        ms=$((($(date +%s%N) - t0) / 1000000))
        [ $ms -le $max_ms ] || max_ms=$ms
        reads=$((reads + 1))
        [ $((SECONDS - start)) -lt 60 ] || fail "the stop did not end within 60 s"
done
elapsed=$((SECONDS - start))
say "$reads pairs of reads during the app stop, the slowest read took $max_ms ms; the stop took $elapsed s"
[ "$reads" -ge 5 ] || fail "too few reads during the stop ($reads): did it end at once?"
[ $max_ms -lt 1000 ] || fail "a read waited $max_ms ms while an app was stopping"
# SIGKILL comes after the stop timeout (10 s): the answer waited for it.
[ "$elapsed" -ge 8 ] || fail "the stop answered after $elapsed s, before the app could have stopped"

assert_eq 0 "$(cat "$tmp/a.rc")" "first stop ($(cat "$tmp/a.out"))"
assert_eq 0 "$(cat "$tmp/b.rc")" "joined stop ($(cat "$tmp/b.out"))"
assert_eq "exited killed 9" "$(app_field slow state) $(app_field slow result) $(app_field slow status)" "the stopped app"
assert_eq running "$(app_field other state)" "the other app goes on"
assert_eq running "$(pod_state "$pod")" "the pod goes on"
err=$(must_fail $PEAPOD app stop "$pod" slow)
assert_contains "$err" "not running" "stop of a stopped app"

# A forced removal of a running app answers once it is stopped and gone.
start=$SECONDS
$PEAPOD app rm --force "$pod" gone || fail "forced removal of a running app"
[ $((SECONDS - start)) -ge 8 ] || fail "the forced removal answered before the app could have stopped"
must_fail $PEAPOD app status "$pod" gone >/dev/null
[ "$(systemctl show -P LoadState "$(echo "$unit" | sed 's/slow/gone/')")" != loaded ] || fail "the removed app's unit is loaded"
assert_eq running "$(app_field other state)" "the other app still goes on"

# The restart works: the app's unit was released.
$PEAPOD app start "$pod" slow
assert_eq running "$(app_field slow state)" "restarted app"
say ok
