#!/bin/bash
# A host volume with propagation=rshared (the CRI's BIDIRECTIONAL) in a
# privileged app: a tmpfs the app mounts below its target appears on the
# host below the source, and one the host mounts there after the start
# appears in the app; -v HOST:TARGET:rshared too. An app that is not
# privileged is refused at creation, with no_new_privs too, by --volume
# and by -v alike; so is a read-only rshared volume and a source on a
# private mount. Stop and removal take the pod's pin without taking the
# host's own mounts below the source with it (an unmount below a shared
# pin would propagate to the host); what the app mounted onto the host
# stays there, as runc leaves it, until the host unmounts it, and then
# nothing of the pod is left in /proc/1/mountinfo.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
src=$tmp/src
cleanup() {
        cleanup_pods
        umount -R "$tmp" 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT
# Every copy at path (more than one when the lab's /tmp is shared too).
host_umount() { while mountpoint -q "$1"; do umount "$1"; done; }

# The source on a shared mount of its own, as systemd makes every mount of
# a host; a private one for the refusal.
mount --bind "$tmp" "$tmp"
mount --make-rshared "$tmp"
mkdir -p "$src/fromapp" "$src/fromhost" "$src/again" "$tmp/priv"
chmod 0755 "$src"

say "refused: rshared for an app that is not privileged, read-only, on a private mount"
err=$(must_fail $PEAPOD run --name "$PFX-plain" --volume=s,kind=host,source="$src",propagation=rshared \
        busybox --mount=volume=s,target=/shared -- true)
assert_contains "$err" "rshared (bidirectional) needs a privileged app" "rshared in a plain app"
err=$(must_fail $PEAPOD run --name "$PFX-nnp" --volume=s,kind=host,source="$src",propagation=rshared \
        busybox --no-new-privileges=true --caps-retain=CAP_SYS_ADMIN --mount=volume=s,target=/shared -- true)
assert_contains "$err" "needs a privileged app" "rshared in an app with no_new_privs and CAP_SYS_ADMIN"
err=$(must_fail $PEAPOD run --name "$PFX-v" busybox -v "$src:/shared:rshared" -- true)
assert_contains "$err" "needs a privileged app" "-v HOST:TARGET:rshared in a plain app"
err=$(must_fail $PEAPOD pod create --name "$PFX-ro" --volume=s,kind=host,source="$src",propagation=rshared,readOnly=true)
assert_contains "$err" "rshared cannot be read-only" "read-only rshared"
mount --bind "$tmp/priv" "$tmp/priv"
mount --make-private "$tmp/priv"
err=$(must_fail $PEAPOD run --name "$PFX-priv" --volume=s,kind=host,source="$tmp/priv",propagation=rshared \
        busybox --privileged --mount=volume=s,target=/shared -- true)
assert_contains "$err" "private mount" "rshared on a private mount"
umount "$tmp/priv"
for p in plain nnp v ro priv; do
        ! $PEAPOD status "$PFX-$p" >/dev/null 2>&1 || fail "the refused pod $PFX-$p was made"
done

say "a privileged app with an rshared volume (and an rslave one, allowed to it too)"
$PEAPOD run -d --name "$PFX-sh" --volume=s,kind=host,source="$src",propagation=rshared \
        --volume=r,kind=host,source="$src",propagation=rslave \
        busybox --app-name=csi --privileged --mount=volume=s,target=/shared --mount=volume=r,target=/slave -- sh -c '
        mount -t tmpfs -o mode=0755 fromapp /shared/fromapp && echo made >/shared/fromapp/marker && echo mounted
        until [ -e /shared/fromhost/marker ]; do sleep 0.1; done
        echo "shared-sees-$(cat /shared/fromhost/marker)"
        until [ -e /slave/fromhost/marker ]; do sleep 0.1; done
        echo "slave-sees-$(cat /slave/fromhost/marker)"
        echo done
        exec sleep 100000' \
        --- busybox --app-name=idle -- sleep 100000 >/dev/null
id=$(pod_id "$PFX-sh")
pin=/var/lib/peapod/pods/$id/volumes/s
assert_eq shared "$(findmnt -n -o PROPAGATION "$pin" | cut -d, -f1)" "the rshared pin's propagation"
wait_for 30 sh -c "$PEAPOD logs $PFX-sh csi | grep -qx mounted" ||
        fail "the app did not mount: $($PEAPOD logs "$PFX-sh" csi 2>&1)"

say "the app's mount is on the host"
mountpoint -q "$src/fromapp" || fail "the app's mount did not reach the host's source"
assert_eq made "$(cat "$src/fromapp/marker")" "the file in the app's mount, read on the host"

say "the host's later mount is in the app"
mount -t tmpfs -o mode=0755 fromhost "$src/fromhost"
echo arrived >"$src/fromhost/marker"
wait_for 30 sh -c "$PEAPOD logs $PFX-sh csi | grep -qx done" ||
        fail "the app did not see the host's mount: $($PEAPOD logs "$PFX-sh" csi 2>&1)"
out=$($PEAPOD logs "$PFX-sh" csi 2>&1)
assert_contains "$out" shared-sees-arrived "the rshared volume shows the host's mount"
assert_contains "$out" slave-sees-arrived "the rslave volume of the privileged app shows the host's mount"

say "a restarted app binds the pin again, still both ways"
$PEAPOD app stop "$PFX-sh" csi
mountpoint -q "$src/fromapp" || fail "the app's mount left the host at its stop (runc leaves it)"
host_umount "$src/fromapp"
$PEAPOD app start "$PFX-sh" csi
wait_for 30 mountpoint -q "$src/fromapp" || fail "the restarted app's mount did not reach the host"

say "stop: the pin goes, the host's own mount stays, the app's is left to the host"
$PEAPOD stop "$PFX-sh"
mountpoint -q "$src/fromhost" || fail "stopping the pod unmounted the host's own mount below the source"
assert_eq arrived "$(cat "$src/fromhost/marker")" "the host's mount after stop"
mountpoint -q "$src/fromapp" || fail "the app's mount is gone from the host (the design leaves it, as runc)"
! grep -q "$id" /proc/1/mountinfo || fail "mounts of the stopped pod left: $(grep "$id" /proc/1/mountinfo)"
host_umount "$src/fromapp"

say "start again, then rm"
$PEAPOD start "$PFX-sh" >/dev/null
wait_for 30 mountpoint -q "$src/fromapp" || fail "the app's mount after the pod's start"
findmnt -n "$pin/fromhost" >/dev/null || fail "the pin of the started pod lacks the host's mount"
$PEAPOD rm --force "$PFX-sh"
mountpoint -q "$src/fromhost" || fail "removing the pod unmounted the host's own mount below the source"
host_umount "$src/fromapp"
! grep -q "$id" /proc/1/mountinfo || fail "mounts of the removed pod left: $(grep "$id" /proc/1/mountinfo)"
say "-v HOSTPATH:TARGET:rshared in a privileged app"
$PEAPOD run -d --name "$PFX-v2" busybox --privileged -v "$src:/shared:rshared" -- sh -c '
        mount -t tmpfs again /shared/again && exec sleep 100000' >/dev/null
id2=$(pod_id "$PFX-v2")
wait_for 30 mountpoint -q "$src/again" || fail "the -v app's mount did not reach the host"
$PEAPOD rm --force "$PFX-v2"
mountpoint -q "$src/fromhost" || fail "removing the -v pod unmounted the host's own mount below the source"
host_umount "$src/again"
! grep -q "$id2" /proc/1/mountinfo || fail "mounts of the removed -v pod left: $(grep "$id2" /proc/1/mountinfo)"
say ok
