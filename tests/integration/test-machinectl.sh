#!/bin/bash
# machinectl on a pod: poweroff and terminate both stop the apps
# gracefully (SIGTERM first, SIGKILL only after the stop timeout); shell,
# login are refused and say what to use instead; copy-to and copy-from act
# on the first app's root, and the app's own links never lead them to the
# host's files.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
# A file the host and the first app of ${PFX}cp both have.
sentinel=peapod-copy-sentinel-$$
echo host >"/etc/$sentinel"
cleanup() {
        $PEAPOD rm --force "${PFX}poweroff" "${PFX}reboot" "${PFX}kill" "${PFX}terminate" "${PFX}deaf" "${PFX}cp" "${PFX}ro" >/dev/null 2>&1 || true
        rm -rf "$T" ${rovol:+"$rovol"} /peapod-copy-proc "/etc/$sentinel" /etc/peapod-copy-abs /etc/peapod-copy-rel
}
trap cleanup EXIT
wait_exited() { wait_for "${2:-60}" sh -c "[ \"\$($PEAPOD status --format=json $1 | jq -r .state)\" = exited ]" || fail "pod $1 did not exit"; }
# An app that says when it got SIGTERM and then exits 0.
trapper='trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.1; done'
# The first app of ${PFX}cp: files for copy-from, and links that would
# lead to the host's files if anything followed them outside the app.
planter="echo from-app >/tmp/app-file; mkdir -p /tmp/dir; echo nested >/tmp/dir/n;
        echo pod >/etc/$sentinel; ln -sfn /etc/$sentinel /tmp/link; ln -sfn /etc /tmp/etc;
        ln -sfn ../../../../etc /tmp/up; ln -sfn /proc/1/root /tmp/proc; echo planted; exec sleep 300"

# poweroff, halt and reboot signal the leader (SIGRTMIN+4, +3, SIGINT),
# kill signals the scope (SIGTERM), terminate stops it through systemd.
for how in poweroff reboot kill terminate; do
        pod=${PFX}$how
        $PEAPOD run -d --name "$pod" --net=none busybox --app-name=trapper -- sh -c "$trapper" \
                --- busybox --app-name=second -- sh -c "$trapper" >/dev/null
        wait_for 30 sh -c "[ \$($PEAPOD logs $pod | grep -c ready) = 2 ]" || fail "$how: apps did not start"
        machinectl "$how" "$pod"
        wait_exited "$pod"
        wait_for 30 sh -c "[ \$($PEAPOD logs $pod | grep -c got-term) = 2 ]" ||
                fail "machinectl $how: the apps did not get SIGTERM: $($PEAPOD logs "$pod" 2>&1)"
        for app in trapper second; do
                st=$($PEAPOD app status --format=json "$pod" "$app")
                assert_eq "exited 0" "$(echo "$st" | jq -r '"\(.result) \(.status)"')" "machinectl $how: how $app ended ($st)"
        done
        say "machinectl $how: SIGTERM, exit 0"
done

# An app that ignores SIGTERM is killed after the stop timeout (10 s), not
# kept forever.
$PEAPOD run -d --name "${PFX}deaf" --net=none busybox -- sh -c 'trap "" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
wait_for 30 sh -c "$PEAPOD logs ${PFX}deaf | grep -q ready" || fail "deaf app did not start"
start=$SECONDS
machinectl poweroff "${PFX}deaf"
wait_exited "${PFX}deaf" 60
[ $((SECONDS - start)) -ge 8 ] || fail "an app that ignores SIGTERM was killed before the stop timeout"
say "poweroff of an app ignoring SIGTERM: ended after $((SECONDS - start)) s"

# shell and login: never the host's root; they say what to use instead.
rovol=$(mktemp -d /var/tmp/machinectl.XXXXXX)
$PEAPOD run -d --name "${PFX}cp" --net=none --volume=data,kind=empty --volume=ro,kind=host,source="$rovol",readOnly=true \
        busybox --app-name=first --mount=volume=data,target=/data --mount=volume=ro,target=/ro -- sh -c "$planter" \
        --- busybox --app-name=second -- sleep 300 >/dev/null
wait_for 30 sh -c "$PEAPOD logs ${PFX}cp | grep -q planted" || fail "the first app did not start: $($PEAPOD logs "${PFX}cp" 2>&1)"
assert_eq running "$(machinectl show -p State --value "${PFX}cp")" "machine state"
out=$(timeout 30 machinectl shell "${PFX}cp" /bin/sh -c 'cat /etc/hostname' </dev/null 2>&1) &&
        fail "machinectl shell worked: $out"
