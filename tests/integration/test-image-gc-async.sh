#!/bin/bash
# The image store's gc does not hold peapodd. RemoveImage (of a last name)
# and PruneImages wait for gc.lock, which every pull and import in flight
# holds shared; here the test holds it as a pull would. Meanwhile reads
# answer at once (a generous bound; the figure is for bench/) and the
# removed name is gone from ListImages, while the method itself answers
# only when the gc has run: the layers are gone then. The gc of an image
# of 20000 small files is timed too.
. "$(dirname "$0")/lib.sh"

store=/var/lib/peapod/images
tmp=$(mktemp -d)
holder=
cleanup() {
        [ -z "$holder" ] || kill "$holder" 2>/dev/null
        $PEAPOD image rm "localhost/${PFX}many:latest" "localhost/${PFX}small:latest" >/dev/null 2>&1 || true
        rm -rf "$tmp"
}
trap cleanup EXIT

make_image() { # NAME [OPTION...]
        local name=$1
        shift
        "$(dirname "$0")/../unit/make-test-image.py" "$tmp/$name" --salt="${PFX}$name" "$@" >/dev/null
        tar -C "$tmp/$name" -cf "$tmp/$name.tar" .
        $PEAPOD image import -q --insecure-options=image --name="localhost/${PFX}$name:latest" "$tmp/$name.tar" >/dev/null
        rm -rf "$tmp/$name" "$tmp/$name.tar"
}
layers() { { ls "$store/layers" 2>/dev/null || true; } | wc -l; }
has_image() { $PEAPOD image list --format=json | jq -e --arg n "localhost/${PFX}$1:latest" 'map(.names[]?) | index($n) != null' >/dev/null; }

# Holds gc.lock shared, as a pull in flight does, until $tmp/release exists.
hold_gc_lock() {
        flock -s "$store/locks/gc.lock" sh -c "touch '$tmp/held'; while [ ! -e '$tmp/release' ]; do sleep 0.1; done" &
        holder=$!
        wait_for 10 test -e "$tmp/held" || fail "could not take gc.lock"
}
release_gc_lock() {
        touch "$tmp/release"
        wait "$holder"
        holder=
        rm -f "$tmp/held" "$tmp/release"
}

# Reads until DONE_FILE exists or MAX seconds have passed; fails on a
# read slower than the bound.
read_for() { # DONE_FILE WHAT MAX
        local done_file=$1 what=$2 max=$3 t0 ms max_ms=0 reads=0 start=$SECONDS
        while [ ! -e "$done_file" ] && [ $((SECONDS - start)) -lt "$max" ]; do
                t0=$(date +%s%N)
                busctl --system call org.peapod1 /org/peapod1 org.peapod1.Manager ListImages >/dev/null || fail "ListImages failed during $what"
                ms=$((($(date +%s%N) - t0) / 1000000))
                [ $ms -le $max_ms ] || max_ms=$ms
                t0=$(date +%s%N)
                busctl --system call org.peapod1 /org/peapod1 org.peapod1.Manager ListPods >/dev/null || fail "ListPods failed during $what"
                ms=$((($(date +%s%N) - t0) / 1000000))
                [ $ms -le $max_ms ] || max_ms=$ms
                reads=$((reads + 1))
        done
        say "$reads pairs of reads during $what, the slowest read took $max_ms ms"
        [ $max_ms -lt 1000 ] || fail "a read waited $max_ms ms during $what"
}

# RemoveImage waits for the gc, the gc for the lock; reads do not.
$PEAPOD image list >/dev/null # peapodd up, its built-in images in
before=$(layers)
make_image small
[ "$(layers)" -gt "$before" ] || fail "the import unpacked no layer"
hold_gc_lock
( set +e; $PEAPOD image rm "localhost/${PFX}small:latest" >"$tmp/rm.out" 2>&1; echo $? >"$tmp/rm.rc" ) &
wait_for 10 sh -c "! $PEAPOD image list --format=json | jq -e 'map(.names[]?) | index(\"localhost/${PFX}small:latest\") != null' >/dev/null" ||
        fail "the name was not removed at once"
# A TagImage meanwhile waits for the gc in peapodd, not on its loop.
( set +e; $PEAPOD image tag busybox "localhost/${PFX}tag:latest" >"$tmp/tag.out" 2>&1; echo $? >"$tmp/tag.rc" ) &
read_for "$tmp/rm.rc" "a RemoveImage waiting for gc.lock" 3
[ ! -e "$tmp/rm.rc" ] || fail "RemoveImage answered while gc.lock was held: $(cat "$tmp/rm.out")"
[ ! -e "$tmp/tag.rc" ] || fail "TagImage answered during the gc: $(cat "$tmp/tag.out")"
! has_image small || fail "the removed name is still listed"
release_gc_lock
wait_for 30 test -e "$tmp/rm.rc" || fail "RemoveImage did not answer once gc.lock was free"
assert_eq 0 "$(cat "$tmp/rm.rc")" "RemoveImage ($(cat "$tmp/rm.out"))"
wait_for 30 test -e "$tmp/tag.rc" || fail "TagImage did not answer after the gc"
assert_eq 0 "$(cat "$tmp/tag.rc")" "TagImage after the gc ($(cat "$tmp/tag.out"))"
has_image tag || fail "the tag made during the gc is missing"
$PEAPOD image rm "localhost/${PFX}tag:latest" >/dev/null
assert_eq "$before" "$(layers)" "layer trees once RemoveImage answered"

# PruneImages the same way, answering the bytes it freed.
hold_gc_lock
( set +e; busctl --system --timeout=120 call org.peapod1 /org/peapod1 org.peapod1.Manager PruneImages t 0 >"$tmp/prune.out" 2>&1
  echo $? >"$tmp/prune.rc" ) &
read_for "$tmp/prune.rc" "a PruneImages waiting for gc.lock" 3
[ ! -e "$tmp/prune.rc" ] || fail "PruneImages answered while gc.lock was held: $(cat "$tmp/prune.out")"
release_gc_lock
wait_for 30 test -e "$tmp/prune.rc" || fail "PruneImages did not answer once gc.lock was free"
assert_eq 0 "$(cat "$tmp/prune.rc")" "PruneImages ($(cat "$tmp/prune.out"))"
assert_contains "$(cat "$tmp/prune.out")" "t " "PruneImages answers the bytes freed"
assert_eq "$before" "$(layers)" "layer trees once PruneImages answered"

# A real slow gc: a layer of 20000 small files.
make_image many --many=20000
t0=$(date +%s%N)
( set +e; $PEAPOD image rm "localhost/${PFX}many:latest" >"$tmp/many.out" 2>&1; echo $? >"$tmp/many.rc" ) &
read_for "$tmp/many.rc" "the gc of 20000 files" 60
wait_for 120 test -e "$tmp/many.rc" || fail "RemoveImage of the big image did not answer"
assert_eq 0 "$(cat "$tmp/many.rc")" "RemoveImage of the big image ($(cat "$tmp/many.out"))"
say "RemoveImage of an image of 20000 files took about $((($(date +%s%N) - t0) / 1000000)) ms (reads included)"
assert_eq "$before" "$(layers)" "layer trees once the big image is removed"
say ok
