#!/bin/bash
# peapodd killed with SIGKILL while 'peapod image pull' downloads a layer
# (from a registry that trickles it): the CLI ends within 5 s saying so,
# and the restarted peapodd removes the partial blob.
. "$(dirname "$0")/lib.sh"

STORE=/var/lib/peapod/images
dir=$(mktemp -d)
reg=""
cli=""
cleanup() {
        [ -z "$cli" ] || kill "$cli" 2>/dev/null || true
        [ -z "$reg" ] || kill "$reg" 2>/dev/null || true
        wait 2>/dev/null || true
        rm -rf "$dir" /etc/peapod/registries.conf /etc/peapod/policy.json
        systemctl start peapodd.service 2>/dev/null || true
        cleanup_pods
}
trap cleanup EXIT

# Layer 0 at ~200 bytes/s: the pull is surely in the middle of it.
python3 "$(dirname "$0")/../unit/fault-registry.py" slow >"$dir/port" 2>"$dir/registry.log" &
reg=$!
wait_for 10 test -s "$dir/port" || fail "the registry did not start"
REGISTRY=127.0.0.1:$(cut -d' ' -f1 "$dir/port")
registry_allow_insecure
policy_accept_unsigned "$REGISTRY"

$PEAPOD image list >/dev/null
[ -z "$(find "$STORE/blobs/sha256" -maxdepth 1 -name '.tmp-*')" ] || fail "temp files before the test"
$PEAPOD image pull "$REGISTRY/test/slow:latest" >"$dir/out" 2>"$dir/err" &
cli=$!
wait_for 60 sh -c "find '$STORE/blobs/sha256' -maxdepth 1 -name '.tmp-*' -size +0 | grep -q ." ||
        fail "no partial blob: $(cat "$dir/err")"
daemon=$(systemctl show -P MainPID peapodd.service)
[ "$daemon" -gt 0 ] || fail "peapodd not running as a service"
kill -KILL "$daemon"

wait_for 5 sh -c "! kill -0 $cli 2>/dev/null" || fail "the CLI still waits 5 s after peapodd was killed"
rc=0
wait "$cli" || rc=$?
cli=""
[ "$rc" -ne 0 ] || fail "pull succeeded although peapodd was killed"
assert_contains "$(cat "$dir/err")" "peapodd exited while pulling $REGISTRY/test/slow:latest; the pull did not finish" "the CLI's message"

systemctl start peapodd.service
wait_for 30 sh -c "systemctl is-active peapodd.service | grep -qx active" || fail "peapodd did not come back"
[ -z "$(find "$STORE/blobs/sha256" "$STORE/layers" -maxdepth 1 -name '.tmp-*')" ] || fail "temp files left after restart"
must_fail $PEAPOD image inspect "$REGISTRY/test/slow:latest" >/dev/null
