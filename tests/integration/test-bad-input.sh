#!/bin/bash
# Bad input gives one clear line and a non-zero exit, and changes nothing.
. "$(dirname "$0")/lib.sh"

before=$($PEAPOD list --format=json | jq length)
units_before=$(all_pod_units | wc -l)

err=$(must_fail $PEAPOD status "$PFX-nosuchpod")
assert_contains "$err" "No such pod" "unknown pod"
err=$(must_fail $PEAPOD stop "$PFX-nosuchpod")
assert_contains "$err" "No such pod" "stop unknown pod"
err=$(must_fail $PEAPOD rm "$PFX-nosuchpod")
assert_contains "$err" "No such pod" "rm unknown pod"
# A typo of a local image's name is pointed at it.
err=$(must_fail $PEAPOD run -d bsybox -- true)
assert_contains "$err" "Did you mean the local image localhost/busybox:latest?" "a typo of busybox"
# An id prefix shorter than 4 digits is said to be one.
err=$(must_fail $PEAPOD status 7d)
assert_contains "$err" "a prefix of an id needs at least 4 digits" "a short id prefix"
# An invalid image reference says what is wrong with it.
err=$(must_fail $PEAPOD run -d Busybox -- true)
assert_contains "$err" "repository names must be lowercase" "run of an upper-case name"
err=$(must_fail $PEAPOD image pull 'Busybox')
assert_contains "$err" "repository names must be lowercase" "pull of an upper-case name"
err=$(must_fail $PEAPOD run -d 'busybox:-x' -- true)
assert_contains "$err" "a tag is" "run of a bad tag"
err=$(must_fail $PEAPOD run -d --name "bad_name" busybox -- true)
assert_contains "$err" "Invalid pod name" "invalid pod name"
err=$(must_fail $PEAPOD run -d --pull=never --name "$PFX-x" no-such-image -- true)
assert_contains "$err" "Image not found: no-such-image" "missing image"
# By default a missing image is pulled first: a short name without a
# search registry says why it cannot be.
err=$(must_fail $PEAPOD run -d --name "$PFX-x" no-such-image -- true)
assert_contains "$err" "Failed to pull no-such-image" "missing image, pulled"
assert_contains "$err" "short name" "missing image, pulled"
err=$(must_fail $PEAPOD run -d --name "$PFX-x" busybox --exec= )
assert_contains "$err" "empty command" "empty command"
err=$(must_fail $PEAPOD run -d --name "$PFX-x" busybox --app-name=Bad_App -- true)
assert_contains "$err" "Invalid app name" "invalid app name"
err=$(must_fail $PEAPOD run -d --name "$PFX-x" busybox --set-env=novalue -- true)
[ "$(echo "$err" | wc -l)" -le 2 ] || fail "error is not short: $err"

# An app whose command does not exist fails at start; nothing is left.
$PEAPOD run -d --name "$PFX-nocmd" busybox -- /no/such/binary >/dev/null 2>&1 || true
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-nocmd 2>/dev/null | jq -r .state)\" != running ]" || fail "pod with a missing command keeps running"
st=$($PEAPOD status --format=json "$PFX-nocmd" 2>/dev/null || true)
if [ -n "$st" ]; then
        assert_eq 127 "$(echo "$st" | jq -r '.apps[0].status')" "missing command exits 127"
        $PEAPOD rm "$PFX-nocmd"
fi

# Duplicate names are refused.
$PEAPOD run -d --name "$PFX-dup" busybox -- sleep 300 >/dev/null
err=$(must_fail $PEAPOD run -d --name "$PFX-dup" busybox -- sleep 300)
assert_contains "$err" "exists" "duplicate name"
$PEAPOD rm --force "$PFX-dup"

assert_eq "$before" "$($PEAPOD list --format=json | jq length)" "pod count unchanged"
assert_eq "$units_before" "$(all_pod_units | wc -l)" "units unchanged"
# The daemon is still there after all this.
$PEAPOD list >/dev/null
