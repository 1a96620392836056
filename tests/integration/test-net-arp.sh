#!/bin/bash
# ARP spoofing between pods: a default app (no NET_RAW) cannot open a
# packet socket, so its forged ARP replies (claiming a victim pod's
# address to the host, and the gateway's address to the victim) are never
# sent, and neither neighbour table changes. An app that retains NET_RAW
# sends them, and the bridge drops them: each pod's port is bound to its
# MAC and addresses (ebtables chain PEAPOD-<id>). Control: with the
# attacker's chain flushed, the host believes the forgery.
. "$(dirname "$0")/lib.sh"

out() {
        local name=$1; shift
        $PEAPOD run -d --name "$PFX-$name" "$PFX-arp" "$@" >/dev/null
        wait_for 30 sh -c "[ \"\$($PEAPOD status --format=json $PFX-$name | jq -r .state)\" = exited ]" ||
                fail "pod $name did not end"
        $PEAPOD logs --no-prefix "$PFX-$name" 2>&1
        echo "exit-status=$($PEAPOD status --format=json "$PFX-$name" | jq -r '.apps[0].status')"
}
app_pid() { # POD APP
        local helper
        helper=$(systemctl show -P MainPID "peapod-$(echo "$1" | sed 's/-/\\x2d/g')-$2.service")
        [ "$helper" -gt 0 ] || return 1
        pgrep -P "$helper" | head -1
}
lladdr() { sed -n 's/.* lladdr \([0-9a-f:]*\).*/\1/p'; }

hostile_image "$PFX-arp" rawnet

# The victim pings the gateway (its neighbour table learns the gateway's
# MAC), the host pings the victim (the host's learns the victim's).
$PEAPOD run -d --name "$PFX-victim" "$PFX-arp" --app-name=victim -- /bin/busybox sh -c \
        '/bin/rawnet ping 10.87.0.1; exec /bin/busybox sleep 300' >/dev/null
wait_for 20 sh -c "$PEAPOD logs $PFX-victim 2>&1 | grep -q 'echo-reply=yes'" || fail "the victim cannot ping the gateway"
pid=$(app_pid "$PFX-victim" victim) || fail "no victim process"
victim=$($PEAPOD status --format=json "$PFX-victim" | jq -r '.networks[0].address' | cut -d/ -f1)
vmac=$(nsenter -t "$pid" -n ip -o link show eth0 | sed -n 's/.* link\/ether \([0-9a-f:]*\).*/\1/p')
gw=10.87.0.1
gwmac=$(cat /sys/class/net/peapod0/address)
busybox ping -c 1 -W 5 "$victim" >/dev/null || fail "the host cannot ping the victim"
assert_eq "$vmac" "$(ip neigh show "$victim" dev peapod0 | lladdr)" "the host's entry for the victim"
assert_eq "$gwmac" "$(nsenter -t "$pid" -n ip neigh show "$gw" dev eth0 | lladdr)" "the victim's entry for the gateway"

# A default app: both forgeries refused at the socket.
o=$(out forge -- /bin/busybox sh -c "/bin/rawnet arp eth0 $victim $gw $gwmac; /bin/rawnet arp eth0 $gw $victim $vmac")
assert_eq 2 "$(echo "$o" | grep -c '^socket=EPERM$')" "both forgeries refused"
assert_not_contains "$o" "arp=sent" "a forged ARP reply was sent"
assert_eq "$vmac" "$(ip neigh show "$victim" dev peapod0 | lladdr)" "the host's entry for the victim after the forgery"
assert_eq "$gwmac" "$(nsenter -t "$pid" -n ip neigh show "$gw" dev eth0 | lladdr)" "the victim's entry for the gateway after the forgery"

