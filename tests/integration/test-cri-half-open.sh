#!/bin/bash
# A streaming client that vanishes without a FIN or a reset (its host gone:
# here a firewall rule drops every packet of its connection, then it is
# killed): peapod-cri notices by TCP keepalive within about 30 s
# (STREAM_KEEPALIVE_*), kills the client's command and frees the stream;
# afterwards no exec is left and peapod-cri holds as many fds as
# before.
. "$(dirname "$0")/lib.sh"
STREAMT="$(dirname "$(realpath "$0")")/../cri/streamt.py"
cri_init
python3 -c 'import websocket' 2>/dev/null || fail "python3-websocket is missing (tools/install-deps)"
command -v iptables >/dev/null || fail "iptables is missing (tools/install-deps)"
CLIENT=""
RULES=()
execs_running() { pgrep -c -f '^peapod-stage1-exec ' || true; }

$PEAPOD run -d --name "$PFX-ho" busybox --app-name=app -- sleep 100000 >/dev/null
wait_for 20 sh -c "[ \"\$($PEAPOD app status --format=json $PFX-ho app | jq .pid)\" -gt 0 ]" || fail "app has no pid"
cid=$(pod_id "$PFX-ho")$($PEAPOD app status --format=json "$PFX-ho" app | jq -r .id)

cri_start
# The bus connection is made by the first call: counted in the baseline.
"$STREAMT" "$CRI_SOCK" exec-url "$cid" true >/dev/null
fds_before=$(ls /proc/$CRI_PID/fd | wc -l)
assert_eq 0 "$(execs_running)" "execs before"

"$STREAMT" "$CRI_SOCK" exec-park "$cid" >"$T/port" 2>"$T/client.log" &
CLIENT=$!
at_exit '[ -z "$CLIENT" ] || kill -9 "$CLIENT" 2>/dev/null'
wait_for 20 sh -c "[ -s $T/port ]" || fail "the client did not connect: $(cat "$T/client.log")"
port=$(cat "$T/port")
wait_for 20 sh -c "[ \$(pgrep -c -f '^peapod-stage1-exec ') = 1 ]" ||
        fail "the exec does not run"

# The client's host goes away: nothing of its connection arrives any more,
# in either direction, and its kill sends nothing we would see.
RULES=("-i lo -p tcp --sport $port -j DROP" "-i lo -p tcp --dport $port -j DROP")
at_exit 'for r in "${RULES[@]}"; do iptables -D INPUT $r 2>/dev/null || true; done'
for r in "${RULES[@]}"; do iptables -I INPUT $r; done
kill -9 "$CLIENT"
wait "$CLIENT" 2>/dev/null || true
CLIENT=""
# Nothing happens at once: the connection is silent, not closed.
[ "$(execs_running)" = 1 ] || fail "the command was killed before the connection was found dead"
wait_for 90 sh -c "[ \$(pgrep -c -f '^peapod-stage1-exec ') = 0 ]" ||
        fail "the command of a vanished client still runs after 90 s"
wait_for 30 sh -c "[ \$(ls /proc/$CRI_PID/fd | wc -l) = $fds_before ]" ||
        fail "peapod-cri holds $(ls /proc/$CRI_PID/fd | wc -l) fds, $fds_before before: $(ls -l /proc/$CRI_PID/fd)"
kill -0 "$CRI_PID" || fail "peapod-cri died: $(tail -5 "$T/log")"
say "ok"
