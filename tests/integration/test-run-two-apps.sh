#!/bin/bash
# A two-app pod is a machine in machine.slice with one service per app.
. "$(dirname "$0")/lib.sh"

id=$($PEAPOD run -d --name "$PFX-two" busybox -- sleep 300 --- busybox --app-name=second -- sleep 300)
say "pod id $id"
assert_eq running "$(pod_state "$PFX-two")" "pod state"

machines=$(machinectl list --no-legend)
assert_contains "$machines" "$PFX-two" "machinectl list"
mstatus=$(machinectl status "$PFX-two" --no-pager)
assert_contains "$mstatus" "machine-$PFX\\x2dtwo.scope" "machinectl status shows the scope"

# The pod's slice is in the shard of its id's first digit.
shard=machine-peapod${id:0:1}
units=$(systemctl list-units --all --no-legend --plain "$shard-$PFX*" "machine-$PFX*" "peapod-$PFX*")
assert_contains "$units" "$shard-$PFX\\x2dtwo.slice" "pod slice"
assert_eq "$shard-$PFX\\x2dtwo.slice" "$(busctl --json=short get-property org.peapod1 "/org/peapod1/pod/$id" org.peapod1.Pod Slice | jq -r .data)" "the pod's Slice property"
assert_contains "$units" "peapod-$PFX\\x2dtwo-busybox.service" "first app unit"
assert_contains "$units" "peapod-$PFX\\x2dtwo-second.service" "second app unit"
# Both apps live in the pod's slice under machine.slice.
cg=$(systemctl show -P ControlGroup "peapod-$PFX\\x2dtwo-second.service")
assert_eq "/machine.slice/$shard.slice/$shard-$PFX\\x2dtwo.slice/peapod-$PFX\\x2dtwo-second.service" "$cg" "app cgroup"

# The apps share the pod's PID namespace: each sees the other's sleep.
leader=$(machinectl show --value -p Leader "$PFX-two")
[ "$(readlink /proc/"$leader"/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] || fail "pod has no PID namespace"
app_pid=$(systemctl show -P MainPID "peapod-$PFX\\x2dtwo-second.service")
n=$(ls /proc/"$leader"/root/proc | grep -c '^[0-9]' || true)
[ "$n" -ge 1 ] || fail "no /proc in the pod's root"
# The machine's root is private: nothing of the host's files is there.
[ ! -e /proc/"$leader"/root/etc/passwd ] || fail "the pod's init sees the host's /etc/passwd"
[ ! -e /proc/"$leader"/root/usr ] || fail "the pod's init sees the host's /usr"
grep -q peapod /proc/"$leader"/root/etc/os-release || fail "no os-release in the pod root"
[ "$app_pid" -gt 0 ] || fail "app has no main pid"
# machinectl shell must never land on the host: the pod's root has no shell.
if out=$(timeout 20 machinectl shell "$PFX-two" /bin/cat /etc/hostname 2>&1); then
        fail "machinectl shell reached something: $out"
fi
