#!/bin/bash
# peapod-cri serves many clients at once from its one thread: 64 calls in
# flight together over 8 connections (Version, Status, whose answer waits
# for peapodd on the bus, and ImageFsInfo), Status calls that their client
# cancels while peapodd's answer is pending, and next to them clients that
# misbehave (streams with a flow-control window of 0, a client that sends
# requests and never reads an answer): the others are answered all the
# same, and peapod-cri stays up.
. "$(dirname "$0")/lib.sh"
CRI=${CRI:-/usr/libexec/peapod/peapod-cri}
CRIT="$(dirname "$(realpath "$0")")/../cri/crit.py"
[ -x "$CRI" ] || fail "$CRI is not installed (its build needs libnghttp2-dev, libprotobuf-c-dev and protobuf-c-compiler: tools/install-deps)"
T=$(mktemp -d)
PID=""
cleanup() {
        [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
        rm -rf "$T"
}
trap cleanup EXIT

"$CRI" --listen="$T/cri.sock" 2>"$T/log" &
PID=$!
wait_for 10 test -S "$T/cri.sock" || fail "peapod-cri made no socket: $(cat "$T/log")"

"$CRIT" "$T/cri.sock" concurrent || fail "concurrent calls failed"
kill -0 "$PID" || fail "peapod-cri died during the concurrent calls: $(cat "$T/log")"
"$CRIT" "$T/cri.sock" stall || fail "clients that never read stopped the others"
kill -0 "$PID" || fail "peapod-cri died next to stalled clients: $(cat "$T/log")"
# The stalled clients are gone (their sockets closed): still serving.
assert_eq peapod "$("$CRIT" "$T/cri.sock" version)" "Version afterwards"
say "ok"
