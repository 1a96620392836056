#!/bin/bash
# peapod-cri.socket: systemd listens on /run/peapod/cri.sock, the first
# connection starts peapod-cri.service, which serves the passed socket.
# Status follows peapodd: RuntimeReady false (reason PeapodUnavailable,
# a message) while peapodd cannot be started, true again once it can.
. "$(dirname "$0")/lib.sh"
CRIT="$(dirname "$(realpath "$0")")/../cri/crit.py"
SOCK=/run/peapod/cri.sock
systemctl cat peapod-cri.socket >/dev/null 2>&1 || fail "peapod-cri.socket is not installed (its build needs libnghttp2-dev, libprotobuf-c-dev and protobuf-c-compiler: tools/install-deps)"
cleanup() {
        systemctl unmask --runtime peapodd.service >/dev/null 2>&1 || true
        systemctl stop peapod-cri.socket peapod-cri.service >/dev/null 2>&1 || true
}
trap cleanup EXIT

systemctl stop peapod-cri.service peapod-cri.socket 2>/dev/null || true
systemctl start peapod-cri.socket
wait_for 10 test -S "$SOCK" || fail "systemd made no $SOCK"
assert_eq 600 "$(stat -c %a "$SOCK")" "mode of the socket"
assert_eq inactive "$(systemctl is-active peapod-cri.service || true)" "service before the first connection"

assert_eq peapod "$("$CRIT" "$SOCK" version)" "Version through the activated socket"
assert_eq active "$(systemctl is-active peapod-cri.service)" "service after the first connection"
pid=$(systemctl show -P MainPID peapod-cri.service)
st=$("$CRIT" "$SOCK" status)
assert_eq true "$(echo "$st" | jq .RuntimeReady.status)" "RuntimeReady with peapodd there"
"$CRIT" "$SOCK" basics || fail "the gRPC checks failed through the activated socket"

# peapodd cannot be started: not ready, with a reason; the CRI server stays.
systemctl mask --runtime peapodd.service >/dev/null
systemctl stop peapodd.service
st=$("$CRIT" "$SOCK" status)
assert_eq false "$(echo "$st" | jq .RuntimeReady.status)" "RuntimeReady without peapodd"
assert_eq PeapodUnavailable "$(echo "$st" | jq -r .RuntimeReady.reason)" "reason"
assert_contains "$(echo "$st" | jq -r .RuntimeReady.message)" "peapodd does not answer" "message"
systemctl unmask --runtime peapodd.service >/dev/null
st=$("$CRIT" "$SOCK" status)
assert_eq true "$(echo "$st" | jq .RuntimeReady.status)" "RuntimeReady once peapodd can start again"
assert_eq "$pid" "$(systemctl show -P MainPID peapod-cri.service)" "the same peapod-cri all along"

# Stopping the service leaves the socket listening; the next call starts it again.
systemctl stop peapod-cri.service
assert_eq peapod "$("$CRIT" "$SOCK" version)" "Version after a stop of the service"
assert_eq active "$(systemctl is-active peapod-cri.service)" "service started again by the socket"
say "ok"
