#!/bin/bash
# The default network is masqueraded and let through FORWARD by peapod's
# rule sets for the network (firewall.h), not by the bridge plugin's
# ipMasq and the firewall plugin, which made and deleted rules for every
# pod. A pod that reaches a server beyond the host (here in a namespace of
# its own, routed through the host) arrives with the host's address, also
# when the host's FORWARD policy drops (as docker sets it); no pod gets a
# rule of its own; each jump into the network's chains is there once
# however many pods start, and one an operator deleted is back at the next
# start.
. "$(dirname "$0")/lib.sh"

WGET="busybox wget"
tmp=$(mktemp -d)
out=${PFX}out
policy=$(iptables -w 10 -S FORWARD | sed -n 's/^-P FORWARD //p')
at_exit 'iptables -w 10 -P FORWARD "$policy"; ip netns pids "$out" 2>/dev/null | xargs -r kill 2>/dev/null; ip netns delete "$out" 2>/dev/null; ip link del pdmq-h 2>/dev/null; rm -rf "$tmp"'

# "Outside": 198.51.100.2, whose way back to anything goes through the
# host (198.51.100.1): without masquerading it would see the pod's own
# address, and answer it through the host all the same.
ip netns add "$out"
ip link add pdmq-h type veth peer name pdmq-o netns "$out"
ip addr add 198.51.100.1/24 dev pdmq-h
ip link set pdmq-h up
ip -n "$out" addr add 198.51.100.2/24 dev pdmq-o
ip -n "$out" link set pdmq-o up
ip -n "$out" link set lo up
ip -n "$out" route add default via 198.51.100.1
mkdir "$tmp/www" && echo hello-from-outside >"$tmp/www/index.html"
ip netns exec "$out" python3 -m http.server --bind 198.51.100.2 --directory "$tmp/www" 8080 2>"$tmp/http.log" >/dev/null &
wait_for 20 sh -c "ip netns exec '$out' python3 -c 'import socket; socket.create_connection((\"198.51.100.2\", 8080), 1)' 2>/dev/null" ||
        fail "the outside server did not come up"

$PEAPOD run -d --name "$PFX-mq1" busybox -- sleep 600 >/dev/null
$PEAPOD run -d --name "$PFX-mq2" busybox -- sleep 600 >/dev/null
a1=$($PEAPOD status --format=json "$PFX-mq1" | jq -r '.networks[0].address' | cut -d/ -f1)
a2=$($PEAPOD status --format=json "$PFX-mq2" | jq -r '.networks[0].address' | cut -d/ -f1)
case "$a1" in 10.87.*) ;; *) fail "pod address $a1 not in 10.87.0.0/16" ;; esac

# network_chain TABLE BASE PREFIX RULE: the network's one chain PREFIX* in
# TABLE (printed), jumped to once from BASE, with RULE (the subnet's); no
# rule of TABLE names a pod's address.
network_chain() {
        local rules chain a
        rules=$(iptables-save -t "$1")
        chain=$(printf '%s\n' "$rules" | sed -n "s/^:\($3[0-9a-f]*\) .*/\1/p")
        [ -n "$chain" ] || fail "no chain $3* of peapod's in $1: $rules"
        assert_eq 1 "$(printf '%s\n' "$rules" | grep -c -- "-A $2 -j $chain\$")" "jumps into $chain"
        assert_contains "$rules" "-A $chain $4" "the network's rule in $chain"
        for a in "$a1" "$a2"; do
                if printf '%s\n' "$rules" | grep -q -- "$a/32"; then
                        fail "a $1 rule for the pod address $a: $(printf '%s\n' "$rules" | grep -- "$a/32")"
                fi
        done
        echo "$chain"
}
# Masquerading and forwarding, one chain each for the network.
chain=$(network_chain nat POSTROUTING PEAPOD-MASQ- "-s 10.87.0.0/16 ") || exit 1
fwd=$(network_chain filter FORWARD PEAPOD-FWD- "-s 10.87.0.0/16 -i peapod0 ") || exit 1

# Out through the host, whose FORWARD drops all else (docker's policy):
# the server sees the host's address.
iptables -w 10 -P FORWARD DROP
got=$($PEAPOD enter "$PFX-mq1" -- timeout 5 $WGET -q -O- http://198.51.100.2:8080/) || fail "the pod did not reach the outside server"
assert_eq hello-from-outside "$got" "the outside server's page"
wait_for 10 grep -q '"GET / HTTP' "$tmp/http.log" || fail "the server logged no request"
assert_contains "$(cat "$tmp/http.log")" "198.51.100.1 - -" "the request's source, masqueraded"
if grep -q "^$a1 " "$tmp/http.log"; then fail "the pod's own address reached the server: $(cat "$tmp/http.log")"; fi

# Between pods of the network: no masquerading (the pods see each other).
$PEAPOD enter "$PFX-mq2" -- sh -c 'mkdir -p /www && echo hello-from-mq2 >/www/index.html && httpd -p 80 -h /www'
assert_eq hello-from-mq2 "$($PEAPOD enter "$PFX-mq1" -- timeout 5 $WGET -q -O- "http://$a2/")" "pod to pod"

# Without the forwarding jump that policy drops the pod's traffic (the
# rule is what lets it through); jumps an operator deleted are back, once,
# at the next start.
iptables -w 10 -t nat -D POSTROUTING -j "$chain"
iptables -w 10 -D FORWARD -j "$fwd"
if $PEAPOD enter "$PFX-mq1" -- timeout 3 $WGET -q -O- http://198.51.100.2:8080/ >/dev/null 2>&1; then
        fail "the pod reached the outside server through a FORWARD that drops, without peapod's rule"
fi
$PEAPOD run -d --name "$PFX-mq3" busybox -- sleep 600 >/dev/null
assert_eq 1 "$(iptables-save -t nat | grep -c -- "-A POSTROUTING -j $chain\$")" "jumps into $chain after it was deleted"
assert_eq 1 "$(iptables-save -t filter | grep -c -- "-A FORWARD -j $fwd\$")" "jumps into $fwd after it was deleted"
got=$($PEAPOD enter "$PFX-mq1" -- timeout 5 $WGET -q -O- http://198.51.100.2:8080/) || fail "the pod did not reach the outside server once its rule was back"
assert_eq hello-from-outside "$got" "the outside server's page, the forwarding back"
$PEAPOD rm --force "$PFX-mq1" "$PFX-mq2" "$PFX-mq3"
