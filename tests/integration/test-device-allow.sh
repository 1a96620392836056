#!/bin/bash
# A host device given to one app (--device=HOST:CONTAINER:PERMISSIONS, the
# CRI's devices): the app unit's device cgroup admits exactly that node
# with exactly those permissions (DevicePolicy stays closed), and the
# node is bound at CONTAINER in the app's nodev /dev. An open for reading
# works where "r" was given, one for writing is refused where "w" was
# not, mknod without "m" too, `peapod enter` gets the same, other apps of
# the pod get nothing; paths that are not device
# nodes, container paths outside /dev or over the helper's own entries,
# and bad permissions are refused at creation.
. "$(dirname "$0")/lib.sh"

unit="peapod-$PFX\\x2ddev-dev.service"
# Nodes of /dev/net/tun (10:200) and /dev/fuse (10:229), which the closed
# policy does not admit (the pseudo devices such as /dev/zero it always
# admits read-write), made in the lab's /dev (its /tmp is nodev), as
# test-devices does. Two devices: the cgroup's permissions are per device
# number, not per path. Whether the drivers are there does not matter:
# the device cgroup answers EPERM before a driver is asked, so "anything
# but EPERM" is an admitted open.
node=/dev/peapod-test-tun-$$
node2=/dev/peapod-test-fuse-$$
cleanup() {
        rm -f "$node" "$node2"
        cleanup_pods
}
trap cleanup EXIT
mknod "$node" c 10 200
mknod "$node2" c 10 229

say "a device with r and one with rw"
$PEAPOD run -d --name "$PFX-dev" busybox --app-name=dev --device="$node:/dev/net/tun:r" \
        --device="$node2:/dev/sub/fuse:rw" -- sh -c '
        test -c /dev/net/tun && test -c /dev/sub/fuse && echo nodes-there
        (exec 3</dev/net/tun) 2>&1 | sed "s/^/read-r: /"
        (exec 3>/dev/net/tun) 2>&1 | sed "s/^/write-r: /"
        (exec 3<>/dev/sub/fuse) 2>&1 | sed "s/^/rw: /"
        mknod /tmp/tun c 10 200 2>&1 | sed "s/^/mknod: /"
        echo done; exec sleep 300' \
        --- busybox --app-name=other -- sh -c 'test -e /dev/net/tun && echo other-has-it; echo other-done; exec sleep 300' >/dev/null
wait_for 30 sh -c "$PEAPOD logs --no-prefix $PFX-dev dev 2>&1 | grep -qx done" || fail "the app did not run: $($PEAPOD logs "$PFX-dev" 2>&1)"
o=$($PEAPOD logs --no-prefix "$PFX-dev" dev 2>&1)
assert_contains "$o" "nodes-there" "the nodes in the app's /dev"
assert_not_contains "$(echo "$o" | grep '^read-r:' || true)" "Operation not permitted" "reading a device given with r"
assert_contains "$(echo "$o" | grep '^write-r:' || true)" "Operation not permitted" "writing a device given with r"
assert_not_contains "$(echo "$o" | grep '^rw:' || true)" "Operation not permitted" "reading and writing a device given with rw"
assert_contains "$(echo "$o" | grep '^mknod:' || true)" "Operation not permitted" "mknod of it without m"

say "the unit's device cgroup: closed plus exactly these"
assert_eq closed "$(systemctl show -P DevicePolicy "$unit")" "DevicePolicy"
allow=$(systemctl show -P DeviceAllow "$unit")
assert_contains "$allow" "/dev/char/10:200 r" "DeviceAllow of the read-only device"
assert_contains "$allow" "/dev/char/10:229 rw" "DeviceAllow of the read-write device"

say "the pod's other app has neither the node nor the permission"
wait_for 30 sh -c "$PEAPOD logs --no-prefix $PFX-dev other 2>&1 | grep -qx other-done" || fail "app other did not run"
o=$($PEAPOD logs --no-prefix "$PFX-dev" other 2>&1)
assert_not_contains "$o" "other-has-it" "the other app's /dev"
assert_eq "" "$(systemctl show -P DeviceAllow "peapod-$PFX\\x2ddev-other.service")" "the other app's DeviceAllow"

say "enter gets the app's devices"
o=$($PEAPOD enter --app=dev "$PFX-dev" -- sh -c '(exec 3</dev/net/tun) 2>&1; echo entered' 2>&1 || true)
assert_contains "$o" "entered" "enter ran"
assert_not_contains "$o" "Operation not permitted" "enter reads a device given with r"
o=$($PEAPOD enter --app=dev "$PFX-dev" -- sh -c '(exec 3>/dev/net/tun) 2>&1' 2>&1 || true)
assert_contains "$o" "Operation not permitted" "enter cannot write a device given with r"

say "refusals"
for bad in /tmp /etc/hostname /dev/zero:/etc/zero /dev/zero:/dev/pts/x /dev/zero:/dev/null /dev/zero:/dev/x:rx \
        /dev/zero:/dev/x: /dev/zero:/dev/../x /no/such/node; do
        e=$(must_fail $PEAPOD run -d --name "$PFX-bad" busybox --device="$bad" -- true)
        assert_contains "$e" "Invalid" "--device=$bad"
done
e=$(must_fail $PEAPOD run -d --name "$PFX-bad" busybox --device=/tmp:/dev/xtmp -- true)
assert_contains "$e" "not a character or block device" "a directory as a device"
e=$(must_fail $PEAPOD run -d --stage1=fly --name "$PFX-fly" busybox --device=/dev/zero:/dev/xzero:r -- true)
assert_contains "$e" "nor devices" "fly with --device"
say ok
