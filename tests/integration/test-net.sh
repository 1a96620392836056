#!/bin/bash
# The default CNI network (bridge + host-local + portmap + firewall, real
# plugins): two pods reach each other by address, a published port answers
# from the host on the bridge address and on 127.0.0.1, the pod's /etc
# files and addresses are what it was given, and removal leaves nothing
# behind (netns mount, veth, IP allocation, portmap rules).
. "$(dirname "$0")/lib.sh"

NETDIR=/var/lib/cni/networks/peapod
# busybox wget -T crashes (Debian busybox-static): time out with timeout(1).
WGET="busybox wget"

# The app's process (the helper's child) sees the app's root and namespaces.
app_pid() { # POD APP
        local helper
        helper=$(systemctl show -P MainPID "peapod-$(echo "$1" | sed 's/-/\\x2d/g')-$2.service")
        [ "$helper" -gt 0 ] || return 1
        pgrep -P "$helper" | head -1
}
addr_of() { $PEAPOD status --format=json "$1" | jq -r '.networks[0].address' | cut -d/ -f1; }

$PEAPOD run -d --name "$PFX-web" --hostname=webhost --dns=192.0.2.53 --dns-search=example.test \
        --port=8080:80 --port=127.0.0.1:8081:80/tcp \
        busybox -- sh -c 'mkdir -p /www && echo hello-from-web >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
id=$(pod_id "$PFX-web")
st=$($PEAPOD status --format=json "$PFX-web")
assert_eq cni "$(echo "$st" | jq -r .network_mode)" "network mode"
assert_eq webhost "$(echo "$st" | jq -r .hostname)" "hostname in status"
assert_eq 1 "$(echo "$st" | jq '.networks | length')" "one address"
assert_eq peapod "$(echo "$st" | jq -r '.networks[0].network')" "network name"
assert_eq eth0 "$(echo "$st" | jq -r '.networks[0].ifname')" "interface"
web=$(addr_of "$PFX-web")
case "$web" in 10.87.*) ;; *) fail "address $web not in 10.87.0.0/16" ;; esac
[ -e "$NETDIR/$web" ] || fail "host-local has no allocation for $web"
grep -q "$id" "$NETDIR/$web" || fail "allocation of $web is not the pod's"
$PEAPOD status "$PFX-web" | grep -q "Address: $web/16 (eth0, peapod)" || fail "text status shows no address"

# The same over D-Bus.
path=$(busctl call org.peapod1 /org/peapod1 org.peapod1.Manager GetPod s "$PFX-web" | awk '{print $2}' | tr -d '"')
prop=$(busctl get-property org.peapod1 "$path" org.peapod1.Pod Networks)
assert_eq "a(sss) 1 \"peapod\" \"eth0\" \"$web/16\"" "$prop" "Networks property"
assert_eq 's "webhost"' "$(busctl get-property org.peapod1 "$path" org.peapod1.Pod Hostname)" "Hostname property"
ports=$(busctl get-property org.peapod1 "$path" org.peapod1.Pod Ports)
assert_eq 'a(ssqq) 2 "tcp" "" 8080 80 "tcp" "127.0.0.1" 8081 80' "$ports" "Ports property"

# machined knows the host side of the pod's link.
mpath=$(busctl call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager GetMachine s "$PFX-web" | awk '{print $2}' | tr -d '"')
ifaces=$(busctl get-property org.freedesktop.machine1 "$mpath" org.freedesktop.machine1.Machine NetworkInterfaces | cut -d' ' -f3-)
[ -n "$ifaces" ] || fail "machined lists no interface"
veths=""
for i in $ifaces; do
        name=$(ip -o link show | awk -F': ' -v i="$i" '$1 == i { print $2 }' | cut -d@ -f1)
        case "$name" in veth*) ;; *) fail "machine interface $i is '$name', not a veth" ;; esac
        veths="$veths $name"
done

