#!/bin/bash
# peapod-cri serves many clients at once from its one thread: 64 calls in
# flight together over 8 connections (Version, Status, whose answer waits
# for peapodd on the bus, and ImageFsInfo), Status calls that their client
# cancels while peapodd's answer is pending, and next to them clients that
# misbehave (streams with a flow-control window of 0, a client that sends
# requests and never reads an answer): the others are answered all the
# same, and peapod-cri stays up.
. "$(dirname "$0")/lib.sh"
CRIT="$(dirname "$(realpath "$0")")/../cri/crit.py"
cri_init

cri_start

"$CRIT" "$CRI_SOCK" concurrent || fail "concurrent calls failed"
kill -0 "$CRI_PID" || fail "peapod-cri died during the concurrent calls: $(cat "$T/log")"
"$CRIT" "$CRI_SOCK" stall || fail "clients that never read stopped the others"
kill -0 "$CRI_PID" || fail "peapod-cri died next to stalled clients: $(cat "$T/log")"
# The stalled clients are gone (their sockets closed): still serving.
assert_eq peapod "$("$CRIT" "$CRI_SOCK" version)" "Version afterwards"
say "ok"
