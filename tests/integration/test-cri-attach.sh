#!/bin/bash
# CRI Attach (tests/cri/attacht.py, over WebSocket and SPDY) to containers
# made through the CRI with stdin: what is typed reaches the app, its
# stdout and stderr come back apart, to several attachers at once; the
# app's stdin outlives its attachers (and a restart of peapodd: systemd's
# fd store keeps peapodd's end, a terminal's master too), or with
# stdin_once ends when the first
# leaves; an app that ends while attached ends the stream well; a stopped
# or unknown container is an error on the stream; a tty container is on a
# terminal made in the pod, its output in its log, input and resizes from
# attachers. The echo container's CRI log file has every line, once.
# Afterwards peapod-cri and peapodd hold as many fds as before.
. "$(dirname "$0")/lib.sh"
CRI=${CRI:-/usr/libexec/peapod/peapod-cri}
ATTACHT="$(dirname "$(realpath "$0")")/../cri/attacht.py"
[ -x "$CRI" ] || fail "$CRI is not installed (its build needs libnghttp2-dev, libprotobuf-c-dev and protobuf-c-compiler: tools/install-deps)"
python3 -c 'import websocket' 2>/dev/null || fail "python3-websocket is missing (tools/install-deps)"
T=$(mktemp -d)
PID=""
k8s_pods() { $PEAPOD list --format=json | jq -r '.[] | select(.name | startswith("k8s-")) | .id'; }
cleanup() {
        [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
        for p in $(k8s_pods 2>/dev/null); do $PEAPOD rm --force "$p" >/dev/null 2>&1 || true; done
        rm -rf "$T"
}
trap cleanup EXIT
daemon_fds() { ls "/proc/$(systemctl show -P MainPID peapodd.service)/fd" | wc -l; }

"$CRI" --listen="$T/cri.sock" 2>"$T/log" &
PID=$!
wait_for 10 test -S "$T/cri.sock" || fail "peapod-cri made no socket: $(cat "$T/log")"
"$ATTACHT" "$T/cri.sock" setup "$T/made.json" || fail "setup: $(tail -5 "$T/log")"
fds_before=$(ls /proc/$PID/fd | wc -l)

"$ATTACHT" "$T/cri.sock" attach "$T/made.json" || fail "attach checks failed: $(tail -5 "$T/log")"
"$ATTACHT" "$T/cri.sock" logs "$T/made.json" || fail "the log file"

# peapodd restarts: the app's stdin stays open (the app did not read EOF).
daemon=$(systemctl show -P MainPID peapodd.service)
[ "$daemon" -gt 0 ] || fail "peapodd not running as a service"
systemctl restart peapodd.service
wait_for 20 sh -c "[ \"\$(systemctl show -P MainPID peapodd.service)\" -gt 0 ] && [ \"\$(systemctl show -P MainPID peapodd.service)\" != $daemon ]" ||
        fail "peapodd did not come back"
"$ATTACHT" "$T/cri.sock" echo "$T/made.json" || fail "attach after a restart of peapodd: $(tail -5 "$T/log")"
ATTACH_RESTARTED=1 "$ATTACHT" "$T/cri.sock" logs "$T/made.json" || fail "the log file after the restart"
log=$(jq -r .log_path "$T/made.json")
[ -f "$log" ] || fail "no log file $log"
! grep -q stdin-ended "$log" || fail "the echo app read EOF on its stdin"

# Nothing left: peapod-cri holds what it held before; peapodd lets the
# stdin of a removed container go.
daemon_before=$(daemon_fds)
"$ATTACHT" "$T/cri.sock" teardown "$T/made.json" || fail "teardown"
wait_for 30 sh -c "[ \$(ls /proc/$PID/fd | wc -l) = $fds_before ]" ||
        fail "peapod-cri holds $(ls /proc/$PID/fd | wc -l) fds, $fds_before before: $(ls -l /proc/$PID/fd)"
wait_for 30 sh -c "[ \$(ls /proc/\$(systemctl show -P MainPID peapodd.service)/fd | wc -l) -lt $daemon_before ]" ||
        fail "peapodd kept the stdin of a removed container: $(daemon_fds) fds, $daemon_before before the removal"
kill -0 "$PID" || fail "peapod-cri died: $(tail -5 "$T/log")"
kill "$PID"
rc=0; wait "$PID" || rc=$?
PID=""
assert_eq 0 "$rc" "peapod-cri's exit status after SIGTERM: $(grep -A5 Sanitizer "$T/log" | head -20)"
say "ok"
