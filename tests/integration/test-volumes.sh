#!/bin/bash
# Volumes: an empty volume shared by two apps of a pod, host volumes (read-
# only and read-write), tmpfs, and mount targets that try to escape the
# app's root (refused, or contained inside it).
. "$(dirname "$0")/lib.sh"
here=$(dirname "$(realpath "$0")")

tmp=$(mktemp -d /var/tmp/volumes.XXXXXX)
cleanup() {
        cleanup_pods; rm -rf "$tmp" /etc/peapod/policy.json
        $PEAPOD image rm localhost/symlinks:latest >/dev/null 2>&1 || true
}
trap cleanup EXIT
# The test's own image is not signed.
policy_accept_unsigned localhost/symlinks

wait_exited() {
        wait_for 30 sh -c "[ \"\$($PEAPOD status --format=json $PFX-$1 | jq -r .state)\" = exited ]" || fail "pod $1 did not end"
}
logs() { $PEAPOD logs --no-prefix "$PFX-$1" ${2:-} 2>&1; }

say "an empty volume shared by two apps"
id=$($PEAPOD run -d --name "$PFX-shared" --volume=data,kind=empty \
        busybox --app-name=writer --mount=volume=data,target=/data -- sh -c 'echo from-writer >/data/f; sleep 300' \
        --- busybox --app-name=reader --mount=volume=data,target=/srv/in -- \
        sh -c 'until [ -e /srv/in/f ]; do sleep 0.1; done; cat /srv/in/f')
wait_for 30 sh -c "$PEAPOD logs --no-prefix $PFX-shared reader 2>&1 | grep -q from-writer" || fail "the reader did not see the writer's file"
voldir=/var/lib/peapod/pods/$id/volumes/data
assert_eq from-writer "$(cat "$voldir/f")" "the volume is the pod's directory"
$PEAPOD rm --force "$PFX-shared" >/dev/null
[ ! -e "$voldir" ] || fail "the empty volume outlived its pod"

say "volumes of an empty pod, mounted by apps added later"
$PEAPOD pod create --name "$PFX-later" --volume=data,kind=empty >/dev/null
$PEAPOD app add --start --name=w "$PFX-later" busybox --mount=volume=data,target=/d -- sh -c 'echo later >/d/f' >/dev/null
$PEAPOD app add --start --name=r "$PFX-later" busybox --mount=volume=data,target=/in -- \
        sh -c 'until [ -e /in/f ]; do sleep 0.1; done; cat /in/f' >/dev/null
wait_for 30 sh -c "$PEAPOD logs --no-prefix $PFX-later r 2>&1 | grep -q later" || fail "an added app did not see the volume"
e=$(must_fail $PEAPOD app add --name=x "$PFX-later" busybox --mount=volume=nosuch,target=/x -- true)
assert_contains "$e" "nosuch" "app add: a mount of a volume the pod lacks"
e=$(must_fail $PEAPOD app add "$PFX-later" --volume=v,kind=empty busybox -- true)
assert_contains "$e" "Volumes belong to the pod" "app add refuses --volume"
$PEAPOD rm --force "$PFX-later" >/dev/null

say "host volumes: read-only refuses writes, read-write writes to the host"
mkdir -p "$tmp/ro" "$tmp/rw"
echo host-data >"$tmp/ro/file"
$PEAPOD run -d --name "$PFX-host" --volume=ro,kind=host,source="$tmp/ro",readOnly=true \
        --volume=rw,kind=host,source="$tmp/rw" busybox --mount=volume=ro,target=/ro --mount=volume=rw,target=/rw -- \
        sh -c 'cat /ro/file; touch /ro/new && echo RO-WRITABLE; echo written >/rw/out && echo RW-OK; true' >/dev/null
wait_exited host
o=$(logs host)
assert_contains "$o" "host-data" "reads a host volume"
assert_not_contains "$o" "RO-WRITABLE" "a read-only host volume refuses writes"
assert_contains "$o" "Read-only file system" "EROFS from a read-only volume"
assert_contains "$o" "RW-OK" "writes to a read-write host volume"
[ ! -e "$tmp/ro/new" ] || fail "a file appeared in the read-only source"
assert_eq written "$(cat "$tmp/rw/out")" "the write reached the host"

