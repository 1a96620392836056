#!/bin/bash
# The CLI's other waits on peapodd (logs --follow, enter) end, with a
# message that says so, when peapodd is killed meanwhile; the pod itself
# keeps running (systemd owns it).
. "$(dirname "$0")/lib.sh"

dir=$(mktemp -d)
cleanup() {
        rm -rf "$dir"
        systemctl start peapodd.service 2>/dev/null || true
        cleanup_pods
}
trap cleanup EXIT

# kill_peapodd_during CMD...: run CMD in the background, wait until it is
# waiting on peapodd (it printed something), SIGKILL peapodd, and expect CMD
# to fail within 5 s. Its stderr ends up in $dir/err.
kill_peapodd_during() {
        local cli daemon rc=0
        # Removed here, not truncated by the redirection below: that
        # happens in the background child, maybe after the first look.
        rm -f "$dir/out" "$dir/err"
        "$@" >"$dir/out" 2>"$dir/err" &
        cli=$!
        wait_for 60 test -s "$dir/out" || fail "$*: never got going: $(cat "$dir/err")"
        daemon=$(systemctl show -P MainPID peapodd.service)
        [ "$daemon" -gt 0 ] || fail "peapodd not running as a service"
        kill -KILL "$daemon"
        wait_for 5 sh -c "! kill -0 $cli 2>/dev/null" || { kill "$cli"; fail "$*: still waiting 5 s after peapodd was killed: $(cat "$dir/err")"; }
        wait "$cli" || rc=$?
        [ "$rc" -ne 0 ] || fail "$*: succeeded although peapodd was killed"
        systemctl start peapodd.service || { journalctl -u peapodd.service --no-pager -n 30; fail "peapodd did not start again"; }
}

$PEAPOD run -d --name "$PFX-k" busybox -- sh -c 'echo up; exec sleep 300' >/dev/null
wait_for 30 sh -c "$PEAPOD logs --no-prefix $PFX-k | grep -qx up" || fail "app did not start"

say "logs --follow (its first line says that it follows)"
kill_peapodd_during $PEAPOD logs --follow --no-prefix "$PFX-k"
assert_contains "$(cat "$dir/err")" "peapodd exited while following the logs" "logs --follow"

say "enter (the command's first line says that it runs)"
# Killed after it answered Exec, or just before (the command may print
# first): either way the CLI says so.
kill_peapodd_during $PEAPOD enter "$PFX-k" -- sh -c 'echo in; exec sleep 300'
case "$(cat "$dir/err")" in
*"peapodd exited while the command ran"* | *"peapodd exited before it answered"*) ;;
*) fail "enter: $(cat "$dir/err")" ;;
esac

assert_eq running "$(pod_state "$PFX-k")" "the pod after two kills of peapodd"
