#!/bin/bash
# Loopback stays loopback (the class of Kubernetes' CVE-2020-8558): once a
# pod publishes a port, portmap turns on route_localnet on the bridge; a
# hostile app then addresses a TCP SYN for 127.0.0.1 to the gateway's MAC.
# A default app cannot even open a raw socket; one that retains NET_RAW
# gets no answer from a service bound to the host's 127.0.0.1 (no SYN-ACK,
# no RST), while published ports still answer on 127.0.0.1 and on the
# bridge address. Without peapod's guard the same frame is answered: the
# check can fail.
. "$(dirname "$0")/lib.sh"

WGET="busybox wget"
LPORT=18999
SVC_PID=""
WWW=$(mktemp -d)
cleanup() {
        cleanup_pods
        iptables -D INPUT -i peapod0 -j ACCEPT -m comment --comment "$PFX-before-the-guard" 2>/dev/null || true
        [ -z "$SVC_PID" ] || { kill "$SVC_PID" 2>/dev/null || true; wait "$SVC_PID" 2>/dev/null || true; }
        rm -rf "$WWW"
}
trap cleanup EXIT

# out NAME APP-OPTIONS... -- CMD...: runs one app of the hostile image to
# its end; prints what it wrote and "exit-status=N".
out() {
        local name=$1; shift
        $PEAPOD run -d --name "$PFX-$name" "$PFX-raw" "$@" >/dev/null
        wait_for 30 sh -c "[ \"\$($PEAPOD status --format=json $PFX-$name | jq -r .state)\" = exited ]" ||
                fail "pod $name did not end"
        $PEAPOD logs --no-prefix "$PFX-$name" 2>&1
        echo "exit-status=$($PEAPOD status --format=json "$PFX-$name" | jq -r '.apps[0].status')"
}
jumps() { iptables -S "$1" | grep -c -- "-j PEAPOD-LOOPBACK$" || true; }

hostile_image "$PFX-raw" rawnet

# A service of the host's bound to 127.0.0.1 only.
echo secret-of-the-host >"$WWW/index.html"
busybox httpd -f -p "127.0.0.1:$LPORT" -h "$WWW" &
SVC_PID=$!
wait_for 10 sh -c "$WGET -q -O- http://127.0.0.1:$LPORT/ | grep -q secret-of-the-host" || fail "the host's service does not answer"

# A pod that publishes ports: portmap's snat sets route_localnet, which the
# attack needs (kept: it is what makes 127.0.0.1:8080 answer below).
$PEAPOD run -d --name "$PFX-web" --port=8080:80 busybox -- sh -c \
        'mkdir -p /www && echo hello-from-web >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
gw=$(ip -o -4 addr show peapod0 | awk '{print $4}' | cut -d/ -f1)
gwmac=$(cat /sys/class/net/peapod0/address)
wait_for 10 sh -c "$WGET -q -O- http://127.0.0.1:8080/ | grep -q hello-from-web" || fail "published port does not answer on 127.0.0.1"
assert_eq 1 "$(sysctl -n net.ipv4.conf.peapod0.route_localnet)" "route_localnet on the bridge (portmap snat)"

# peapod's guard: its own chain, jumped to once from INPUT and FORWARD.
assert_eq 1 "$(jumps INPUT)" "one jump from INPUT"
assert_eq 1 "$(jumps FORWARD)" "one jump from FORWARD"
rules=$(iptables -S PEAPOD-LOOPBACK)
assert_contains "$rules" "-A PEAPOD-LOOPBACK -d 127.0.0.0/8 ! -i lo -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT" "drop rule for 127.0.0.0/8"
assert_eq 2 "$(echo "$rules" | grep -c -- "-j DROP")" "two drop rules"

# (1) A default app has no NET_RAW: no raw socket at all.
o=$(out open -- /bin/rawnet open)
assert_contains "$o" "packet=EPERM" "AF_PACKET refused to a default app"
assert_contains "$o" "inet-raw=EPERM" "SOCK_RAW refused to a default app"
assert_contains "$o" "exit-status=0" "rawnet open"