assert_not_contains "$out" "$(cat /etc/hostname)" "machinectl shell"
assert_contains "$out" "use 'peapod enter POD'" "machinectl shell says what to use"
say "machinectl shell refused: $out"
out=$(timeout 30 machinectl login "${PFX}cp" </dev/null 2>&1) && fail "machinectl login worked: $out"
assert_contains "$out" "use 'peapod enter POD'" "machinectl login says what to use"
say "machinectl login refused: $out"

# copy-to and copy-from act on the first app's root while it runs.
echo probe >"$T/probe"
timeout 30 machinectl copy-to "${PFX}cp" "$T/probe" /tmp/probe
assert_eq probe "$($PEAPOD enter --app=first "${PFX}cp" -- cat /tmp/probe)" "copy-to, seen by the app"
[ ! -e /tmp/probe ] || fail "machinectl copy-to wrote into the host's /tmp"
$PEAPOD enter --app=second "${PFX}cp" -- test -e /tmp/probe && fail "copy-to reached the second app's root"
timeout 30 machinectl copy-from "${PFX}cp" /tmp/app-file "$T/app-file"
assert_eq from-app "$(cat "$T/app-file")" "copy-from of a file the app wrote"
timeout 30 machinectl copy-from "${PFX}cp" /tmp/dir "$T/dir"
assert_eq nested "$(cat "$T/dir/n")" "copy-from of a directory"
say "copy-to and copy-from: the first app's root"
# Its volumes are there too, as the app has them.
timeout 30 machinectl copy-to "${PFX}cp" "$T/probe" /data/probe
assert_eq probe "$($PEAPOD enter --app=first "${PFX}cp" -- cat /data/probe)" "copy-to into a volume, seen by the app"
assert_eq probe "$(cat "/var/lib/peapod/pods/$(pod_id "${PFX}cp")/volumes/data/probe")" "copy-to into a volume, in the volume"
out=$(timeout 30 machinectl copy-to "${PFX}cp" "$T/probe" /ro/probe 2>&1) && fail "copy-to into a read-only volume worked: $out"
assert_contains "$out" "Read-only file system" "copy-to into a read-only volume"
[ ! -e "$rovol/probe" ] || fail "copy-to wrote into a read-only volume's source"
say "copy-to into volumes: as the app has them"

# The app's own links resolve in the app's root, never on the host: it
# planted /tmp/link -> /etc/$sentinel (a file the host has too), /tmp/etc
# -> /etc, /tmp/up -> ../../../../etc and /tmp/proc -> /proc/1/root.
timeout 30 machinectl copy-to "${PFX}cp" "$T/probe" /tmp/etc/peapod-copy-abs
timeout 30 machinectl copy-to "${PFX}cp" "$T/probe" /tmp/up/peapod-copy-rel
for f in peapod-copy-abs peapod-copy-rel; do
        [ ! -e "/etc/$f" ] || fail "copy-to through the app's link wrote the host's /etc/$f"
        assert_eq probe "$($PEAPOD enter --app=first "${PFX}cp" -- cat "/etc/$f")" "copy-to through a link, in the app's /etc"
done
echo evil >"$T/evil"
out=$(timeout 30 machinectl copy-to "${PFX}cp" "$T/evil" /tmp/link 2>&1) && fail "copy-to onto the app's link worked: $out"
say "copy-to onto a link refused: $out"
if machinectl --help | grep -q -- --force; then
        # Replaces the link itself (a new file renamed over it).
        timeout 30 machinectl copy-to --force "${PFX}cp" "$T/evil" /tmp/link
        assert_eq evil "$($PEAPOD enter --app=first "${PFX}cp" -- cat /tmp/link)" "copy-to --force onto the link"
        assert_eq pod "$($PEAPOD enter --app=first "${PFX}cp" -- cat "/etc/$sentinel")" "the app's file behind the link"
