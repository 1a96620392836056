#!/bin/bash
# dbus-daemon never waits for systemd-machined (units/dbus-peapod.conf,
# systemd/systemd#40562): with machined stopped, as it is in effect while
# it waits for one of its synchronous calls to PID 1, the bus still
# reloads its configuration (which resolves its policy's users and
# groups anew) and takes new connections (whose groups it resolves).
# Without the drop-in, nss-systemd in dbus-daemon asks machined's
# userdb socket and the bus hangs until machined answers.
. "$(dirname "$0")/lib.sh"
MACHINED=""
cleanup() {
        [ -z "$MACHINED" ] || kill -CONT "$MACHINED" 2>/dev/null || true
        cleanup_pods
}
trap cleanup EXIT

# It applies from dbus-daemon's next start.
systemctl restart dbus.service
wait_for 30 systemctl is-active --quiet dbus.service || fail "dbus.service did not come back"
pid=$(systemctl show -P MainPID dbus.service)
tr '\0' '\n' <"/proc/$pid/environ" | grep -qx 'SYSTEMD_BYPASS_USERDB=io.systemd.Machine:io.systemd.Multiplexer' ||
        fail "dbus-daemon runs without the drop-in: $(tr '\0' ' ' <"/proc/$pid/environ")"
wait_for 30 sh -c "$PEAPOD list >/dev/null 2>&1" || fail "peapodd does not answer after the bus's restart"

# A pod, so that machined runs and serves its userdb socket.
$PEAPOD run -d --name "$PFX-m" --net=none busybox -- sleep 600 >/dev/null
[ -S /run/systemd/userdb/io.systemd.Machine ] || fail "machined serves no userdb socket: $(ls /run/systemd/userdb)"
MACHINED=$(systemctl show -P MainPID systemd-machined.service)
[ "${MACHINED:-0}" -gt 0 ] || fail "machined is not running"
kill -STOP "$MACHINED"

t0=$(date +%s%N)
busctl call --timeout=20 org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig ||
        fail "ReloadConfig failed while machined was stopped"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 5000 ] || fail "ReloadConfig took $ms ms while machined was stopped"
t0=$(date +%s%N)
timeout 20 $PEAPOD list >/dev/null || fail "peapod list failed while machined was stopped"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 5000 ] || fail "peapod list took $ms ms while machined was stopped"

kill -CONT "$MACHINED"
MACHINED=""
assert_eq running "$($PEAPOD status --format=json "$PFX-m" | jq -r .state)" "the pod's state"
