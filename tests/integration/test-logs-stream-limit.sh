#!/bin/bash
# journald serves at most 4096 stdout streams (journald 252's
# STDOUT_STREAMS_MAX); journald@peapod holds one per app (its helper
# relays the app's stdout and stderr into one, stage1/shared/stage1-relay.h).
# Past the limit journald refuses the stream: the app must run on and end
# as it would (it was killed by SIGPIPE at its first line when it wrote to
# the stream itself), its output in the system journal instead, after a
# line that says why. And below it, an app's lines keep their stream
# through the one stream (a "<N>" the app prints is text, not a priority).
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
HOLDER=""
JOURNALD=""
cleanup() {
        [ -z "$JOURNALD" ] || kill -CONT "$JOURNALD" 2>/dev/null || true
        [ -z "$HOLDER" ] || kill "$HOLDER" 2>/dev/null || true
        cleanup_pods
        rm -rf "$T"
}
trap cleanup EXIT

# Below the limit: stdout and stderr kept apart through the one stream.
$PEAPOD run -d --name "$PFX-two" busybox -- sh -c 'echo "<3>out"; echo "<6>err" >&2; echo plain; exit 0' >/dev/null
wait_for 30 sh -c "[ \"\$($PEAPOD status --format=json $PFX-two | jq -r .state)\" = exited ]" || fail "$PFX-two did not exit"
wait_for 30 sh -c "$PEAPOD logs $PFX-two 2>/dev/null | grep -qx plain" || fail "no output of $PFX-two"
assert_eq "$(printf '<3>out\nplain')" "$($PEAPOD logs "$PFX-two" 2>/dev/null)" "stdout of $PFX-two"
assert_eq "<6>err" "$($PEAPOD logs "$PFX-two" 2>&1 >/dev/null)" "stderr of $PFX-two"

# A running pod keeps journald@peapod's socket wanted while the holder
# takes every stream it will give.
$PEAPOD run -d --name "$PFX-keep" --net=none busybox -- sleep 600 >/dev/null
python3 - "$T/held" <<'PY' &
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
held = []
while len(held) < 4096:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect("/run/systemd/journal.peapod/stdout")
        s.sendall(b"holder\n\n6\n0\n0\n0\n0\n")
    except OSError:
        # Its backlog is full while journald catches up.
        s.close(); time.sleep(0.01); continue
    held.append(s)
open(sys.argv[1], "w").write(f"{len(held)}\n")
time.sleep(900)
PY
HOLDER=$!
# Full: one stream for the running pod, the rest the holder's.
full() { [ "$(systemctl show -P NFileDescriptorStore systemd-journald@peapod.service)" -ge 4096 ]; }
wait_for 120 full || fail "journald@peapod stores $(systemctl show -P NFileDescriptorStore systemd-journald@peapod.service) streams, holder: $(cat "$T/held" 2>/dev/null)"

# The app is hostile: first it plants a listening socket of its own where
# the host's journald has its stdout socket, in its root
# (tests/hostile/journal-trap.c), for a fallback that would look that
# path up after the app's pivot_root() (which moves its helper's root
# too). Then it writes one line, and waits until journald has refused its
# helper's stream (journald accepts and closes it, and says so in its own
# journal with the helper's pid), then writes on. journald@peapod is held
# stopped until the trap is planted, so that the refusal comes after the
# pivot: a helper that notices it before its child pivoted (a quick
# journald) would never look in the app's root.
hostile_image "$PFX-trap" journal-trap
since=$(date '+%Y-%m-%d %H:%M:%S')
JOURNALD=$(systemctl show -P MainPID systemd-journald@peapod.service)
kill -STOP "$JOURNALD"
$PEAPOD run -d --name "$PFX-over" --net=none "localhost/$PFX-trap:latest" -- sh -c 'journal-trap /run/systemd/journal/stdout /trapped || exit 3; echo first; while [ ! -e /go ]; do busybox sleep 0.1; done; i=0; while [ $i -lt 100 ]; do echo line $i; i=$((i+1)); done; echo last >&2; exit 7' >/dev/null
unit=$($PEAPOD status --format=json "$PFX-over" | jq -r '.apps[0].unit')
helper=$(systemctl show -P MainPID "$unit")
[ "${helper:-0}" -gt 0 ] || fail "no helper for $unit"
upper=/var/lib/peapod/pods/$(pod_id "$PFX-over")/apps/$($PEAPOD status --format=json "$PFX-over" | jq -r '.apps[0].name')/upper
wait_for 60 test -S "$upper/run/systemd/journal/stdout" ||
        fail "the app's trap was not planted: $(ls -la "$upper/run/systemd/journal" 2>&1)"
kill -CONT "$JOURNALD"
JOURNALD=""
refused() { journalctl --namespace=peapod --since="$since" -o cat --no-pager OBJECT_PID="$helper" | grep -q "Too many stdout streams"; }
wait_for 60 refused || fail "journald@peapod did not refuse the stream of $PFX-over's helper ($helper)"
$PEAPOD enter "$PFX-over" -- sh -c ": >/go"
wait_for 60 sh -c "[ \"\$($PEAPOD status --format=json $PFX-over | jq -r .state)\" = exited ]" || fail "$PFX-over did not exit"
assert_eq "exited 7" "$($PEAPOD status --format=json "$PFX-over" | jq -r '.apps[0] | "\(.result) \(.status)"')" \
        "how the app past the limit ended"
# Nothing connected to the app's trap.
[ ! -e "$upper/trapped" ] || fail "the fallback stream connected to the app's own socket: $(cat "$upper/trapped")"

# Its output went on in the system journal, under its unit, after a line
# that says why; stderr still at priority 3. (The helper's root is the
# app's once its child pivoted: the fallback stream connects from a
# directory held since before, never by a path from the root.)
sys_log() { journalctl --since="$since" -u "$unit" -o cat --no-pager "$@"; }
in_sys_log() { sys_log | grep -qx 'line 99'; }
wait_for 30 in_sys_log || fail "the app's output is not in the system journal: $(sys_log | tail -5)"
sys_log | grep -q "took no more" || fail "no line says why: $(sys_log | head -5)"
assert_eq "last" "$(sys_log -p 3 | grep -x last)" "stderr in the system journal"
