#!/bin/bash
# A host port goes to one pod: a second pod publishing it (on the same or
# every address) is refused with the pod that holds it, and so is a port
# that a program on the host has bound; an exited pod frees its ports.
# status (text and JSON) shows them.
. "$(dirname "$0")/lib.sh"

holder_pid=
tmp=$(mktemp -d)
cleanup() {
        [ -z "$holder_pid" ] || kill "$holder_pid" 2>/dev/null || true
        cleanup_pods
        rm -rf "$tmp"
}
trap cleanup EXIT

$PEAPOD run -d --name "${PFX}web" --port=18080:80 --port=127.0.0.1:18081:80/tcp --port=18082:53/udp busybox -- sleep 600 >/dev/null

o=$($PEAPOD status "${PFX}web")
assert_contains "$o" "Ports: 0.0.0.0:18080->80/tcp" "status shows the port on every address"
assert_contains "$o" "127.0.0.1:18081->80/tcp" "status shows the port on 127.0.0.1"
assert_contains "$o" "0.0.0.0:18082->53/udp" "status shows the udp port"
assert_eq '18080 18081 18082' "$($PEAPOD status --format=json "${PFX}web" | jq -r '[.ports[].host_port] | join(" ")')" "ports in JSON"
assert_eq '"127.0.0.1" "tcp" 80' "$($PEAPOD status --format=json "${PFX}web" | jq -r '.ports[1] | "\"\(.host_ip)\" \"\(.protocol)\" \(.pod_port)"')" "a port's fields in JSON"
# list too, as podman ps shows them.
assert_contains "$($PEAPOD list | grep "${PFX}web")" "0.0.0.0:18080->80/tcp, 127.0.0.1:18081->80/tcp, 0.0.0.0:18082->53/udp" "list shows the ports"
assert_eq '18080 18081 18082' "$($PEAPOD list --format=json | jq -r ".[] | select(.name == \"${PFX}web\") | [.ports[].host_port] | join(\" \")")" "list's JSON shows the ports"

# The same port, another pod: refused at creation (run and pod create),
# with who holds it; nothing is left of the refused pod.
o=$(must_fail $PEAPOD run -d --name "${PFX}dup" --port=18080:81 busybox -- sleep 600)
assert_contains "$o" "Host port 18080/tcp is published by pod ${PFX}web already" "a second pod on the same port"
o=$(must_fail $PEAPOD pod create --name "${PFX}dup2" --port=127.0.0.1:18080:80)
assert_contains "$o" "published by pod ${PFX}web" "one address of a port published on every address"
o=$(must_fail $PEAPOD run -d --name "${PFX}dup3" --port=18081:80 busybox -- true)
assert_contains "$o" "Host port 18081/tcp is published by pod ${PFX}web" "every address of a port published on one"
o=$(must_fail $PEAPOD run -d --name "${PFX}twice" --port=18090:80 --port=127.0.0.1:18090:81 busybox -- true)
assert_contains "$o" "Host port 18090/tcp is published twice" "one pod, one port twice"
for n in dup dup2 dup3 twice; do
        must_fail $PEAPOD status "${PFX}$n" >/dev/null
done
# Another protocol or another address is another socket.
$PEAPOD run -d --name "${PFX}udp" --port=18080:80/udp busybox -- sleep 600 >/dev/null
$PEAPOD run -d --name "${PFX}other" --port=127.0.0.2:18081:80 busybox -- sleep 600 >/dev/null

# A port bound by a program on the host.
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 18099)); s.listen(); print("up", flush=True); time.sleep(600)' >"$tmp/holder.out" &
holder_pid=$!
wait_for 10 grep -q up "$tmp/holder.out" || fail "the host program did not bind"
o=$(must_fail $PEAPOD run -d --name "${PFX}host" --port=18099:80 busybox -- true)
assert_contains "$o" "Host port 18099/tcp is in use on the host" "a port bound on the host"
kill "$holder_pid"; wait "$holder_pid" 2>/dev/null || true; holder_pid=

# An exited pod frees its ports; a pod that is up (an empty one made by
# 'pod create' too) holds them.
$PEAPOD stop "${PFX}web" >/dev/null
$PEAPOD run -d --name "${PFX}next" --port=18080:80 busybox -- sleep 600 >/dev/null
assert_eq running "$(pod_state "${PFX}next")" "a port of an exited pod"
$PEAPOD pod create --name "${PFX}empty" --port=18101:80 >/dev/null
o=$(must_fail $PEAPOD run -d --name "${PFX}dup4" --port=18101:80 busybox -- true)
assert_contains "$o" "published by pod ${PFX}empty" "a port of an empty pod"
say ok