# An app that retains NET_RAW: the forgeries leave its socket, and the
# bridge drops them.
$PEAPOD run -d --name "$PFX-attacker" "$PFX-arp" --app-name=attacker --caps-retain=net_raw -- /bin/busybox sleep 300 >/dev/null
wait_for 20 $PEAPOD enter "$PFX-attacker" -- /bin/busybox true || fail "cannot enter the attacker's pod"
aid=$(pod_id "$PFX-attacker")
chain=PEAPOD-${aid:0:20}
amac=$($PEAPOD enter "$PFX-attacker" -- /bin/busybox cat /sys/class/net/eth0/address)
assert_contains "$(ebtables -L "$chain")" "--arp-mac-src ! $amac" "the attacker's port is bound to its MAC"
assert_contains "$(ebtables -L INPUT)" "-j $chain" "jump from the bridge's INPUT"
assert_contains "$(ebtables -L FORWARD)" "-j $chain" "jump from the bridge's FORWARD"
o=$($PEAPOD enter "$PFX-attacker" -- /bin/busybox sh -c "/bin/rawnet arp eth0 $victim $gw $gwmac; /bin/rawnet arp eth0 $gw $victim $vmac")
assert_eq 2 "$(echo "$o" | grep -c '^arp=sent$')" "NET_RAW sends the forgeries"
assert_eq "$vmac" "$(ip neigh show "$victim" dev peapod0 | lladdr)" "the host's entry for the victim after a NET_RAW forgery"
assert_eq "$gwmac" "$(nsenter -t "$pid" -n ip neigh show "$gw" dev eth0 | lladdr)" "the victim's entry for the gateway after a NET_RAW forgery"

# Control: without the binding, the host believes it.
ebtables -F "$chain"
o=$($PEAPOD enter "$PFX-attacker" -- /bin/rawnet arp eth0 "$victim" "$gw" "$gwmac")
assert_contains "$o" "arp=sent" "control: the forgery is sent"
assert_eq "$amac" "$(ip neigh show "$victim" dev peapod0 | lladdr)" "control: the host's entry now names the attacker"

# A stop removes the binding once the DELs have deleted the veths its
# rules name (unwaited for), and the next start binds the port anew, the
# jumps once each: right after the stop (the removal may still be under
# way: the start ends it and replaces what it left), and once it is done.
restarted_bound() {
        wait_for 20 $PEAPOD enter "$PFX-attacker" -- /bin/busybox true || fail "cannot enter the restarted attacker's pod"
        amac=$($PEAPOD enter "$PFX-attacker" -- /bin/busybox cat /sys/class/net/eth0/address)
        assert_contains "$(ebtables -L "$chain")" "--arp-mac-src ! $amac" "the restarted attacker's port is bound to its MAC ($1)"
        assert_eq 1 "$(ebtables -L INPUT | grep -c -- "-j $chain\$")" "jumps from the bridge's INPUT after the restart ($1)"
        assert_eq 1 "$(ebtables -L FORWARD | grep -c -- "-j $chain\$")" "jumps from the bridge's FORWARD after the restart ($1)"
}
$PEAPOD stop "$PFX-attacker" >/dev/null
$PEAPOD start "$PFX-attacker" >/dev/null
restarted_bound "at once"
$PEAPOD stop "$PFX-attacker" >/dev/null
wait_for 20 sh -c "! ebtables -L $chain >/dev/null 2>&1" || fail "the attacker's chain outlived its stop"
assert_not_contains "$(ebtables -L INPUT; ebtables -L FORWARD)" "$chain" "jumps to the stopped pod's chain"
$PEAPOD start "$PFX-attacker" >/dev/null
restarted_bound "after the removal"

# Removal takes the pod's chain and jumps along, also when an operator
# deleted one of the jumps (the unbind's one transaction fails then, and
# each part goes on its own).
ebtables -t filter -D INPUT -j "$chain"
$PEAPOD rm --force "$PFX-attacker" >/dev/null
wait_for 20 sh -c "! ebtables -L $chain >/dev/null 2>&1" || fail "the attacker's chain outlived its pod"
assert_not_contains "$(ebtables -L INPUT; ebtables -L FORWARD)" "$chain" "jumps to the removed pod's chain"

# What a crash between a pod's DELs and its binding's removal leaves (a
# chain of a pod that no longer runs, and its jumps) goes at peapodd's
# next start; the binding of a pod that runs stays.
vid=$(pod_id "$PFX-victim")
stale=PEAPOD-$(head -c 10 /dev/urandom | od -An -tx1 | tr -d ' \n')
ebtables -t filter -N "$stale" -P RETURN
ebtables -t filter -A "$stale" -i vethgone -j DROP
ebtables -t filter -I INPUT 1 -j "$stale"
ebtables -t filter -I FORWARD 1 -j "$stale"
systemctl restart peapodd.service
$PEAPOD list >/dev/null
wait_for 20 sh -c "! ebtables -L $stale >/dev/null 2>&1" || fail "a stale binding outlived peapodd's start"
assert_not_contains "$(ebtables -L INPUT; ebtables -L FORWARD)" "$stale" "jumps to the stale chain"
assert_contains "$(ebtables -L "PEAPOD-${vid:0:20}")" "--arp-mac-src ! $vmac" "the running victim's binding"
say "ok"
