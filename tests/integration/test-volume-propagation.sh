#!/bin/bash
# A host volume with propagation=rslave (the CRI's HOST_TO_CONTAINER): a
# tmpfs the host mounts below the source AFTER the app started appears in
# the app; with the default (private) it does not; nothing mounted in an
# app reaches the host. What arrives keeps the host's flags (dev, suid):
# a device node on it stays closed by the app's device cgroup, and a
# setuid-root binary does not run as root (rslave needs no_new_privs).
# The pin goes at stop, also after app restarts and a restart of peapodd:
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

hostile_image "$PFX-prop" openw
img=localhost/$PFX-prop:latest

# The source on a shared mount of its own, whatever the lab's /tmp is, as
# systemd makes every mount of a host; a private one for the refusal.
mount --bind "$tmp" "$tmp"
mount --make-rshared "$tmp"
mkdir -p "$src/fromapp" "$tmp/priv"
chmod 0755 "$src"

# Refused: rslave for an app without no_new_privs (a setuid binary arriving
# later would raise it), read-only rslave (arrivals are writable), rshared
# for an app that is not privileged (test-volume-rshared has the rest).
err=$(must_fail $PEAPOD run --name "$PFX-nnp" --volume=s,kind=host,source="$src",propagation=rslave \
        "$img" --no-new-privileges=false --mount=volume=s,target=/slave -- true)
assert_contains "$err" "no_new_privs" "rslave without no_new_privs"
err=$(must_fail $PEAPOD pod create --name "$PFX-ro" --volume=s,kind=host,source="$src",propagation=rslave,readOnly=true)
assert_contains "$err" "writable" "read-only rslave"
err=$(must_fail $PEAPOD run --name "$PFX-sh" --volume=s,kind=host,source="$src",propagation=rshared \
        "$img" --mount=volume=s,target=/shared -- true)
assert_contains "$err" "rshared (bidirectional) needs a privileged app" "rshared"
err=$(must_fail $PEAPOD pod create --name "$PFX-tmpfs" --volume=s,kind=tmpfs,propagation=rslave)
assert_contains "$err" "only a host volume" "rslave on a tmpfs volume"
# A source on a private mount: nothing would propagate, said at start.
mount --bind "$tmp/priv" "$tmp/priv"
mount --make-private "$tmp/priv"
err=$(must_fail $PEAPOD pod create --name "$PFX-priv" --volume=s,kind=host,source="$tmp/priv",propagation=rslave)
assert_contains "$err" "private mount" "rslave on a private mount"
umount "$tmp/priv"
! $PEAPOD status "$PFX-nnp" >/dev/null 2>&1 || fail "the refused pod was made"

$PEAPOD pod create --name "$PFX-p" --volume=s,kind=host,source="$src",propagation=rslave \
        --volume=p,kind=host,source="$src" --quiet
id=$(pod_id "$PFX-p")
pin=/var/lib/peapod/pods/$id/volumes/s
assert_contains "$(findmnt -n -o PROPAGATION "$pin")" slave "the rslave pin's propagation"
assert_eq private "$(findmnt -n -o PROPAGATION "/var/lib/peapod/pods/$id/volumes/p")" "the private pin's propagation"

# The watcher waits for the host's mount, in both of its volumes.
$PEAPOD app add --name watch --start --quiet "$PFX-p" "$img" \
        --mount=volume=s,target=/slave --mount=volume=p,target=/private -- sh -c '
        echo ready
        until [ -e /slave/sub/marker ]; do sleep 0.1; done
        echo "slave-sees-$(cat /slave/sub/marker)"
        if [ -e /private/sub/marker ]; then echo private-sees; else echo private-empty; fi
        openw /slave/sub/fuse /slave/sub/null
        echo done
        exec sleep 100000'
wait_for 30 sh -c "$PEAPOD logs $PFX-p watch | grep -q ready" || fail "the watcher did not start"

# Now the host mounts a tmpfs below the source, with dev and suid, a device
# node the app's device cgroup does not admit (fuse, 10:229), one it does
# (null, 1:3), and a setuid-root binary.
mkdir "$src/sub"
mount -t tmpfs -o mode=0755 tmpfs "$src/sub"
mknod "$src/sub/fuse" c 10 229
mknod -m 0666 "$src/sub/null" c 1 3
install -m 4755 -o root "$PEAPOD_BUILD_DIR/tests/hostile/hostile-suid-euid" "$src/sub/suid"
echo arrived >"$src/sub/marker"
# (More than one when the lab's /tmp is shared too: a copy under the bind.)
host_n=$(awk -v m="$src/sub" '$5 == m' /proc/1/mountinfo | wc -l)
# The control: on the host, the binary does raise a user to root.
rc=0
out=$(setpriv --reuid=1000 --regid=1000 --clear-groups "$src/sub/suid") || rc=$?
assert_eq 2 "$rc" "the setuid binary on the host ($out)"

