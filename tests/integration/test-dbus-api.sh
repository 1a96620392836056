#!/bin/bash
# The D-Bus API: introspection, object manager, properties, access control.
. "$(dirname "$0")/lib.sh"

intro=$(busctl introspect --no-pager org.peapod1 /org/peapod1)
for m in .CreatePod .StartPod .StopPod .RemovePod .GetPod .ListPods .PodNew .PodRemoved .Version; do
        assert_contains "$intro" "$m" "introspection of /org/peapod1"
done
assert_contains "$intro" org.freedesktop.DBus.ObjectManager "object manager"

# Create through D-Bus directly, as a program would.
path=$(busctl call --json=short org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' \
        "$PFX-bus" 0 1 app busybox 1 Exec as 2 sleep 300 | jq -r '.data[0]')
assert_contains "$path" /org/peapod1/pod/ "CreatePod returns a pod path"
assert_eq '"created"' "$(busctl get-property --json=short org.peapod1 "$path" org.peapod1.Pod State | jq .data)" "State property"
objs=$(busctl call --json=short org.peapod1 /org/peapod1 org.freedesktop.DBus.ObjectManager GetManagedObjects)
assert_contains "$objs" "$path" "GetManagedObjects lists the pod"

# PropertiesChanged on start.
busctl monitor --json=short --match "type='signal',path='$path',member='PropertiesChanged'" \
        --match "type='signal',path='/org/peapod1/test',member='Probe'" >/tmp/$PFX-mon 2>/dev/null &
mon=$!
# The monitor is ready once it has seen a probe signal of ours.
probe() { busctl emit /org/peapod1/test org.peapod1.Test Probe; grep -q Probe /tmp/$PFX-mon; }
wait_for 30 probe || { kill $mon; fail "busctl monitor saw nothing"; }
busctl call org.peapod1 /org/peapod1 org.peapod1.Manager StartPod s "$PFX-bus"
wait_for 5 grep -q '"running"' /tmp/$PFX-mon || { kill $mon; fail "no PropertiesChanged with State=running"; }
kill $mon 2>/dev/null || true
rm -f /tmp/$PFX-mon
apps=$(busctl get-property --json=short org.peapod1 "$path" org.peapod1.Pod Apps)
assert_contains "$apps" '"app"' "Apps property names the app"
assert_contains "$apps" '"running"' "Apps property has the state"

# A non-root caller can read but not change.
asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
asnobody busctl call org.peapod1 /org/peapod1 org.peapod1.Manager ListPods >/dev/null || fail "non-root cannot list"
# Every read documented as open to everyone passes the bus policy too.
asnobody busctl call org.peapod1 /org/peapod1 org.peapod1.Manager GetPod s "$PFX-bus" >/dev/null || fail "non-root GetPod"
asnobody busctl call org.peapod1 /org/peapod1 org.peapod1.Manager ListImages >/dev/null || fail "non-root ListImages"
asnobody busctl call org.peapod1 /org/peapod1 org.peapod1.Manager GetImage s busybox >/dev/null || fail "non-root GetImage"
asnobody busctl call org.peapod1 /org/peapod1 org.peapod1.Manager ListTrustedKeys >/dev/null || fail "non-root ListTrustedKeys"
asnobody busctl get-property org.peapod1 "$path" org.peapod1.Pod State >/dev/null || fail "non-root Get"
asnobody busctl call org.peapod1 /org/peapod1 org.freedesktop.DBus.ObjectManager GetManagedObjects >/dev/null || fail "non-root GetManagedObjects"
got=$(asnobody busctl call --json=short org.peapod1 "$path" org.peapod1.Pod GetApp s app) || fail "non-root GetApp: $got"
assert_eq running "$(echo "$got" | jq -r '.data[0].State.data')" "GetApp as non-root"
assert_contains "$(asnobody $PEAPOD app status "$PFX-bus" app 2>&1)" "running" "peapod app status as non-root"
err=$(must_fail asnobody busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' "$PFX-evil" 0 1 app busybox 0)
assert_contains "$err" "ccess denied" "non-root CreatePod denied"
err=$(must_fail asnobody busctl call org.peapod1 "$path" org.peapod1.Pod Stop)
assert_contains "$err" "ccess denied" "non-root Stop denied"
err=$(must_fail asnobody $PEAPOD stop "$PFX-bus")
assert_contains "$err" "ermission denied" "CLI says permission denied"
assert_eq running "$(pod_state "$PFX-bus")" "denied calls changed nothing"
must_fail $PEAPOD status "$PFX-evil" >/dev/null

busctl call org.peapod1 "$path" org.peapod1.Pod Remove t 1
must_fail $PEAPOD status "$PFX-bus" >/dev/null

# The installed interface descriptions are what the daemon really serves.
xmldir=/usr/share/dbus-1/interfaces
$PEAPOD run -d --name "$PFX-xml" busybox -- sleep 300 >/dev/null
pod_path=$(busctl call --json=short org.peapod1 /org/peapod1 org.peapod1.Manager GetPod s "$PFX-xml" | jq -r '.data[0]')
here=$(dirname "$(realpath "$0")")
live=$(busctl introspect --xml-interface org.peapod1 /org/peapod1 | "$here/../../tools/extract-interface" org.peapod1.Manager)
assert_eq "$(cat $xmldir/org.peapod1.Manager.xml)" "$live" "installed org.peapod1.Manager.xml matches the daemon"
live=$(busctl introspect --xml-interface org.peapod1 "$pod_path" | "$here/../../tools/extract-interface" org.peapod1.Pod)
assert_eq "$(cat $xmldir/org.peapod1.Pod.xml)" "$live" "installed org.peapod1.Pod.xml matches the daemon"
