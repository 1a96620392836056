#!/bin/bash
# The fly flavour: apps in the host's network and PID namespaces, chrooted
# into their image root, as units of the pod's slice; exit codes as for
# default pods; never a machined machine.
. "$(dirname "$0")/lib.sh"

ifname=pfly$$
cleanup() { cleanup_pods; ip link del "$ifname" 2>/dev/null || true; rm -f /var/tmp/fly-host-marker-$$; }
trap cleanup EXIT
# An interface only the host's network namespace has.
ip link add "$ifname" type bridge
echo host >/var/tmp/fly-host-marker-$$

$PEAPOD run -d --stage1=fly --name "$PFX-fly" busybox --app-name=tool -- sh -c '
        ip -o link show; echo "pid1=$(cat /proc/1/comm)"
        test -e /var/tmp/fly-host-marker-'$$' && echo host-file-visible
        test -x /bin/busybox && echo image-root
        echo "host=$(hostname)"; sleep 300' >/dev/null
id=$(pod_id "$PFX-fly")
assert_eq fly "$(busctl --json=short get-property org.peapod1 /org/peapod1/pod/$id org.peapod1.Pod Stage1 | jq -r .data)" "Stage1 property"
assert_eq running "$(pod_state "$PFX-fly")" "fly pod runs"
assert_eq fly "$($PEAPOD status --format=json "$PFX-fly" | jq -r .stage1)" "peapod status shows the flavour"
assert_contains "$($PEAPOD status "$PFX-fly")" "Stage1: fly" "peapod status text"
wait_for 10 sh -c "$PEAPOD logs $PFX-fly 2>&1 | grep -q host=" || fail "no output"
out=$($PEAPOD logs "$PFX-fly" 2>&1)
assert_contains "$out" "$ifname" "host network interfaces"
assert_contains "$out" "pid1=systemd" "host PID namespace"
assert_not_contains "$out" "host-file-visible" "chrooted: host file"
assert_contains "$out" "image-root" "chrooted: image root"
assert_contains "$out" "host=$(hostname)" "host UTS namespace"

unit=$($PEAPOD app status --format=json "$PFX-fly" tool | jq -r .unit)
slice=$(busctl --json=short get-property org.peapod1 /org/peapod1/pod/$id org.peapod1.Pod Slice | jq -r .data)
assert_eq "$slice" "$(systemctl show -P Slice "$unit")" "app unit in the pod's slice"
# Not a machine: machined would act in the host's namespaces.
! machinectl show "$PFX-fly" >/dev/null 2>&1 || fail "fly pod registered with machined"
pid=$($PEAPOD app status --format=json "$PFX-fly" tool | jq .pid)
[ "$(readlink /proc/$pid/ns/net)" = "$(readlink /proc/self/ns/net)" ] || fail "not in the host's netns"
[ "$(readlink /proc/$pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] || fail "no mount namespace of its own"
# enter works in a fly app too, with its privileges.
assert_contains "$($PEAPOD enter "$PFX-fly" -- ls /bin/busybox)" "/bin/busybox" "enter a fly app"

# Exit codes as for default pods; the pod ends with its last app.
$PEAPOD run -d --stage1=fly --name "$PFX-fly7" busybox -- sh -c 'exit 7' >/dev/null
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-fly7 | jq -r .state)\" = exited ]" || fail "fly pod did not end"
assert_eq 7 "$($PEAPOD status --format=json "$PFX-fly7" | jq -r '.apps[0].status')" "exit code"
$PEAPOD run -d --stage1=fly --name "$PFX-flyk" busybox -- sh -c 'kill -9 $$' >/dev/null
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-flyk | jq -r .state)\" = exited ]" || fail "fly pod did not end"
assert_eq killed "$($PEAPOD status --format=json "$PFX-flyk" | jq -r '.apps[0].result')" "killed app"

$PEAPOD stop "$PFX-fly"
assert_eq exited "$(pod_state "$PFX-fly")" "fly pod stopped"
[ "$(systemctl is-active "$unit")" != active ] || fail "app unit still active"
$PEAPOD rm "$PFX-fly"

err=$(must_fail $PEAPOD run -d --stage1=nosuch --name "$PFX-bad" busybox -- true)
assert_contains "$err" "No stage1 flavour" "unknown flavour"
err=$(must_fail $PEAPOD run -d --stage1=../default --name "$PFX-bad" busybox -- true)
assert_contains "$err" "Invalid stage1" "flavour name with a path"
