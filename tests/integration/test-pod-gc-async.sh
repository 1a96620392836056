#!/bin/bash
# Deleting pods' files does not hold peapodd: gc of 20 exited pods whose
# apps each wrote 2000 small files (their writable layers) runs while a
# client reads, and every read answers at once (a generous bound; the
# figure is for bench/). gc and rm still answer only when the files are
# deleted: nothing of the pods is left under /var/lib/peapod/pods then.
. "$(dirname "$0")/lib.sh"

n=20
pods=/var/lib/peapod/pods
tmp=$(mktemp -d)
cleanup() {
        cleanup_pods
        rm -rf "$tmp"
}
trap cleanup EXIT

write='mkdir -p /w && i=0; while [ $i -lt 2000 ]; do echo $i >/w/$i; i=$((i+1)); done'

ids=()
for i in $(seq 1 $n); do
        $PEAPOD run -d --name "${PFX}g$i" --net=none busybox -- sh -c "$write" >/dev/null
        ids+=("$(pod_id "${PFX}g$i")")
done
for i in $(seq 1 $n); do
        wait_for 60 sh -c "[ \"\$($PEAPOD status --format=json ${PFX}g$i | jq -r .state)\" = exited ]" || fail "${PFX}g$i did not exit"
done
id_re=$(IFS='|'; echo "^(${ids[*]})\$")

start=$SECONDS t_start=$(date +%s%N)
( set +e; $PEAPOD gc --grace-period=0 >"$tmp/gc.out" 2>&1; echo $? >"$tmp/gc.rc" ) &
max_ms=0 reads=0
while [ ! -e "$tmp/gc.rc" ]; do
        t0=$(date +%s%N)
        busctl --system call org.peapod1 /org/peapod1 org.peapod1.Manager ListPods >/dev/null || fail "ListPods failed during gc"
        ms=$((($(date +%s%N) - t0) / 1000000))
        [ $ms -le $max_ms ] || max_ms=$ms
        t0=$(date +%s%N)
        busctl --system call org.peapod1 /org/peapod1 org.peapod1.Manager ListImages >/dev/null || fail "ListImages failed during gc"
        ms=$((($(date +%s%N) - t0) / 1000000))
        [ $ms -le $max_ms ] || max_ms=$ms
        reads=$((reads + 1))
        [ $((SECONDS - start)) -lt 120 ] || fail "gc did not end within 120 s"
done
# The answer came after the deletions: nothing left at once.
assert_eq 0 "$(ls -a "$pods" | grep -E -c -e '^\.removing-' -e "$id_re" || true)" "pod directories left when gc answered"
say "gc of $n pods took $((($(date +%s%N) - t_start) / 1000000)) ms; $reads pairs of reads meanwhile, the slowest read took $max_ms ms"
assert_eq 0 "$(cat "$tmp/gc.rc")" "gc ($(cat "$tmp/gc.out"))"
[ $max_ms -lt 1000 ] || fail "a read waited $max_ms ms during gc"
for i in $(seq 1 $n); do
        assert_contains "$(cat "$tmp/gc.out")" "${PFX}g$i" "gc names ${PFX}g$i"
        must_fail $PEAPOD status "${PFX}g$i" >/dev/null
done

# rm, plain and forced (of a running pod), also answers once the files are gone.
$PEAPOD run -d --name "${PFX}one" --net=none busybox -- sh -c "$write; exec sleep 300" >/dev/null
id=$(pod_id "${PFX}one")
wait_for 60 sh -c "$PEAPOD enter ${PFX}one -- test -e /w/1999" || fail "${PFX}one did not write its files"
$PEAPOD rm --force "${PFX}one" >/dev/null || fail "forced rm"
assert_eq 0 "$(ls -a "$pods" | grep -c -e '^\.removing-' -e "^$id\$" || true)" "directory left when a forced rm answered"
$PEAPOD run -d --name "${PFX}two" --net=none busybox -- sh -c "$write" >/dev/null
id=$(pod_id "${PFX}two")
wait_for 60 sh -c "[ \"\$($PEAPOD status --format=json ${PFX}two | jq -r .state)\" = exited ]" || fail "${PFX}two did not exit"
$PEAPOD rm "${PFX}two" >/dev/null || fail "rm"
assert_eq 0 "$(ls -a "$pods" | grep -c -e '^\.removing-' -e "^$id\$" || true)" "directory left when rm answered"
say ok