fi
assert_eq host "$(cat "/etc/$sentinel")" "the host's file after copy-to"
out=$(timeout 30 machinectl copy-to "${PFX}cp" "$T/probe" /tmp/proc/peapod-copy-proc 2>&1) && fail "copy-to through /proc worked: $out"
[ ! -e /peapod-copy-proc ] || fail "copy-to through /proc wrote into the host's root"
out=$(timeout 30 machinectl copy-from "${PFX}cp" /proc/1/status "$T/status" 2>&1) && fail "copy-from of /proc/1/status worked: $out"
timeout 30 machinectl copy-from "${PFX}cp" "/tmp/etc/$sentinel" "$T/sentinel"
assert_eq pod "$(cat "$T/sentinel")" "copy-from through the app's link"
# A link comes over as a link, never as what it names on the host.
timeout 30 machinectl copy-from "${PFX}cp" /tmp/up "$T/up"
assert_eq ../../../../etc "$(readlink "$T/up")" "copy-from of a link"
assert_eq host "$(cat "/etc/$sentinel")" "the host's file after copy-from"
say "the app's links stay in the app's root"

# The clone is the only overlay on PID 1's root; it goes with the app
# (and its volumes with it), and comes back with it.
leader=$(machinectl show -p Leader --value "${PFX}cp")
overlays() { awk '$5 == "/" && / - overlay / { n++ } END { print n + 0 }' "/proc/$leader/mountinfo"; }
mounts() { wc -l <"/proc/$leader/mountinfo"; }
infra_mounts=3 # the tmpfs, its /proc and /dev/pts
assert_eq 1 "$(overlays)" "overlays in PID 1's namespace"
$PEAPOD app stop "${PFX}cp" first
assert_eq 0 "$(overlays)" "overlays in PID 1's namespace after the app stopped"
assert_eq "$infra_mounts" "$(mounts)" "mounts in PID 1's namespace after the app stopped"
out=$(timeout 30 machinectl copy-to "${PFX}cp" "$T/probe" /tmp/probe 2>&1) && fail "copy-to without the first app worked: $out"
timeout 30 machinectl copy-from "${PFX}cp" /etc/os-release "$T/os-release"
assert_contains "$(cat "$T/os-release")" "peapod pod" "without the first app, copy sees the pod's infra root"
say "first app stopped: copy-to refused ($out)"
$PEAPOD app start "${PFX}cp" first
wait_for 30 sh -c "[ \$($PEAPOD logs ${PFX}cp | grep -c planted) = 2 ]" || fail "the first app did not start again"
assert_eq 1 "$(overlays)" "overlays in PID 1's namespace after a restart"
timeout 30 machinectl copy-from "${PFX}cp" /tmp/probe "$T/probe-again"
assert_eq probe "$(cat "$T/probe-again")" "copy-from after a restart"
# A helper killed outright cannot withdraw its clone: the next start does.
systemctl kill --signal=KILL "$($PEAPOD app status --format=json "${PFX}cp" first | jq -r .unit)"
wait_for 30 sh -c "[ \"\$($PEAPOD app status --format=json ${PFX}cp first | jq -r .state)\" = exited ]" || fail "the first app did not end"
$PEAPOD app start "${PFX}cp" first
wait_for 30 sh -c "[ \$($PEAPOD logs ${PFX}cp | grep -c planted) = 3 ]" || fail "the first app did not start after SIGKILL"
assert_eq 1 "$(overlays)" "overlays in PID 1's namespace after a SIGKILL and a start"
timeout 30 machinectl copy-to "${PFX}cp" "$T/evil" /tmp/after-kill
assert_eq evil "$($PEAPOD enter --app=first "${PFX}cp" -- cat /tmp/after-kill)" "copy-to after a SIGKILL and a start"
say "copy follows the first app's stops and starts"

# The pod is unharmed.
assert_eq running "$(pod_state "${PFX}cp")" "pod after the machinectl attempts"

# An app with a read-only root is read-only to copy-to as well.
$PEAPOD run -d --name "${PFX}ro" --net=none busybox --readonly-rootfs -- sleep 300 >/dev/null
wait_for 30 sh -c "[ \"\$(machinectl show -p State --value ${PFX}ro)\" = running ]" || fail "machine ${PFX}ro not running"
out=$(timeout 30 machinectl copy-to "${PFX}ro" "$T/probe" /probe 2>&1) && fail "copy-to into a read-only app worked: $out"
assert_contains "$out" "Read-only file system" "copy-to into a read-only app"
timeout 30 machinectl copy-from "${PFX}ro" /bin/busybox "$T/busybox"
$PEAPOD enter "${PFX}ro" -- cat /bin/busybox | cmp -s - "$T/busybox" || fail "copy-from a read-only app: not the app's /bin/busybox"
say "read-only app: copy-to refused ($out), copy-from works"
say ok
