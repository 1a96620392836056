#!/bin/bash
# Stops do not hold peapodd: 20 pods whose apps ignore SIGTERM take their
# stop timeout (then SIGKILL) to stop, all at once, while a client reads
# ListPods and a pod's properties in a loop; every read answers quickly
# (a generous bound here: the figure itself is for bench/). Each stop
# answers when its pod has stopped, with how its app ended.
. "$(dirname "$0")/lib.sh"

n=20
tmp=$(mktemp -d)
cleanup() {
        cleanup_pods
        rm -rf "$tmp"
}
trap cleanup EXIT

for i in $(seq 1 $n); do
        $PEAPOD run -d --name "${PFX}s$i" --net=none busybox -- sh -c "$STUBBORN" >/dev/null
done
for i in $(seq 1 $n); do
        wait_stubborn "${PFX}s$i"
done
reader_path=$(busctl --system call org.peapod1 /org/peapod1 org.peapod1.Manager GetPod s "${PFX}s1" | awk '{ print $2 }' | tr -d '"')
[ -n "$reader_path" ] || fail "no object path for ${PFX}s1"

start=$SECONDS
for i in $(seq 1 $n); do
        ( $PEAPOD stop "${PFX}s$i" >"$tmp/stop-$i.out" 2>&1; echo $? >"$tmp/stop-$i.rc" ) &
done

# Read while the stops run (until every stop has answered).
max_ms=0 reads=0
until [ "$(ls "$tmp"/stop-*.rc 2>/dev/null | wc -l)" -eq $n ]; do
        # Each read on its own: the bound is per call (a busctl process
        # each, on a loaded machine).
        t0=$(date +%s%N)
        busctl --system call org.peapod1 /org/peapod1 org.peapod1.Manager ListPods >/dev/null || fail "ListPods failed during the stops"
        ms=$((($(date +%s%N) - t0) / 1000000))
        [ $ms -le $max_ms ] || max_ms=$ms
        t0=$(date +%s%N)
        busctl --system call org.peapod1 "$reader_path" org.freedesktop.DBus.Properties GetAll s org.peapod1.Pod >/dev/null ||
                fail "GetAll failed during the stops"
        ms=$((($(date +%s%N) - t0) / 1000000))
        [ $ms -le $max_ms ] || max_ms=$ms
        reads=$((reads + 1))
        [ $((SECONDS - start)) -lt 120 ] || fail "the stops did not end within 120 s"
done
wait
say "$reads pairs of reads during the stops, the slowest read took $max_ms ms; the stops took $((SECONDS - start)) s"
[ "$reads" -ge 5 ] || fail "too few reads during the stops ($reads): did the stops end at once?"
[ $max_ms -lt 1000 ] || fail "a read waited $max_ms ms while pods were stopping"

for i in $(seq 1 $n); do
        assert_eq 0 "$(cat "$tmp/stop-$i.rc")" "stop of ${PFX}s$i ($(cat "$tmp/stop-$i.out"))"
        assert_eq "exited killed 9" "$($PEAPOD status --format=json "${PFX}s$i" | jq -r '"\(.state) \(.apps[0].result) \(.apps[0].status)"')" \
                "${PFX}s$i after its stop"
done

# A second stop of a stopping pod waits for the first; a forced removal of
# a stopping pod removes it once stopped.
$PEAPOD run -d --name "${PFX}twice" --net=none busybox -- sh -c "$STUBBORN" >/dev/null
wait_stubborn "${PFX}twice"
$PEAPOD stop "${PFX}twice" >"$tmp/a.out" 2>&1 &
a=$!
# Its app ignores SIGTERM: its unit stays "deactivating" until SIGKILL.
wait_for 30 sh -c "[ \"\$(systemctl show -P ActiveState 'peapod-${PFX}twice-busybox.service')\" = deactivating ]" ||
        fail "the first stop did not begin"
$PEAPOD rm --force "${PFX}twice" >"$tmp/b.out" 2>&1 || fail "forced removal of a stopping pod: $(cat "$tmp/b.out")"
wait $a || fail "the first stop failed: $(cat "$tmp/a.out")"
must_fail $PEAPOD status "${PFX}twice" >/dev/null
say ok
