#!/bin/bash
# --net=host shares the host's network namespace, --net=none has only lo;
# bad network options are refused with one clear line and change nothing.
. "$(dirname "$0")/lib.sh"

app_pid() { # POD APP
        local helper
        helper=$(systemctl show -P MainPID "peapod-$(echo "$1" | sed 's/-/\\x2d/g')-$2.service")
        [ "$helper" -gt 0 ] || return 1
        pgrep -P "$helper" | head -1
}

# host: the app is in the lab's own network namespace and sees its links.
$PEAPOD run -d --name "$PFX-host" --net=host busybox -- sleep 300 >/dev/null
pid=$(app_pid "$PFX-host" busybox) || fail "no app process"
assert_eq "$(readlink /proc/self/ns/net)" "$(readlink /proc/"$pid"/ns/net)" "host network namespace"
[ "$(readlink /proc/self/ns/uts)" != "$(readlink /proc/"$pid"/ns/uts)" ] || fail "host network pod shares the UTS namespace"
host_links=$(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' ')
pod_links=$(nsenter -t "$pid" -n ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' ')
assert_eq "$host_links" "$pod_links" "links seen from a host-network pod"
st=$($PEAPOD status --format=json "$PFX-host")
assert_eq host "$(echo "$st" | jq -r .network_mode)" "mode host"
assert_eq 0 "$(echo "$st" | jq '.networks | length')" "no CNI address"
[ ! -e "/run/peapod/netns/$(echo "$st" | jq -r .id)" ] || fail "host pod has a netns file"
grep -q "127.0.1.1	$PFX-host" /proc/"$pid"/root/etc/hosts || fail "/etc/hosts lacks the hostname"

# The fly stage1 lives in the host's namespaces: its pods get network host.
$PEAPOD run -d --name "$PFX-fly" --stage1=fly busybox -- sleep 300 >/dev/null
assert_eq host "$($PEAPOD status --format=json "$PFX-fly" | jq -r .network_mode)" "fly pod's network"
$PEAPOD rm --force "$PFX-fly"

# none: its own namespace with lo only, up.
$PEAPOD run -d --name "$PFX-none" --net=none busybox -- sleep 300 >/dev/null
pid=$(app_pid "$PFX-none" busybox) || fail "no app process"
[ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/"$pid"/ns/net)" ] || fail "none pod is in the host's namespace"
assert_eq "lo" "$(nsenter -t "$pid" -n ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ' | sed 's/ $//')" "links of a none pod"
nsenter -t "$pid" -n ip -o link show lo | grep -q "UP" || fail "lo is down"
assert_eq none "$($PEAPOD status --format=json "$PFX-none" | jq -r .network_mode)" "mode none"
# The host's loopback name servers are no use in the pod's own namespace.
if grep -q '^nameserver 127\.' /etc/resolv.conf 2>/dev/null; then
        ! grep -q '^nameserver 127\.' /proc/"$pid"/root/etc/resolv.conf || fail "loopback nameserver copied into a none pod"
fi

# pod create takes the same network options: an empty pod on network none
# with its own hostname; an app added later lives in that namespace.
$PEAPOD pod create --name "$PFX-empty" --net=none --hostname=emptyhost --dns=192.0.2.53 >/dev/null
assert_eq none "$($PEAPOD status --format=json "$PFX-empty" | jq -r .network_mode)" "pod create --net=none"
$PEAPOD app add --start --name=a "$PFX-empty" busybox -- sleep 300 >/dev/null
pid=$(app_pid "$PFX-empty" a) || fail "no process of the added app"
assert_eq "lo" "$(nsenter -t "$pid" -n ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ' | sed 's/ $//')" "links of an added app"
assert_eq emptyhost "$(nsenter -t "$pid" -u hostname)" "hostname of pod create"
grep -q '^nameserver 192\.0\.2\.53$' /proc/"$pid"/root/etc/resolv.conf || fail "--dns of pod create not in resolv.conf"
err=$(must_fail $PEAPOD pod create --name "$PFX-badport" --port=99999:80)
assert_contains "$err" "Invalid --port" "pod create --port checked"
must_fail $PEAPOD status "$PFX-badport" >/dev/null

