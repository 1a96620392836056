#!/bin/bash
# Apps have no CAP_NET_RAW by default, and ping still works through ICMP
# datagram sockets (as iputils' ping does without privileges): the pod's
# network namespace (not the host's) lets every group open them
# (net.ipv4.ping_group_range), for root and other users alike. A --net=host
# pod has the host's setting, under which a non-root app is refused: the
# check can fail.
. "$(dirname "$0")/lib.sh"

# out NAME APP-OPTIONS... -- CMD... ($POD_OPTS: pod options)
out() {
        local name=$1; shift
        $PEAPOD run -d ${POD_OPTS:-} --name "$PFX-$name" "$PFX-ping" "$@" >/dev/null
        wait_for 30 sh -c "[ \"\$($PEAPOD status --format=json $PFX-$name | jq -r .state)\" = exited ]" ||
                fail "pod $name did not end"
        $PEAPOD logs --no-prefix "$PFX-$name" 2>&1
        echo "exit-status=$($PEAPOD status --format=json "$PFX-$name" | jq -r '.apps[0].status')"
}

hostile_image "$PFX-ping" rawnet
host_range=$(cat /proc/sys/net/ipv4/ping_group_range)
# The gateway is the bridge's address.
PING='/bin/busybox grep CapEff /proc/self/status; /bin/busybox cat /proc/sys/net/ipv4/ping_group_range; /bin/rawnet ping 10.87.0.1'

o=$(out root -- /bin/busybox sh -c "$PING")
assert_contains "$o" "CapEff:	00000000a80405fb" "default caps without NET_RAW"
assert_contains "$o" "0	2147483647" "the pod's ping_group_range"
assert_contains "$o" "echo-reply=yes" "ping from a root app"
assert_contains "$o" "exit-status=0" "ping from a root app"

o=$(out user --user=1000 -- /bin/busybox sh -c "$PING")
assert_contains "$o" "CapEff:	0000000000000000" "a non-root app has no caps"
assert_contains "$o" "echo-reply=yes" "ping from a non-root app"
assert_contains "$o" "exit-status=0" "ping from a non-root app"

# The host's setting is the host's, also for --net=host pods.
assert_eq "$host_range" "$(cat /proc/sys/net/ipv4/ping_group_range)" "the host's ping_group_range"
case "$host_range" in
"1	0")
        o=$(POD_OPTS=--net=host out hostnet --user=1000 -- /bin/busybox sh -c "$PING")
        assert_contains "$o" "$host_range" "a --net=host pod has the host's ping_group_range"
        assert_contains "$o" "icmp-socket=Permission denied" "control: no ICMP socket outside the range"
        ;;
*) say "the host's ping_group_range is $host_range: control skipped" ;;
esac
say "ok"
