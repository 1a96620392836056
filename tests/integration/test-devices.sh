#!/bin/bash
# A pod's root cannot reach a host device by making a node of it: app and
# exec units have the device cgroup's "closed" policy (pseudo devices and
# ptys only; it refuses mknod and open of anything else), and the pod's
# /dev is nodev besides. Checked with /dev/net/tun
# (10:200), which the lab itself may open, so that a refusal is ours.
. "$(dirname "$0")/lib.sh"

node=
cleanup() {
        [ -z "$node" ] || rm -f "$node"
        cleanup_pods
}
trap cleanup EXIT

# What the lab's root gets for the same node: anything but EPERM (the tun
# module may be missing: ENODEV), so EPERM below is peapod's doing.
# (/dev: the lab's /tmp is nodev.)
node=/dev/peapod-test-tun-$$
mknod "$node" c 10 200
o=$(sh -c "exec 3<>'$node'" 2>&1 || true)
assert_not_contains "$o" "Operation not permitted" "the lab's root opening 10:200"
assert_not_contains "$o" "Permission denied" "the lab's root opening 10:200"

# MKNOD is in the default set, but the device cgroup refuses to make the
# node at all, wherever the app tries.
$PEAPOD run -d --name "${PFX}dev" --net=none busybox -- sh -c '
        for d in /dev /tmp /dev/shm; do
                mknod $d/tun c 10 200 2>&1 | sed "s|^|$d: |"
        done
        echo tried
        sleep 600' >/dev/null
wait_for 30 sh -c "$PEAPOD logs ${PFX}dev | grep -qx tried" || fail "the app did not try: $($PEAPOD logs "${PFX}dev")"
o=$($PEAPOD logs "${PFX}dev")
for d in /dev /tmp /dev/shm; do
        assert_contains "$(echo "$o" | grep "^$d: " || true)" "Operation not permitted" "mknod in $d"
done

# The device cgroup alone, without nodev in the way: a process of the
# lab's moved into the app unit's cgroup opens the node on the lab's /tmp.
assert_eq closed "$(systemctl show -P DevicePolicy "peapod-${PFX}dev-busybox.service")" "the app unit's DevicePolicy"
cg=$(systemctl show -P ControlGroup "peapod-${PFX}dev-busybox.service")
procs=/sys/fs/cgroup/devices$cg/cgroup.procs
[ -e "$procs" ] || procs=/sys/fs/cgroup/unified$cg/cgroup.procs
[ -e "$procs" ] || procs=/sys/fs/cgroup$cg/cgroup.procs
o=$(sh -c "echo \$\$ >'$procs' && exec 3<>'$node'" 2>&1 || true)
assert_contains "$o" "Operation not permitted" "opening 10:200 from the app's cgroup"

# An entered command: the same.
o=$($PEAPOD enter "${PFX}dev" -- sh -c 'mknod /dev/tun2 c 10 200' 2>&1 || true)
assert_contains "$o" "Operation not permitted" "enter: mknod in /dev"
say ok
