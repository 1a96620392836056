#!/bin/bash
# A host volume is resolved once, when the pod starts: every app of that run
# mounts the same tree. The issue's attack: a pod made with a volume whose
# source is a symlink to a directory A; the symlink is swapped to /etc; an
# app added afterwards got the host's /etc read-write (it read /etc/shadow
# and created a file there). Now it sees A, and /etc is untouched. The pin
# goes at stop and at removal, and the host's files stay.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
cleanup() {
        cleanup_pods
        rm -f /etc/peapod-pin-test
        rm -rf "$tmp"
}
trap cleanup EXIT

mkdir "$tmp/a" "$tmp/b"
echo from-a >"$tmp/a/marker"
echo from-b >"$tmp/b/marker"
ln -s "$tmp/a" "$tmp/link"

$PEAPOD pod create --name "$PFX-pin" --volume=v,kind=host,source="$tmp/link" --quiet
id=$(pod_id "$PFX-pin")
pin=/var/lib/peapod/pods/$id/volumes/v
findmnt -n "$pin" >/dev/null || fail "no pin mounted at $pin while the pod runs"
assert_eq from-a "$(cat "$pin/marker")" "the pin is the symlink's target at start"

# The swap: the source now leads to the host's /etc.
ln -sfn /etc "$tmp/link"
$PEAPOD app add --name late --start --quiet "$PFX-pin" busybox --mount=volume=v,target=/data -- sh -c '
        cat /data/marker
        if head -c 1 /data/shadow >/dev/null 2>&1; then echo SHADOW-READ; else echo no-shadow; fi
        touch /data/peapod-pin-test && echo created
        echo done'
wait_for 30 sh -c "$PEAPOD logs $PFX-pin late | grep -q done" || fail "the late app did not run: $($PEAPOD logs "$PFX-pin" 2>&1)"
out=$($PEAPOD logs "$PFX-pin" late 2>&1)
assert_contains "$out" from-a "the late app sees A's content"
assert_contains "$out" no-shadow "the late app cannot read /etc/shadow"
assert_not_contains "$out" SHADOW-READ "the late app read /etc/shadow"
[ ! -e /etc/peapod-pin-test ] || fail "the late app created a file in the host's /etc"
[ -e "$tmp/a/peapod-pin-test" ] || fail "the late app's file is not in A"

# The same when the path itself changes under the pod: a directory renamed
# and another put in its place.
mv "$tmp/a" "$tmp/a-moved"
mv "$tmp/b" "$tmp/a"
ln -sfn "$tmp/a" "$tmp/link"
$PEAPOD app add --name later --start --quiet "$PFX-pin" busybox --mount=volume=v,target=/data -- sh -c 'cat /data/marker'
wait_for 30 sh -c "$PEAPOD logs $PFX-pin later | grep -q from-" || fail "the later app did not run"
assert_eq from-a "$($PEAPOD logs "$PFX-pin" later 2>&1)" "the later app still sees the tree of the start"

# A read-only volume's pin is read-only itself.
ln -sfn "$tmp/a-moved" "$tmp/rolink"
$PEAPOD pod create --name "$PFX-ro" --volume=v,kind=host,source="$tmp/rolink",readOnly=true --quiet
ro_pin=/var/lib/peapod/pods/$(pod_id "$PFX-ro")/volumes/v
assert_contains "$(findmnt -n -o OPTIONS "$ro_pin")" ro "the read-only volume's pin options"
! touch "$ro_pin/x" 2>/dev/null || fail "the read-only pin is writable"
assert_eq private "$(findmnt -n -o PROPAGATION "$ro_pin")" "the pin's propagation"

# Stop and removal take the pins, not the host's files.
$PEAPOD stop "$PFX-pin"
! findmnt -n "$pin" >/dev/null || fail "the pin is still mounted after stop"
$PEAPOD rm "$PFX-pin"
$PEAPOD rm --force "$PFX-ro"
! findmnt -rn -o TARGET | grep -q "$id" || fail "mounts of the pod left after rm"
assert_eq from-a "$(cat "$tmp/a-moved/marker")" "A after the pod was removed"
assert_eq from-b "$(cat "$tmp/a/marker")" "B after the pod was removed"

# A file source: pinned as a file.
echo file-content >"$tmp/file"
ln -s "$tmp/file" "$tmp/filelink"
$PEAPOD pod create --name "$PFX-file" --volume=f,kind=host,source="$tmp/filelink" --quiet
ln -sfn /etc/shadow "$tmp/filelink"
$PEAPOD app add --name reader --start --quiet "$PFX-file" busybox --mount=volume=f,target=/etc/motd -- cat /etc/motd
wait_for 30 sh -c "$PEAPOD logs $PFX-file reader | grep -q ." || fail "the file reader did not run"
assert_eq file-content "$($PEAPOD logs "$PFX-file" reader 2>&1)" "a file volume after the swap"
$PEAPOD rm --force "$PFX-file"
assert_eq file-content "$(cat "$tmp/file")" "the file source after rm"
say ok
