# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by every integration test. Runs inside the lab (or on a systemd
# host), as root, with peapod installed.
set -euo pipefail

PEAPOD=${PEAPOD:-peapod}
TEST_NAME=$(basename "$0" .sh)
# Pods a test creates are named with this prefix and removed at exit.
PFX="t$$"

say() { echo "[$TEST_NAME] $*"; }
fail() { echo "[$TEST_NAME] FAIL: $*" >&2; exit 1; }

assert_eq() { # expected actual what
        [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}
assert_contains() { # haystack needle what
        case "$1" in *"$2"*) ;; *) fail "$3: '$2' not in: $1" ;; esac
}
assert_not_contains() {
        case "$1" in *"$2"*) fail "$3: '$2' unexpectedly in: $1" ;; *) ;; esac
}
# Run a command that must fail; prints its stderr for inspection.
must_fail() {
        local out rc=0
        out=$("$@" 2>&1) || rc=$?
        [ "$rc" -ne 0 ] || fail "expected failure from: $*"
        printf '%s' "$out"
}
# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
        local t=$1; shift
        local end=$((SECONDS + t))
        until "$@" >/dev/null 2>&1; do
                [ $SECONDS -lt $end ] || return 1
                sleep 0.1
        done
}
pod_state() { $PEAPOD status --format=json "$1" | jq -r .state; }
pod_id() { $PEAPOD status --format=json "$1" | jq -r .id; }

cleanup_pods() {
        local p
        for p in $($PEAPOD list --format=json 2>/dev/null | jq -r ".[] | select(.name | startswith(\"$PFX\")) | .id"); do
                $PEAPOD rm --force "$p" >/dev/null 2>&1 || true
        done
}
trap cleanup_pods EXIT
