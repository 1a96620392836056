#!/bin/bash
# What the stage1 helper refuses at start is refused when the pod or app is
# created, with the helper's own reason, and nothing is left behind: mount
# targets at or below /proc and /sys, an image whose WorkingDir is not
# absolute. Through the CLI and through D-Bus directly (a client that skips
# the CLI's own checks).
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
cleanup() {
        cleanup_pods
        $PEAPOD image rm localhost/relwd:latest >/dev/null 2>&1 || true
        rm -rf "$tmp"
}
trap cleanup EXIT

pods_before=$($PEAPOD list --format=json | jq length)
reason="/proc and /sys belong to the pod"

for target in /proc /proc/sys /sys /sys/fs/cgroup; do
        err=$(must_fail $PEAPOD run -d --name "$PFX-mnt" --volume=v,kind=host,source="$tmp" busybox \
                --mount=volume=v,target=$target -- true)
        assert_contains "$err" "Invalid mount target '$target': $reason" "peapod run --mount target=$target"
done
must_fail $PEAPOD status "$PFX-mnt" >/dev/null

# D-Bus: CreatePod with the mount, bypassing the CLI.
err=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' \
        "$PFX-bus" 2 Volumes 'a(sssbt)' 1 v host "$tmp" false 0 StopWhenAppsExit b true \
        1 app busybox 1 Mounts 'a(ss)' 1 v /proc)
assert_contains "$err" "$reason" "CreatePod with target /proc"
must_fail $PEAPOD status "$PFX-bus" >/dev/null

# app add to a running pod: refused at once, the pod keeps its apps.
$PEAPOD pod create --name "$PFX-pod" --volume=v,kind=host,source="$tmp" --quiet
err=$(must_fail $PEAPOD app add --name bad "$PFX-pod" busybox --mount=volume=v,target=/sys -- true)
assert_contains "$err" "Invalid mount target '/sys': $reason" "app add --mount target=/sys"
path=$(busctl call --json=short org.peapod1 /org/peapod1 org.peapod1.Manager GetPod s "$PFX-pod" | jq -r '.data[0]')
err=$(must_fail busctl call org.peapod1 "$path" org.peapod1.Pod AddApp 'ssa(sv)t' bad busybox 1 Mounts 'a(ss)' 1 v /proc/1 0)
assert_contains "$err" "$reason" "AddApp with target /proc/1"
assert_eq 0 "$($PEAPOD status --format=json "$PFX-pod" | jq '.apps | length')" "apps after refused adds"
# The helper's rule, not a stricter one: /proc2 and /dev/x are fine.
$PEAPOD app add --name fine --start --quiet "$PFX-pod" busybox --mount=volume=v,target=/proc2 -- sh -c 'echo ok >/proc2/seen'
wait_for 20 test -e "$tmp/seen" || fail "an app with target /proc2 did not run"

# An image whose WorkingDir is not absolute: refused at creation (naming
# the fix), accepted with an explicit --working-dir.
"$(dirname "$0")/../unit/make-test-image.py" "$tmp/oci" --salt=relwd --workdir=srv/app >/dev/null
tar -C "$tmp/oci" -cf "$tmp/relwd.tar" .
$PEAPOD image import -q --insecure-options=image --name=localhost/relwd:latest "$tmp/relwd.tar" >/dev/null
err=$(must_fail $PEAPOD run -d --name "$PFX-wd" relwd -- true)
assert_contains "$err" "working directory 'srv/app', which is not an absolute path" "relative WorkingDir"
assert_contains "$err" "--working-dir" "the error names the fix"
must_fail $PEAPOD status "$PFX-wd" >/dev/null
err=$(must_fail $PEAPOD app add --name wd "$PFX-pod" relwd -- true)
assert_contains "$err" "not an absolute path" "relative WorkingDir, app add"
err=$(must_fail $PEAPOD run -d --name "$PFX-wd" busybox --working-dir=rel -- true)
assert_contains "$err" "must be an absolute path" "--working-dir=rel"
$PEAPOD run -d --name "$PFX-wd" relwd --working-dir=/tmp -- sh -c pwd >/dev/null
wait_for 20 sh -c "$PEAPOD logs $PFX-wd | grep -qx /tmp" || fail "--working-dir did not replace the image's"

# The fly stage1 runs apps in the host's namespaces and refuses volumes
# and a PID namespace per app at start: refused at creation instead.
err=$(must_fail $PEAPOD run -d --stage1=fly --name "$PFX-fly" --volume=v,kind=host,source="$tmp" busybox \
        --mount=volume=v,target=/data -- true)
assert_contains "$err" "supports neither volumes nor a PID namespace" "fly with a volume"
err=$(must_fail $PEAPOD run -d --stage1=fly --name "$PFX-fly" busybox --pid-namespace=app -- true)
assert_contains "$err" "supports neither volumes nor a PID namespace" "fly with --pid-namespace=app"
must_fail $PEAPOD status "$PFX-fly" >/dev/null
$PEAPOD pod create --stage1=fly --name "$PFX-flypod" --quiet
err=$(must_fail $PEAPOD app add --name pidns "$PFX-flypod" busybox --pid-namespace=app -- true)
assert_contains "$err" "supports neither volumes nor a PID namespace" "fly app add with --pid-namespace=app"
assert_eq 0 "$($PEAPOD status --format=json "$PFX-flypod" | jq '.apps | length')" "fly apps after a refused add"

assert_eq $((pods_before + 3)) "$($PEAPOD list --format=json | jq length)" "pods after the refusals"
say ok
