#!/bin/bash
# IP source spoofing from a pod that retains NET_RAW: UDP datagrams to a
# listener of the host's, sent from the pod's own address (they arrive),
# from another pod's address (the pod's bridge port drops them) and from
# 127.0.0.2 (dropped too, and without the port binding still by the
# loopback guard: route_localnet admits any 127/8 source but the host's
# own addresses, which the kernel refuses anyway). Controls: with the pod's
# bridge chain flushed the other pod's address gets through; with the
# loopback guard's jump deleted as well, so does 127.0.0.2.
. "$(dirname "$0")/lib.sh"

UPORT=18998
LISTENER=""
LOG=$(mktemp)
cleanup() {
        cleanup_pods
        [ -z "$LISTENER" ] || { kill "$LISTENER" 2>/dev/null || true; wait "$LISTENER" 2>/dev/null || true; }
        rm -f "$LOG"
}
trap cleanup EXIT

hostile_image "$PFX-spoof" rawnet
python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(512)
    print(a[0], d.decode(errors="replace"), flush=True)' "$UPORT" >"$LOG" &
LISTENER=$!

# A published port, so that route_localnet is on whatever ran before.
$PEAPOD run -d --name "$PFX-web" --port=18997:80 busybox -- sleep 300 >/dev/null
$PEAPOD run -d --name "$PFX-other" busybox -- sleep 300 >/dev/null
$PEAPOD run -d --name "$PFX-attacker" "$PFX-spoof" --app-name=attacker --caps-retain=net_raw -- /bin/busybox sleep 300 >/dev/null
wait_for 20 $PEAPOD enter "$PFX-attacker" -- /bin/busybox true || fail "cannot enter the attacker's pod"
assert_eq 1 "$(sysctl -n net.ipv4.conf.peapod0.route_localnet)" "route_localnet on the bridge"
gw=10.87.0.1
gwmac=$(cat /sys/class/net/peapod0/address)
me=$($PEAPOD status --format=json "$PFX-attacker" | jq -r '.networks[0].address' | cut -d/ -f1)
other=$($PEAPOD status --format=json "$PFX-other" | jq -r '.networks[0].address' | cut -d/ -f1)
chain=PEAPOD-$(pod_id "$PFX-attacker" | cut -c1-20)
send() { # SRC TEXT
        $PEAPOD enter "$PFX-attacker" -- /bin/rawnet udp eth0 "$gwmac" "$1" "$gw" "$UPORT" "$2" | grep -q udp=sent ||
                fail "rawnet udp from $1 failed"
}
received() { grep -q " $1\$" "$LOG"; }

send "$me" own-1
wait_for 10 received own-1 || fail "a datagram from the pod's own address did not arrive"
assert_eq "$me own-1" "$(grep -m1 own-1 "$LOG")" "sender of the genuine datagram"
send "$other" other-1
send 127.0.0.2 loop-1
send "$me" own-2 # a datagram sent after the forged ones: they had their chance
wait_for 10 received own-2 || fail "the second genuine datagram did not arrive"
! received other-1 || fail "a datagram from another pod's address arrived"
! received loop-1 || fail "a datagram from 127.0.0.2 arrived"

# Control: without the port binding, the other pod's address passes; the
# loopback guard still holds.
ebtables -F "$chain"
send "$other" other-2
send 127.0.0.2 loop-2
send "$me" own-3
wait_for 10 received own-3 || fail "the third genuine datagram did not arrive"
wait_for 10 received other-2 || fail "control: a forged source did not pass an unbound port"
! received loop-2 || fail "a datagram from 127.0.0.2 passed the loopback guard"

# Control: without the guard as well, 127.0.0.2 passes.
iptables -D INPUT -j PEAPOD-LOOPBACK
send 127.0.0.2 loop-3
wait_for 10 received loop-3 || fail "control: a 127.0.0.2 source did not pass without the guard"
iptables -I INPUT 1 -j PEAPOD-LOOPBACK
say "ok"