# Inside the pod: its address on eth0, its files.
pid=$(app_pid "$PFX-web" busybox) || fail "no app process"
nsenter -t "$pid" -n ip -o -4 addr show eth0 | grep -q "$web/16" || fail "eth0 in the pod lacks $web"
hosts=$(cat /proc/"$pid"/root/etc/hosts)
assert_contains "$hosts" "127.0.0.1	localhost" "/etc/hosts localhost"
assert_contains "$hosts" "$web	webhost" "/etc/hosts has the pod's address and hostname"
resolv=$(cat /proc/"$pid"/root/etc/resolv.conf)
assert_contains "$resolv" "nameserver 192.0.2.53" "resolv.conf nameserver"
assert_contains "$resolv" "search example.test" "resolv.conf search"
assert_eq webhost "$(cat /proc/"$pid"/root/etc/hostname)" "/etc/hostname"
assert_eq webhost "$(nsenter -t "$pid" -u hostname)" "UTS hostname"
# Read-only for the app.
findmnt -N "$pid" -n -o OPTIONS /etc/hosts | grep -q '^ro' || fail "/etc/hosts is not read-only in the app"

# A second pod reaches the first by address. (Its app sleeps first: an app
# that exits within its unit's start job makes the start fail.)
$PEAPOD run -d --name "$PFX-client" busybox -- sh -c "sleep 1; timeout 5 $WGET -q -O- http://$web/ | grep -q hello-from-web" >/dev/null
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-client | jq -r .state)\" = exited ]" || fail "client did not finish"
cst=$($PEAPOD status --format=json "$PFX-client")
assert_eq "exited 0" "$(echo "$cst" | jq -r '.apps[0] | "\(.result) \(.status)"')" "client fetched the page by address"
cid=$(pod_id "$PFX-client")
# Its DELs run right after its exit is reported (never delaying it).
wait_for 20 sh -c "[ -z \"\$(grep -l -r -- $cid $NETDIR)\" ]" || fail "the exited client still holds an address"
# And one that fetches a wrong address fails: the check above can fail.
$PEAPOD run -d --name "$PFX-client2" busybox -- sh -c "sleep 1; timeout 2 $WGET -q -O- http://$web:81/" >/dev/null
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-client2 | jq -r .state)\" = exited ]" || fail "client2 did not finish"
[ "$($PEAPOD status --format=json "$PFX-client2" | jq -r '.apps[0].status')" != 0 ] || fail "fetch from a closed port succeeded"

# Published ports: from the host on the bridge's address and on 127.0.0.1.
gw=$(ip -o -4 addr show peapod0 | awk '{print $4}' | cut -d/ -f1)
assert_eq 10.87.0.1 "$gw" "bridge address"
assert_eq hello-from-web "$(timeout 5 $WGET -q -O- "http://$gw:8080/")" "port 8080 on the bridge address"
assert_eq hello-from-web "$(timeout 5 $WGET -q -O- http://127.0.0.1:8080/)" "port 8080 on 127.0.0.1"
assert_eq hello-from-web "$(timeout 5 $WGET -q -O- http://127.0.0.1:8081/)" "port 8081 bound to 127.0.0.1"
if timeout 2 $WGET -q -O- "http://$gw:8081/" >/dev/null 2>&1; then fail "port 8081 answers beyond 127.0.0.1"; fi
iptables-save -t nat | grep -q "$id" || fail "no portmap rules name the pod"

# Removal: nothing of the pod's network is left.
[ -e "/run/peapod/netns/$id" ] || fail "no netns file while the pod runs"
$PEAPOD rm --force "$PFX-web" "$PFX-client" "$PFX-client2"
[ ! -e "/run/peapod/netns/$id" ] || fail "netns file left"
! findmnt -n | grep -q "/run/peapod/netns/" || fail "netns mount left"
for v in $veths; do ! ip link show "$v" >/dev/null 2>&1 || fail "veth $v left"; done
[ -z "$(grep -l -r -- "$id" "$NETDIR" || true)" ] || fail "IP allocation left"
[ ! -e "$NETDIR/$web" ] || fail "address $web still allocated"
! iptables-save | grep -q "$id" || fail "iptables rules of the pod left"
if timeout 2 $WGET -q -O- http://127.0.0.1:8080/ >/dev/null 2>&1; then fail "port 8080 still answers"; fi
say "ok"
