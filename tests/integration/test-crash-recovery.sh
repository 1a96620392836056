#!/bin/bash
# peapodd killed (SIGKILL, through the PEAPOD_DEBUG_CRASH_AT hook) at each
# step of creating, starting, stopping and removing a pod: the next peapodd
# leaves a consistent pod (created, or exited) that can be started and
# removed, or nothing at all for a removal: no unit, machine, mount,
# process or directory.
. "$(dirname "$0")/lib.sh"

# Every pod mounts a host volume: its pin (the source bound into the pod's
# directory at start) must go with the rest, and never take the host's
# files with it.
vol=$(mktemp -d)
echo keep >"$vol/keep"
cleanup() {
        systemctl unset-environment PEAPOD_DEBUG_CRASH_AT
        systemctl restart peapodd.service
        cleanup_pods
        rm -rf "$vol"
}
trap cleanup EXIT

# crash_at STEP CMD...: peapodd dies at STEP while serving CMD; then a clean
# peapodd starts (Restart= brings one up at once, still with the hook set:
# stop it, clear the hook, start a clean one).
crash_at() {
        local step=$1; shift
        systemctl set-environment PEAPOD_DEBUG_CRASH_AT="$step"
        systemctl restart peapodd.service
        local old; old=$(systemctl show -P MainPID peapodd.service)
        "$@" >/dev/null 2>&1 && fail "$step: the call did not fail"
        wait_for 10 sh -c "! kill -0 $old 2>/dev/null" || fail "$step: peapodd did not crash"
        systemctl unset-environment PEAPOD_DEBUG_CRASH_AT
        systemctl stop peapodd.service
        systemctl start peapodd.service
        journal_wait "PEAPOD_DEBUG_CRASH_AT=$step" -u peapodd.service || fail "$step: the hook was not hit"
}

pod_dir() { echo "/var/lib/peapod/pods/$1"; }
create() { # NAME: a pod of one app, created over the bus (no CLI clean-up in between)
        busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' "$1" \
                1 Volumes 'a(sssbt)' 1 v host "$vol" false 0 \
                1 web busybox 2 Exec as 2 sleep 300 Mounts 'a(ss)' 1 v /data >/dev/null
}
start() { busctl call --timeout=60 org.peapod1 /org/peapod1 org.peapod1.Manager StartPod s "$1"; }

# Nothing of a pod is running: no unit, no machine, no mount, no process.
assert_nothing_runs() { # NAME ID WHAT
        local esc=${1//-/\\x2d}
        [ -z "$(pod_units_list "$esc" | grep -v ' inactive ' || true)" ] ||
                fail "$3: units left: $(pod_units_list "$esc")"
        ! machinectl show "$1" >/dev/null 2>&1 || fail "$3: machine left"
        ! findmnt -rn -o TARGET | grep "$2" >/dev/null || fail "$3: mounts left: $(findmnt -rn -o TARGET | grep "$2")"
        ! pgrep -f -- "$2" >/dev/null || fail "$3: processes left: $(pgrep -a -f -- "$2")"
}

# Creation: the pod exists (it was saved) and is whole.
crash_at create-saved create "$PFX-c"
assert_eq created "$(pod_state "$PFX-c")" "create-saved: pod kept as created"
$PEAPOD start "$PFX-c"
assert_eq running "$(pod_state "$PFX-c")" "create-saved: starts"
$PEAPOD rm -f "$PFX-c"

# Start, at each step: undone, the pod is created again and starts.
for step in start-prepared start-mounted start-init start-network start-machine start-apps; do
        name=$PFX-${step#start-}
        create "$name"
        id=$(pod_id "$name")
        crash_at "$step" start "$name"
        assert_eq created "$(pod_state "$name")" "$step: pod back to created"
        assert_nothing_runs "$name" "$id" "$step"
        $PEAPOD start "$name"
        assert_eq running "$(pod_state "$name")" "$step: starts after recovery"
        assert_eq running "$($PEAPOD app status --format=json "$name" web | jq -r .state)" "$step: app runs"
        $PEAPOD rm -f "$name"
        assert_nothing_runs "$name" "$id" "$step: after rm"
        [ ! -e "$(pod_dir "$id")" ] || fail "$step: pod directory left after rm"
done

# Stop: the pod ends up exited, its units gone.
create "$PFX-stop"; start "$PFX-stop" >/dev/null
id=$(pod_id "$PFX-stop")
crash_at stop-stopped busctl call --timeout=60 org.peapod1 /org/peapod1 org.peapod1.Manager StopPod s "$PFX-stop"
assert_eq exited "$(pod_state "$PFX-stop")" "stop-stopped: pod exited"
assert_nothing_runs "$PFX-stop" "$id" "stop-stopped"
$PEAPOD rm "$PFX-stop"

# Exited and announced, its CNI networks not yet deleted (peapodd deletes
# them after it reports the exit): the next peapodd deletes them.
create "$PFX-exited"; start "$PFX-exited" >/dev/null
id=$(pod_id "$PFX-exited")
[ -e "/run/peapod/netns/$id" ] || fail "stop-exited: the pod has no network namespace to begin with"
crash_at stop-exited busctl call --timeout=60 org.peapod1 /org/peapod1 org.peapod1.Manager StopPod s "$PFX-exited"
assert_eq exited "$(pod_state "$PFX-exited")" "stop-exited: pod exited"
assert_nothing_runs "$PFX-exited" "$id" "stop-exited"
wait_for 20 sh -c "[ ! -e /run/peapod/netns/$id ] && [ ! -e $(pod_dir "$id")/network ]" ||
        fail "stop-exited: the networks were not deleted by the next peapodd: $(ls /run/peapod/netns "$(pod_dir "$id")/network" 2>&1)"
$PEAPOD rm "$PFX-exited"

# Removal, at each step: nothing is left, and the pod is gone.
for step in remove-unmounted remove-renamed; do
        name=$PFX-${step#remove-}
        create "$name"; start "$name" >/dev/null; $PEAPOD stop "$name"
        id=$(pod_id "$name")
        crash_at "$step" busctl call org.peapod1 /org/peapod1 org.peapod1.Manager RemovePod st "$name" 0
        if [ "$step" = remove-unmounted ]; then
                # Not yet decided: the pod is still there, whole, and goes now.
                assert_eq exited "$(pod_state "$name")" "$step: pod kept"
                $PEAPOD rm "$name"
        fi
        ! $PEAPOD status "$name" >/dev/null 2>&1 || fail "$step: pod still listed"
        [ -z "$(ls -A /var/lib/peapod/pods | grep "$id" || true)" ] || fail "$step: left on disk: $(ls -A /var/lib/peapod/pods | grep "$id")"
        assert_nothing_runs "$name" "$id" "$step"
done

# A directory that never got its pod.json (a creation cut short) goes too.
mkdir -p /var/lib/peapod/pods/0123456789abcdef0123456789abcdef/apps
systemctl restart peapodd.service
$PEAPOD list >/dev/null
[ ! -e /var/lib/peapod/pods/0123456789abcdef0123456789abcdef ] || fail "pod directory without pod.json kept"
assert_eq keep "$(cat "$vol/keep")" "the host volume's file after all the crashes"
[ "$(ls -A "$vol")" = keep ] || fail "the host volume changed: $(ls -A "$vol")"