wait_for 30 sh -c "$PEAPOD logs $PFX-p watch | grep -q done" || fail "the watcher did not see the host's mount: $($PEAPOD logs "$PFX-p" watch 2>&1)"
out=$($PEAPOD logs "$PFX-p" watch 2>&1)
assert_contains "$out" slave-sees-arrived "the rslave volume shows the host's later mount"
assert_contains "$out" private-empty "the private volume does not"
# The arrival has the host's flags (dev): what blocks the device is the
# device cgroup (EPERM), not nodev (EACCES); the admitted node opens.
assert_contains "$out" "/slave/sub/fuse open=EPERM" "a device node arriving on the volume"
assert_contains "$out" "/slave/sub/null open=OK" "an admitted device node arriving on the volume"

# The setuid-root binary run by a non-root app: no_new_privs, so not root.
$PEAPOD app add --name suid --start --quiet "$PFX-p" "$img" --user=1000 \
        --mount=volume=s,target=/slave -- sh -c '/slave/sub/suid; echo "rc=$?"'
wait_for 30 sh -c "$PEAPOD logs $PFX-p suid | grep -q rc=" || fail "the suid app did not run: $($PEAPOD logs "$PFX-p" suid 2>&1)"
out=$($PEAPOD logs "$PFX-p" suid 2>&1)
assert_contains "$out" "uid=1000 euid=1000 caps=0" "the setuid binary in the app"
assert_contains "$out" "rc=0" "the setuid binary in the app"

# A mount made inside an app (one allowed to mount) stays there.
$PEAPOD app add --name mounter --start --quiet "$PFX-p" "$img" --caps-retain=CAP_SYS_ADMIN --seccomp=unconfined \
        --mount=volume=s,target=/slave -- sh -c '
        mount -t tmpfs none /slave/fromapp && touch /slave/fromapp/x && echo mounted-in-app
        grep -q " /slave/fromapp " /proc/self/mountinfo && echo seen-in-app
        echo done'
wait_for 30 sh -c "$PEAPOD logs $PFX-p mounter | grep -q done" || fail "the mounter did not run"
out=$($PEAPOD logs "$PFX-p" mounter 2>&1)
assert_contains "$out" mounted-in-app "the app's own mount (else this proves nothing)"
assert_contains "$out" seen-in-app "the app's own mount"
! mountpoint -q "$src/fromapp" || fail "the app's mount reached the host's source"
! mountpoint -q "$pin/fromapp" || fail "the app's mount reached the pin"
[ ! -e "$src/fromapp/x" ] || fail "the app's file went below the host's directory"

# An app restarted still follows the source; so after peapodd restarts.
$PEAPOD app stop "$PFX-p" watch
$PEAPOD app start "$PFX-p" watch
wait_for 30 sh -c "[ \$($PEAPOD logs $PFX-p watch | grep -c done) -ge 2 ]" || fail "the restarted watcher did not see the mount"
systemctl restart peapodd.service
wait_for 30 $PEAPOD status "$PFX-p" || fail "peapodd did not come back"
$PEAPOD app add --name late --start --quiet "$PFX-p" "$img" --mount=volume=s,target=/slave -- sh -c '
        until [ -e /slave/sub2/marker ]; do sleep 0.1; done; echo late-sees-sub2'
mkdir "$src/sub2"
mount -t tmpfs tmpfs "$src/sub2"
echo two >"$src/sub2/marker"
wait_for 30 sh -c "$PEAPOD logs $PFX-p late | grep -q late-sees-sub2" || fail "an app after peapodd's restart did not see the host's mount"

# Stop and removal: no mount of the pod is left in the host's namespace,
# and the host's own mounts below the source are still there.
$PEAPOD stop "$PFX-p"
! grep -q "$id" /proc/1/mountinfo || fail "mounts of the stopped pod left: $(grep "$id" /proc/1/mountinfo)"
assert_eq "$host_n" "$(awk -v m="$src/sub" '$5 == m' /proc/1/mountinfo | wc -l)" "mounts at the host's $src/sub after stop"
$PEAPOD start "$PFX-p" >/dev/null
findmnt -n "$pin/sub" >/dev/null || fail "the pin of the started pod lacks the host's mount"
$PEAPOD rm --force "$PFX-p"
! grep -q "$id" /proc/1/mountinfo || fail "mounts of the removed pod left"
assert_eq arrived "$(cat "$src/sub/marker")" "the host's mount after rm"
say ok