# (2) An app that retains NET_RAW gets its raw socket, and its SYN to the
# host's 127.0.0.1 through the gateway goes unanswered. It pings the
# gateway first, as an attacker would: the host must know its MAC to
# answer (the host's own ARP request would come from 127.0.0.1, which the
# pod ignores). The attacks run with `enter` in one pod, whose start is
# the last network setup before the control below.
$PEAPOD run -d --name "$PFX-attacker" "$PFX-raw" --caps-retain=net_raw -- /bin/busybox sleep 300 >/dev/null
wait_for 20 $PEAPOD enter "$PFX-attacker" -- /bin/busybox true || fail "cannot enter the attacker's pod"
attack() { $PEAPOD enter "$PFX-attacker" -- sh -c "ping -c 1 -W 2 $gw >/dev/null; /bin/rawnet syn eth0 $gwmac $LPORT" 2>&1 || true; }
o=$(attack)
assert_contains "$o" "answer=none" "SYN to the host's 127.0.0.1 answered"

# Published ports still answer, on 127.0.0.1 and on the bridge's address.
assert_eq hello-from-web "$(timeout 5 $WGET -q -O- http://127.0.0.1:8080/)" "port 8080 on 127.0.0.1"
assert_eq hello-from-web "$(timeout 5 $WGET -q -O- "http://$gw:8080/")" "port 8080 on the bridge address"

# (3) Control: without the guard the same frame reaches the service.
iptables -D INPUT -j PEAPOD-LOOPBACK
o=$(attack)
assert_contains "$o" "answer=SYN-ACK" "control: the unguarded host answers"

# The next pod's network setup puts the guard back, once.
$PEAPOD run -d --name "$PFX-again" busybox -- sleep 300 >/dev/null
assert_eq 1 "$(jumps INPUT)" "jump from INPUT restored, once"
assert_eq 1 "$(jumps FORWARD)" "still one jump from FORWARD"
o=$(attack)
assert_contains "$o" "answer=none" "SYN to the host's 127.0.0.1 answered after the repair"

# A rule the host puts before the jump (its own ACCEPT, say) does not stay
# before it: the next pod's setup moves the jump first again.
iptables -I INPUT 1 -i peapod0 -j ACCEPT -m comment --comment "$PFX-before-the-guard"
$PEAPOD run -d --name "$PFX-third" busybox -- sleep 300 >/dev/null
assert_eq "-A INPUT -j PEAPOD-LOOPBACK" "$(iptables -S INPUT | sed -n 2p)" "the guard's jump first in INPUT"
assert_eq 1 "$(jumps INPUT)" "still one jump from INPUT"
iptables -D INPUT -i peapod0 -j ACCEPT -m comment --comment "$PFX-before-the-guard"
# The same with a rule longer than a line buffer (the look reads every
# line whole, however long).
long=$(printf 'x%.0s' $(seq 1 250))
iptables -I INPUT 1 -i peapod0 -m comment --comment "$PFX-a-$long" -m comment --comment "$PFX-b-$long" -j ACCEPT
[ "$(iptables -S INPUT | sed -n 2p | wc -c)" -gt 512 ] || fail "the long rule is not that long: $(iptables -S INPUT | sed -n 2p)"
$PEAPOD run -d --name "$PFX-long" busybox -- sleep 300 >/dev/null
assert_eq "-A INPUT -j PEAPOD-LOOPBACK" "$(iptables -S INPUT | sed -n 2p)" "the guard's jump first in INPUT, before a long rule"
iptables -D INPUT -i peapod0 -m comment --comment "$PFX-a-$long" -m comment --comment "$PFX-b-$long" -j ACCEPT

# Each setup looks at the guard first and installs it again only when it
# is not whole: rules flushed from its chain (a firewall reload that keeps
# the chain, say) are back at the next pod's setup.
iptables -F PEAPOD-LOOPBACK
$PEAPOD run -d --name "$PFX-fourth" busybox -- sleep 300 >/dev/null
assert_eq 2 "$(iptables -S PEAPOD-LOOPBACK | grep -c -- "-j DROP")" "the guard's rules back after a flush"
assert_eq 1 "$(jumps INPUT)" "one jump from INPUT after the flush"
o=$(attack)
assert_contains "$o" "answer=none" "SYN to the host's 127.0.0.1 answered after the flush"
say "ok"
