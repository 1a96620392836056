#!/bin/bash
# An app's own masked and read-only paths (--masked-path=, --readonly-path=,
# the CRI's masked_paths and readonly_paths beyond stage1's set): a masked
# file reads empty (/dev/null over it), a masked directory is empty (a
# read-only tmpfs), a read-only path refuses writes while the rest of the
# root does not, a missing path is skipped. Paths are resolved inside the
# app's root: through an image's symlink that is absolute and full of
# "..", the mask lands on the image's file; a symlink to a host path the
# image lacks is skipped, nothing outside the root is touched; one to the
# root itself fails the start (125).
. "$(dirname "$0")/lib.sh"
here=$(dirname "$(realpath "$0")")
tmp=$(mktemp -d)
img=localhost/$PFX-masks:latest
cleanup() {
        cleanup_pods
        $PEAPOD image rm "$img" >/dev/null 2>&1 || true
        rm -rf "$tmp"
}
trap cleanup EXIT
wait_done() { wait_for 30 sh -c "$PEAPOD logs --no-prefix $PFX-$1 2>&1 | grep -qx done" || fail "pod $1 did not run: $($PEAPOD logs "$PFX-$1" 2>&1)"; }

"$here/../unit/make-test-image.py" "$tmp/img" --salt="$PFX" --symlink=hostile:/../../../../../etc/keep \
        --symlink=hostlink:/var/lib/peapod --symlink=rolink:../../../../../etc \
        --symlink=rootlink:../../.. >/dev/null
tar -C "$tmp/img" -cf "$tmp/img.tar" .
$PEAPOD image import -q --insecure-options=image --name="$img" "$tmp/img.tar" 2>/dev/null >/dev/null

say "masked: a file through a hostile symlink, a directory, a missing path, a host-looking symlink"
$PEAPOD run -d --name "$PFX-mask" "$img" --exec=/bin/busybox --masked-path=/hostile --masked-path=/sys/kernel \
        --masked-path=/no/such/path --masked-path=/hostlink -- sh -c '
        echo keep=[$(cat /etc/keep)] motd=[$(cat /etc/motd)]
        echo kernel=$(ls /sys/kernel | wc -l) class=$(ls /sys/class | wc -l)
        touch /sys/kernel/x 2>&1 | sed "s/^/sys-kernel: /"
        test -e /var/lib/peapod && echo host-path-visible
        echo done; exec sleep 300' >/dev/null
wait_done mask
o=$($PEAPOD logs --no-prefix "$PFX-mask" 2>&1)
assert_contains "$o" "keep=[] motd=[hello]" "the image's file behind the symlink is masked, its neighbour not"
assert_contains "$o" "kernel=0" "a masked directory is empty"
assert_not_contains "$o" "class=0" "the rest of /sys is there"
assert_contains "$(echo "$o" | grep sys-kernel: || true)" "Read-only file system" "a masked directory is read-only"
assert_not_contains "$o" "host-path-visible" "a symlink to a host path stays inside the root"

say "read-only: a directory through a relative symlink full of '..', a file"
$PEAPOD run -d --name "$PFX-ro" "$img" --exec=/bin/busybox --readonly-path=/rolink --readonly-path=/bin/sh -- sh -c '
        touch /etc/new 2>&1 | sed "s/^/etc: /"
        touch /written && echo root-writable
        echo done; exec sleep 300' >/dev/null
wait_done ro
o=$($PEAPOD logs --no-prefix "$PFX-ro" 2>&1)
assert_contains "$(echo "$o" | grep '^etc:' || true)" "Read-only file system" "/etc read-only through the symlink"
assert_contains "$o" "root-writable" "the rest of the root stays writable"

say "a symlink to the app's root itself fails the start, nothing half done"
$PEAPOD run -d --name "$PFX-rootlink" "$img" --exec=/bin/busybox --masked-path=/rootlink -- true >/dev/null
wait_for 30 sh -c "[ \"\$($PEAPOD status --format=json $PFX-rootlink | jq -r .state)\" = exited ]" || fail "pod rootlink did not end"
assert_eq 125 "$($PEAPOD status --format=json "$PFX-rootlink" | jq -r '.apps[0].status')" "masking the root through a symlink"
assert_contains "$($PEAPOD logs "$PFX-rootlink" 2>&1)" "Failed to open masked path /rootlink" "the reason is logged"

say "refusals"
for bad in --masked-path=relative --masked-path=/ --readonly-path=/a/../b --readonly-path=/a//b; do
        e=$(must_fail $PEAPOD run -d --name "$PFX-bad" "$img" "$bad" -- true)
        assert_contains "$e" "Invalid" "$bad"
done
e=$(must_fail $PEAPOD run -d --stage1=fly --name "$PFX-fly" "$img" --masked-path=/etc/keep -- true)
assert_contains "$e" "nor masked or read-only paths" "fly with --masked-path"
say ok
