#!/bin/bash
# A pod stop whose slice's stop job does not end "done" is finished
# without peapodd waiting for systemd: SIGKILL to the pod's units and one
# more stop job of the slice, both sent without waiting. Here the slice's
# stop job is canceled (a start of the slice replaces it) while an app
# that ignores SIGTERM holds it up: the stop answers well before the app's
# stop timeout (10 s, after which systemd would SIGKILL it itself), reads
# answer meanwhile, the pod is exited, its units are gone, and peapodd's
# journal says what happened.
. "$(dirname "$0")/lib.sh"

pod=${PFX}lastresort
tmp=$(mktemp -d)
cleanup() {
        cleanup_pods
        rm -rf "$tmp"
}
trap cleanup EXIT

$PEAPOD run -d --name "$pod" --net=none busybox -- sh -c "$STUBBORN" >/dev/null
wait_stubborn "$pod"
unit=$($PEAPOD app status --format=json "$pod" "$($PEAPOD app list --format=json "$pod" | jq -r '.[0].name')" | jq -r .unit)
slice=$(systemctl show -P Slice "$unit")
case "$slice" in *.slice) ;; *) fail "no slice for $unit: '$slice'" ;; esac

start=$SECONDS
( set +e; $PEAPOD stop "$pod" >"$tmp/stop.out" 2>&1; echo $? >"$tmp/stop.rc" ) &
wait_for 30 sh -c "[ \"\$(systemctl show -P ActiveState '$unit')\" = deactivating ]" || fail "the stop did not begin"
systemctl start --no-block "$slice"
max_ms=0
until [ -e "$tmp/stop.rc" ]; do
        t0=$(date +%s%N)
        busctl --system call org.peapod1 /org/peapod1 org.peapod1.Manager ListPods >/dev/null || fail "ListPods failed"
        ms=$((($(date +%s%N) - t0) / 1000000))
        [ $ms -le $max_ms ] || max_ms=$ms
        [ $((SECONDS - start)) -lt 60 ] || fail "the stop did not answer within 60 s"
done
elapsed=$((SECONDS - start))
say "the stop took $elapsed s; the slowest ListPods meanwhile $max_ms ms"
assert_eq 0 "$(cat "$tmp/stop.rc")" "stop ($(cat "$tmp/stop.out"))"
[ $elapsed -lt 9 ] || fail "the stop took $elapsed s: the app's own stop timeout, not peapodd's SIGKILL"
[ $max_ms -lt 1000 ] || fail "ListPods waited $max_ms ms during the stop"
journal_wait "The stop of pod $pod did not end well (canceled); killing what is left of it." _SYSTEMD_UNIT=peapodd.service ||
        fail "peapodd did not say why it killed the pod: $(journalctl -q --no-pager -o cat -n 20 _SYSTEMD_UNIT=peapodd.service)"
assert_eq exited "$(pod_state "$pod")" "the pod after its stop"
assert_eq killed "$($PEAPOD status --format=json "$pod" | jq -r '.apps[0].result')" "how the app ended"
wait_for 30 sh -c "[ -z \"\$(systemctl list-units --all --plain --no-legend '$unit' '$slice')\" ]" ||
        fail "units left after the stop: $(systemctl list-units --all --plain --no-legend "$unit" "$slice")"
$PEAPOD rm "$pod"
must_fail $PEAPOD status "$pod" >/dev/null
say ok
