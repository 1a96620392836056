#!/bin/bash
# The default network is masqueraded by peapod's one rule set for the
# network (firewall.h), not by the bridge plugin's ipMasq, which made and
# deleted a nat chain per pod. A pod that reaches a server beyond the host
# (here in a namespace of its own, routed through the host) arrives with the
# host's address; no pod gets a nat chain of its own; the jump into the
# network's chain is there once however many pods start, and one an
# operator deleted is back at the next start.
. "$(dirname "$0")/lib.sh"

WGET="busybox wget"
tmp=$(mktemp -d)
out=${PFX}out
at_exit 'ip netns pids "$out" 2>/dev/null | xargs -r kill 2>/dev/null; ip netns delete "$out" 2>/dev/null; ip link del pdmq-h 2>/dev/null; rm -rf "$tmp"'

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

# One chain for the network, its jump once; no chain of any pod's own.
nat=$(iptables-save -t nat)
chain=$(printf '%s\n' "$nat" | sed -n 's/^:\(PEAPOD-MASQ-[0-9a-f]*\) .*/\1/p')
[ -n "$chain" ] || fail "no masquerade chain of peapod's: $nat"
assert_eq 1 "$(printf '%s\n' "$nat" | grep -c -- "-A POSTROUTING -j $chain\$")" "jumps into $chain"
assert_contains "$nat" "-A $chain -s 10.87.0.0/16 " "masquerading of the network's subnet"
for a in "$a1" "$a2"; do
        if printf '%s\n' "$nat" | grep -q -- "-s $a/32"; then fail "a nat rule for the pod address $a: $(printf '%s\n' "$nat" | grep -- "-s $a/32")"; fi
done

# Out through the host: the server sees the host's address.
got=$($PEAPOD enter "$PFX-mq1" -- timeout 5 $WGET -q -O- http://198.51.100.2:8080/) || fail "the pod did not reach the outside server"
assert_eq hello-from-outside "$got" "the outside server's page"
wait_for 10 grep -q '"GET / HTTP' "$tmp/http.log" || fail "the server logged no request"
assert_contains "$(cat "$tmp/http.log")" "198.51.100.1 - -" "the request's source, masqueraded"
if grep -q "^$a1 " "$tmp/http.log"; then fail "the pod's own address reached the server: $(cat "$tmp/http.log")"; fi

# Between pods of the network: no masquerading (the pods see each other).
$PEAPOD enter "$PFX-mq2" -- sh -c 'mkdir -p /www && echo hello-from-mq2 >/www/index.html && httpd -p 80 -h /www'
assert_eq hello-from-mq2 "$($PEAPOD enter "$PFX-mq1" -- timeout 5 $WGET -q -O- "http://$a2/")" "pod to pod"

# A jump an operator deleted is back, once, at the next start.
iptables -w 10 -t nat -D POSTROUTING -j "$chain"
$PEAPOD run -d --name "$PFX-mq3" busybox -- sleep 600 >/dev/null
assert_eq 1 "$(iptables-save -t nat | grep -c -- "-A POSTROUTING -j $chain\$")" "jumps into $chain after it was deleted"
$PEAPOD rm --force "$PFX-mq1" "$PFX-mq2" "$PFX-mq3"
