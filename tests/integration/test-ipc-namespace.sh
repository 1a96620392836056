#!/bin/bash
# The IPC namespace: the pod's by default, the app's own with
# --ipc-namespace=app (the CRI's CONTAINER mode). An app of its own
# namespace sees none of the pod's System V objects, and `peapod enter`
# joins the app's namespace, not the pod's. fly refuses it at creation.
. "$(dirname "$0")/lib.sh"

ipc_of() { # APP: the IPC namespace the app printed
        $PEAPOD logs --no-prefix "$PFX-ipc" "$1" 2>&1 | sed -n 's/^ipc=//p' | tail -1
}

hostile_image "$PFX-shm" sysv-shm
img="localhost/$PFX-shm:latest"
trap 'cleanup_pods; $PEAPOD image rm "$img" >/dev/null 2>&1 || true' EXIT

say "two apps in the pod's IPC namespace, one in its own"
$PEAPOD run -d --name "$PFX-ipc" "$img" --app-name=first -- sh -c 'echo ipc=$(readlink /proc/self/ns/ipc); exec sleep 300' \
        --- "$img" --app-name=shared -- sh -c 'echo ipc=$(readlink /proc/self/ns/ipc); exec sleep 300' \
        --- "$img" --app-name=own --ipc-namespace=app -- sh -c 'echo ipc=$(readlink /proc/self/ns/ipc); exec sleep 300' >/dev/null
for a in first shared own; do
        wait_for 30 sh -c "$PEAPOD logs --no-prefix $PFX-ipc $a 2>&1 | grep -q '^ipc='" || fail "app $a did not run"
done
first=$(ipc_of first)
shared=$(ipc_of shared)
own=$(ipc_of own)
assert_contains "$first" "ipc:[" "the app shows its IPC namespace"
assert_eq "$first" "$shared" "apps share the pod's IPC namespace by default"
[ "$own" != "$first" ] || fail "an app with --ipc-namespace=app is in the pod's IPC namespace ($own)"
[ "$own" != "$(readlink /proc/self/ns/ipc)" ] || fail "an app with --ipc-namespace=app is in the host's IPC namespace"

say "enter joins the app's IPC namespace"
assert_eq "$own" "$($PEAPOD enter --app=own "$PFX-ipc" -- sh -c 'readlink /proc/self/ns/ipc')" "enter into own"
assert_eq "$first" "$($PEAPOD enter --app=shared "$PFX-ipc" -- sh -c 'readlink /proc/self/ns/ipc')" "enter into shared"

say "System V objects stay in their namespace"
# An app would notice by its key: a segment made in the pod's namespace is
# found by the pod's other apps, not by the app of its own namespace.
key=$((0x5eed0000 + $$ % 65536))
$PEAPOD enter --app=shared "$PFX-ipc" -- /bin/sysv-shm create "$key"
$PEAPOD enter --app=first "$PFX-ipc" -- /bin/sysv-shm find "$key" || fail "the pod's apps do not share System V objects"
rc=0; $PEAPOD enter --app=own "$PFX-ipc" -- /bin/sysv-shm find "$key" || rc=$?
assert_eq 3 "$rc" "the app of its own IPC namespace does not see the pod's segment"
assert_eq "" "$(awk -v k="$key" '$1 == k' /proc/sysvipc/shm)" "the host does not see the pod's segment"

say "refusals"
e=$(must_fail $PEAPOD run -d --name "$PFX-bad" busybox --ipc-namespace=host -- true)
assert_contains "$e" "Invalid --ipc-namespace='host'" "bad --ipc-namespace"
e=$(must_fail $PEAPOD run -d --stage1=fly --name "$PFX-fly" busybox --ipc-namespace=app -- true)
assert_contains "$e" "IPC namespace of the app's own" "fly with --ipc-namespace=app"
say "ok"
