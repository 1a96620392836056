#!/bin/bash
# machinectl on a pod: poweroff and terminate both stop the apps
# gracefully (SIGTERM first, SIGKILL only after the stop timeout); shell,
# login, copy-to and copy-from never reach the host's files (the machine's
# root is the pod's empty, read-only infra root) and fail.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
cleanup() {
        $PEAPOD rm --force "${PFX}poweroff" "${PFX}reboot" "${PFX}kill" "${PFX}terminate" "${PFX}deaf" "${PFX}cp" >/dev/null 2>&1 || true
        rm -rf "$T" /peapod-copy-to-probe
}
trap cleanup EXIT
wait_exited() { wait_for "${2:-60}" sh -c "[ \"\$($PEAPOD status --format=json $1 | jq -r .state)\" = exited ]" || fail "pod $1 did not exit"; }
# An app that says when it got SIGTERM and then exits 0.
trapper='trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.1; done'

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

# shell, login, copy-to, copy-from: never the host's root; shell and login
# say what to use instead.
$PEAPOD run -d --name "${PFX}cp" --net=none busybox -- sleep 300 >/dev/null
wait_for 30 sh -c "[ \"\$(machinectl show -p State --value ${PFX}cp)\" = running ]" || fail "machine not running"
out=$(timeout 30 machinectl shell "${PFX}cp" /bin/sh -c 'cat /etc/hostname' </dev/null 2>&1) &&
        fail "machinectl shell worked: $out"
assert_not_contains "$out" "$(cat /etc/hostname)" "machinectl shell"
assert_contains "$out" "use 'peapod enter POD'" "machinectl shell says what to use"
say "machinectl shell refused: $out"
out=$(timeout 30 machinectl login "${PFX}cp" </dev/null 2>&1) && fail "machinectl login worked: $out"
assert_contains "$out" "use 'peapod enter POD'" "machinectl login says what to use"
say "machinectl login refused: $out"
echo probe >"$T/probe"
out=$(timeout 30 machinectl copy-to "${PFX}cp" "$T/probe" /peapod-copy-to-probe 2>&1) && fail "machinectl copy-to worked: $out"
[ ! -e /peapod-copy-to-probe ] || fail "machinectl copy-to wrote into the host's root"
say "machinectl copy-to refused: $out"
out=$(timeout 30 machinectl copy-from "${PFX}cp" /etc/hostname "$T/hostname" 2>&1) && fail "machinectl copy-from of /etc/hostname worked: $(cat "$T/hostname")"
say "machinectl copy-from refused: $out"
# What the machine's root does hold is the pod's own os-release.
timeout 30 machinectl copy-from "${PFX}cp" /etc/os-release "$T/os-release"
assert_contains "$(cat "$T/os-release")" "peapod pod" "the machine's root is the pod's"
# The pod is unharmed.
assert_eq running "$(pod_state "${PFX}cp")" "pod after the machinectl attempts"
say ok