say "tmpfs volume, with a size"
$PEAPOD run -d --name "$PFX-tmpfs" --volume=scratch,kind=tmpfs,size=1M busybox --mount=volume=scratch,target=/scratch -- \
        sh -c 'grep " /scratch " /proc/mounts; dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>&1; true' >/dev/null
wait_exited tmpfs
o=$(logs tmpfs)
assert_contains "$o" "tmpfs /scratch tmpfs" "a tmpfs on the target"
assert_contains "$o" "nosuid,nodev" "volumes are nosuid and nodev"
assert_contains "$o" "No space left on device" "size=1M holds"
tid=$(pod_id "$PFX-tmpfs")
$PEAPOD rm "$PFX-tmpfs" >/dev/null
! grep -q "/pods/$tid/" /proc/self/mountinfo || fail "the tmpfs volume is still mounted after rm"

say "targets that escape the app's root"
e=$(must_fail $PEAPOD run -d --name "$PFX-esc" --volume=v,kind=host,source="$tmp/rw" busybox --mount=volume=v,target=/../../etc -- true)
assert_contains "$e" "Invalid mount target" "a '..' target is refused by the CLI"
e=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' "$PFX-esc" \
        1 Volumes 'a(sssbt)' 1 v host "$tmp/rw" false 0 \
        1 app busybox 1 Mounts 'a(ss)' 1 v /tmp/../../etc)
assert_contains "$e" "Invalid mount target" "a '..' target is refused by CreatePod"
e=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' "$PFX-esc" \
        1 Volumes 'a(sssbt)' 1 v host /no/such/dir false 0 1 app busybox 0)
assert_contains "$e" "/no/such/dir" "a missing host source is refused by CreatePod"
e=$(must_fail $PEAPOD run -d --name "$PFX-esc" busybox --mount=volume=nosuch,target=/x -- true)
assert_contains "$e" "no --volume= defines it" "a mount of an unknown volume"
e=$(must_fail $PEAPOD run -d --name "$PFX-esc" --volume=v,kind=tmpfs,source=/tmp busybox -- true)
assert_contains "$e" "only a host volume has a source" "a source for a tmpfs"
[ -z "$($PEAPOD list --format=json | jq -r ".[] | select(.name == \"$PFX-esc\") | .id")" ] || fail "a refused pod was created"

# An image whose symlinks point out of its root, absolutely and with "..":
# the mounts land inside the app's root, never on the host; one whose
# target does not exist in the image is refused, not created on the host.
marker=peapod-escape-$$
"$here/../unit/make-test-image.py" "$tmp/img" --symlink=abs:/etc --symlink=rel:../../../../../../../../etc \
        --symlink=dangling:../../../../../../../var/tmp/$marker-host >/dev/null
tar -C "$tmp/img" -cf "$tmp/img.tar" .
$PEAPOD image import -q --name=localhost/symlinks:latest "$tmp/img.tar" >/dev/null
echo secret >"$tmp/rw/token"
$PEAPOD run -d --name "$PFX-sym" --volume=v,kind=host,source="$tmp/rw" localhost/symlinks:latest \
        --exec=/bin/busybox --mount=volume=v,target=/abs/$marker --mount=volume=v,target=/rel/$marker-2 -- \
        sh -c "cat /etc/$marker/token /etc/$marker-2/token" >/dev/null
wait_exited sym
o=$(logs sym)
assert_eq 0 "$($PEAPOD status --format=json "$PFX-sym" | jq -r '.apps[0].status')" "the app ran: $o"
assert_eq "secret
secret" "$o" "both mounts landed inside the app's root"
[ ! -e "/etc/$marker" ] && [ ! -e "/etc/$marker-2" ] || fail "a mount point was made in the host's /etc"
$PEAPOD run -d --name "$PFX-dangling" --volume=v,kind=host,source="$tmp/rw" localhost/symlinks:latest \
        --exec=/bin/busybox --mount=volume=v,target=/dangling/x -- true >/dev/null
wait_exited dangling
assert_eq 125 "$($PEAPOD status --format=json "$PFX-dangling" | jq -r '.apps[0].status')" "a target through a dangling symlink"
assert_contains "$(logs dangling)" "Failed to make mount point /dangling/x" "the reason is logged"
[ ! -e "/var/tmp/$marker-host" ] || fail "a directory was made on the host"
say "ok"
