#!/bin/bash
# fly apps share the host's PID namespace and are only chrooted: a default
# app has no KILL, SETUID or SYS_CHROOT, so it can neither signal a host
# process of another user (not even by taking that user's uid) nor walk out
# of its chroot into the host's root. An app that retains them by name gets
# them: both attacks then succeed, so the checks can fail.
. "$(dirname "$0")/lib.sh"

MARKER=/var/tmp/fly-caps-marker-$$
VICTIM=""
cleanup() {
        cleanup_pods
        [ -z "$VICTIM" ] || { kill "$VICTIM" 2>/dev/null || true; wait "$VICTIM" 2>/dev/null || true; }
        rm -f "$MARKER"
}
trap cleanup EXIT

# out NAME APP-OPTIONS... -- CMD...: runs one fly app of the hostile image
# to its end; prints what it wrote and "exit-status=N".
out() {
        local name=$1; shift
        $PEAPOD run -d --stage1=fly --name "$PFX-$name" "$PFX-fly" "$@" >/dev/null
        wait_for 30 sh -c "[ \"\$($PEAPOD status --format=json $PFX-$name | jq -r .state)\" = exited ]" ||
                fail "pod $name did not end"
        $PEAPOD logs --no-prefix "$PFX-$name" 2>&1
        echo "exit-status=$($PEAPOD status --format=json "$PFX-$name" | jq -r '.apps[0].status')"
}
status_field() { printf '%s\n' "$1" | sed -n "s/^$2:[[:space:]]*//p"; }

hostile_image "$PFX-fly" sigkill chrootout
echo host >"$MARKER"
# A host process of another user (nobody).
setpriv --reuid=65534 --regid=65534 --clear-groups sleep 300 &
VICTIM=$!
wait_for 10 sh -c "[ \"\$(awk '/^Uid:/ { print \$2 }' /proc/$VICTIM/status)\" = 65534 ]" || fail "victim not running as nobody"

o=$(out default -- /bin/busybox sh -c "grep -E '^Cap(Eff|Bnd):' /proc/self/status; /bin/sigkill $VICTIM; /bin/chrootout $MARKER")
# The default set (0xa80405fb) without KILL (5), SETUID (7) and SYS_CHROOT (18).
assert_eq 00000000a800055b "$(status_field "$o" CapEff)" "default fly CapEff"
assert_eq 00000000a800055b "$(status_field "$o" CapBnd)" "default fly CapBnd"
assert_contains "$o" "kill=EPERM" "kill of another user's host process"
assert_contains "$o" "setuid=EPERM" "taking the victim's uid"
assert_contains "$o" "chroot=EPERM" "chroot"
assert_not_contains "$o" "escaped=yes" "walking out of the chroot"
kill -0 "$VICTIM" || fail "the victim died"

# --caps-remove starts from the same fly set.
o=$(out remove --caps-remove=chown -- /bin/busybox grep CapEff /proc/self/status)
assert_eq 00000000a800055a "$(status_field "$o" CapEff)" "fly CapEff with --caps-remove"

# Control: retained by name, they are there, and both attacks work.
o=$(out retain --caps-retain=sys_chroot,kill -- /bin/busybox sh -c "/bin/chrootout $MARKER; /bin/sigkill $VICTIM")
assert_contains "$o" "escaped=yes" "control: SYS_CHROOT walks out of the chroot"
assert_contains "$o" "kill=OK" "control: KILL signals the host process"
wait_for 10 sh -c "! kill -0 $VICTIM" || fail "the victim survived a retained KILL"
wait "$VICTIM" 2>/dev/null || true
VICTIM=""
say "ok"
