#!/bin/bash
# CNI DEL runs from the saved records whatever happened to peapodd: killed
# (-9) while a pod runs, then the pod removed; killed, then the pod's
# machine terminated behind its back (as a reboot would end it), then
# peapodd started again. Nothing leaks: netns mount, veth, IP, rules.
. "$(dirname "$0")/lib.sh"

NETDIR=/var/lib/cni/networks/peapod
WGET="busybox wget"

# host-local's files: one per address, holding the container (pod) id.
allocations() { grep -l -r -- "$1" "$NETDIR" 2>/dev/null || true; }
# The host ends of a pod's veths, from machined.
host_veths() {
        local mpath
        mpath=$(busctl call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager GetMachine s "$1" | awk '{print $2}' | tr -d '"')
        for i in $(busctl get-property org.freedesktop.machine1 "$mpath" org.freedesktop.machine1.Machine NetworkInterfaces | cut -d' ' -f3-); do
                ip -o link show | awk -F': ' -v i="$i" '$1 == i { print $2 }' | cut -d@ -f1
        done
}
assert_clean() { # ID WHAT VETHS
        [ ! -e "/run/peapod/netns/$1" ] || fail "$2: netns file left"
        ! findmnt -n | grep -q "/run/peapod/netns/$1" || fail "$2: netns mount left"
        for v in $3; do ! ip link show "$v" >/dev/null 2>&1 || fail "$2: veth $v left"; done
        assert_eq "" "$(allocations "$1")" "$2: IP allocations left"
        ! iptables-save | grep -q "$1" || fail "$2: iptables rules left"
        [ ! -e "/var/lib/peapod/pods/$1/network" ] || [ -z "$(ls "/var/lib/peapod/pods/$1/network")" ] ||
                fail "$2: network records left"
}
kill_daemon() {
        local daemon
        daemon=$(systemctl show -P MainPID peapodd.service)
        [ "$daemon" -gt 0 ] || fail "peapodd not running as a service"
        kill -KILL "$daemon"
        systemctl stop peapodd.service
        wait_for 10 sh -c "! kill -0 $daemon" || fail "peapodd did not die"
}

# 1. Killed while the pod runs; the pod keeps its network; rm cleans up.
$PEAPOD run -d --name "$PFX-a" --port=8090:80 busybox -- sh -c 'mkdir -p /w && echo up >/w/index.html && exec httpd -f -p 80 -h /w' >/dev/null
ida=$(pod_id "$PFX-a")
[ -n "$(allocations "$ida")" ] || fail "no allocation"
va=$(host_veths "$PFX-a")
[ -n "$va" ] || fail "no host veth"
kill_daemon
assert_eq up "$(timeout 5 $WGET -q -O- http://127.0.0.1:8090/)" "port answers with peapodd dead"
systemctl start peapodd.service
assert_eq running "$(pod_state "$PFX-a")" "pod after restart"
$PEAPOD rm --force "$PFX-a"
assert_clean "$ida" "rm after a daemon crash" "$va"

# 2. Killed, then the pod's machine dies behind its back: the restarted
#    daemon finds it gone and runs DEL from the records.
$PEAPOD run -d --name "$PFX-b" --port=8091:80 busybox -- sleep 300 >/dev/null
idb=$(pod_id "$PFX-b")
vb=$(host_veths "$PFX-b")
[ -e "/var/lib/peapod/pods/$idb/network/00.json" ] || fail "no network record"
jq -e '.result.ips[0].address' "/var/lib/peapod/pods/$idb/network/00.json" >/dev/null || fail "record has no result"
kill_daemon
machinectl terminate "$PFX-b"
wait_for 20 sh -c "! machinectl show $PFX-b >/dev/null 2>&1" || fail "machine did not go"
systemctl start peapodd.service
assert_eq exited "$(pod_state "$PFX-b")" "pod after its machine died"
assert_clean "$idb" "reconcile after the machine died" "$vb"
$PEAPOD rm "$PFX-b"

# 3. The netns mount is gone too (as after a reboot, which also empties
#    /run and iptables but keeps host-local's allocations in /var/lib):
#    DEL still releases the IP and portmap's rules from the saved result.
$PEAPOD run -d --name "$PFX-c" --port=8092:80 busybox -- sleep 300 >/dev/null
idc=$(pod_id "$PFX-c")
vc=$(host_veths "$PFX-c")
kill_daemon
machinectl terminate "$PFX-c"
wait_for 20 sh -c "! machinectl show $PFX-c >/dev/null 2>&1" || fail "machine did not go"
umount "/run/peapod/netns/$idc"
rm -f "/run/peapod/netns/$idc"
systemctl start peapodd.service
assert_eq exited "$(pod_state "$PFX-c")" "pod after a 'reboot'"
assert_eq "" "$(allocations "$idc")" "IP allocations after a lost netns"
for v in $vc; do ! ip link show "$v" >/dev/null 2>&1 || fail "veth $v left after a lost netns"; done
[ -z "$(ls "/var/lib/peapod/pods/$idc/network" 2>/dev/null)" ] || fail "records left after a lost netns"
! iptables-save | grep "$idc" | grep -q -e CNI-DN- -e CNI-HOSTPORT || fail "portmap rules left after a lost netns"
# The bridge plugin (1.1.1) finds the addresses whose masquerade rules it
# deletes inside the namespace, so without it they would stay; the shipped
# network has none (peapod masquerades it as a whole, firewall.h): nothing
# of the pod is left in any table.
! iptables-save | grep -q -- "$idc" || fail "rules left after a lost netns: $(iptables-save | grep -- "$idc")"
$PEAPOD rm "$PFX-c"
say ok
