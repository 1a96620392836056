#!/bin/bash
# A busy app loses no line: 200,000 lines written in one burst are all in
# the journal namespace, in order, and peapod logs prints them all.
. "$(dirname "$0")/lib.sh"
cleanup() { $PEAPOD rm --force "$PFX-burst" >/dev/null 2>&1 || true; }
trap cleanup EXIT
N=200000

$PEAPOD run -d --name "$PFX-burst" busybox -- sh -c "seq 1 $N; seq 1 1000 >&2" >/dev/null
id=$($PEAPOD status --format=json "$PFX-burst" | jq -r '.apps[0].id')
wait_for 120 sh -c "[ \"\$($PEAPOD status --format=json $PFX-burst | jq -r .state)\" = exited ]" || fail "app did not end"
journalctl --namespace=peapod --sync
got=$(journalctl --namespace=peapod -q PEAPOD_APP_ID="$id" PRIORITY=6 -o cat | wc -l)
assert_eq $N "$got" "stdout lines in the journal namespace"
assert_eq 1000 "$(journalctl --namespace=peapod -q PEAPOD_APP_ID="$id" PRIORITY=3 -o cat | wc -l)" "stderr lines"
$PEAPOD logs --stdout "$PFX-burst" >/tmp/burst.$$
seq 1 $N | cmp - /tmp/burst.$$ || fail "peapod logs does not print exactly 1..$N in order"
rm -f /tmp/burst.$$
# journald said nothing about suppressing messages.
! journalctl --namespace=peapod -q -o cat | grep -q "Suppressed" || fail "journald suppressed lines"
say ok