# Bad values: one line, non-zero, no pod made.
before=$($PEAPOD list --format=json | jq length)
check_refused() { # WHAT NEEDLE ARGS...
        local what=$1 needle=$2 err; shift 2
        err=$(must_fail $PEAPOD run -d --name "$PFX-bad" "$@" busybox -- true)
        assert_contains "$err" "$needle" "$what"
        [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$what: more than one line: $err"
}
check_refused "unknown network" "No CNI network 'nosuchnet'" --net=nosuchnet
check_refused "bad network name" "Invalid --net" --net=a/b
check_refused "host with others" "cannot be combined" --net=host,default
check_refused "empty --net" "Invalid --net" --net=
check_refused "port out of range" "Invalid --port" --port=99999:80
check_refused "port garbage" "Invalid --port" --port=abc
check_refused "port bad proto" "Invalid --port" --port=80:80/sctp
check_refused "port bad ip" "Invalid --port" --port=1.2.3:80:80
check_refused "port on host network" "Ports can only be published" --net=host --port=8080:80
check_refused "bad dns" "Invalid --dns" --dns=not-an-ip
check_refused "bad hostname" "Invalid --hostname" --hostname=-x
check_refused "fly with a CNI network" "uses the host's network" --stage1=fly --net=default
check_refused "fly with a port" "Ports can only be published" --stage1=fly --port=8080:80
# Straight over D-Bus: junk properties are InvalidArgs.
err=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' \
        "$PFX-bad" 1 Ports 'a(ssqq)' 1 icmp '' 1 1 1 '' busybox 0)
assert_contains "$err" "Invalid port protocol" "D-Bus bad port protocol"
err=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' \
        "$PFX-bad" 1 Ports 'a(ssqq)' 1 tcp '' 0 80 1 '' busybox 0)
assert_contains "$err" "Invalid port mapping" "D-Bus port 0"
err=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' \
        "$PFX-bad" 1 Networks s x 1 '' busybox 0)
assert_contains "$err" "must be as" "D-Bus wrong type"
err=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' \
        "$PFX-bad" 1 Color s red 1 '' busybox 0)
assert_contains "$err" "Unknown pod property Color" "D-Bus unknown property"
assert_eq "$before" "$($PEAPOD list --format=json | jq length)" "pods after refused runs"

# A network whose last plugin fails: the start fails with the plugin's
# word, what the first plugins added is deleted again, no pod is left.
conf=/etc/cni/net.d/99-peapodtest-broken.conflist
cat >"$conf" <<'JSON'
{ "cniVersion": "1.0.0", "name": "ptbroken", "plugins": [
  { "type": "bridge", "bridge": "peapodt0", "isGateway": true,
    "ipam": { "type": "host-local", "ranges": [[{ "subnet": "10.99.0.0/24" }]] } },
  { "type": "tuning", "sysctl": { "net.ipv4.conf.eth0.no_such_knob": "1" } } ] }
JSON
trap 'rm -f "$conf"; ip link del peapodt0 2>/dev/null || true; cleanup_pods' EXIT
before=$($PEAPOD list --format=json | jq length)
err=$(must_fail $PEAPOD run -d --name "$PFX-broken" --net=ptbroken busybox -- true)
assert_contains "$err" "tuning" "failing plugin named"
assert_eq "$before" "$($PEAPOD list --format=json | jq length)" "pods after a failed ADD"
assert_eq "" "$(ls /var/lib/cni/networks/ptbroken 2>/dev/null | grep -v -e lock -e last_reserved || true)" "allocations after a failed ADD"
assert_eq "" "$(ip -o link show master peapodt0 2>/dev/null)" "veths on the bridge after a failed ADD"
assert_eq "" "$(ls /run/peapod/netns/)" "netns files after a failed ADD"

# Removal of host/none pods leaves no netns file either.
ids=$($PEAPOD list --format=json | jq -r ".[] | select(.name | startswith(\"$PFX\")) | .id")
$PEAPOD rm --force "$PFX-host" "$PFX-none"
for i in $ids; do [ ! -e "/run/peapod/netns/$i" ] || fail "netns file of $i left"; done
say ok
