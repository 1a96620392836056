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
ATTACHT="$(dirname "$(realpath "$0")")/../cri/attacht.py"
cri_init
python3 -c 'import websocket' 2>/dev/null || fail "python3-websocket is missing (tools/install-deps)"
cri_pods k8s-
daemon_fds() { ls "/proc/$(systemctl show -P MainPID peapodd.service)/fd" | wc -l; }

cri_start
"$ATTACHT" "$CRI_SOCK" setup "$T/made.json" || fail "setup: $(tail -5 "$T/log")"
fds_before=$(ls /proc/$CRI_PID/fd | wc -l)

"$ATTACHT" "$CRI_SOCK" attach "$T/made.json" || fail "attach checks failed: $(tail -5 "$T/log")"
"$ATTACHT" "$CRI_SOCK" logs "$T/made.json" || fail "the log file"

# peapodd restarts: the app's stdin stays open (the app did not read EOF).
daemon=$(systemctl show -P MainPID peapodd.service)
[ "$daemon" -gt 0 ] || fail "peapodd not running as a service"
systemctl restart peapodd.service
wait_for 20 sh -c "[ \"\$(systemctl show -P MainPID peapodd.service)\" -gt 0 ] && [ \"\$(systemctl show -P MainPID peapodd.service)\" != $daemon ]" ||
        fail "peapodd did not come back"
"$ATTACHT" "$CRI_SOCK" echo "$T/made.json" || fail "attach after a restart of peapodd: $(tail -5 "$T/log")"
ATTACH_RESTARTED=1 "$ATTACHT" "$CRI_SOCK" logs "$T/made.json" || fail "the log file after the restart"
log=$(jq -r .log_path "$T/made.json")
[ -f "$log" ] || fail "no log file $log"
! grep -q stdin-ended "$log" || fail "the echo app read EOF on its stdin"

# Nothing left: peapod-cri holds what it held before; peapodd lets the
# stdin of a removed container go.
daemon_before=$(daemon_fds)
"$ATTACHT" "$CRI_SOCK" teardown "$T/made.json" || fail "teardown"
wait_for 30 sh -c "[ \$(ls /proc/$CRI_PID/fd | wc -l) = $fds_before ]" ||
        fail "peapod-cri holds $(ls /proc/$CRI_PID/fd | wc -l) fds, $fds_before before: $(ls -l /proc/$CRI_PID/fd)"
wait_for 30 sh -c "[ \$(ls /proc/\$(systemctl show -P MainPID peapodd.service)/fd | wc -l) -lt $daemon_before ]" ||
        fail "peapodd kept the stdin of a removed container: $(daemon_fds) fds, $daemon_before before the removal"
kill -0 "$CRI_PID" || fail "peapod-cri died: $(tail -5 "$T/log")"
cri_stop
say "ok"
