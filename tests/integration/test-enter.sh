#!/bin/bash
# peapod enter / Pod.Exec: a command inside a running app gets the app's
# root and namespaces and exactly the app's privileges, never more; its
# exit code, stdout and stderr come back as they are.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$(realpath "$0")")

tmp=$(mktemp -d /var/tmp/enter.XXXXXX)
cleanup() { cleanup_pods; stop_registry; rm -rf "$tmp" /etc/peapod/registries.conf /etc/peapod/policy.json; }
trap cleanup EXIT

caps() { grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' "$@"; }

$PEAPOD run -d --name "$PFX-e" busybox --app-name=web -- sh -c 'echo in-app >/app-file; exec sleep 300' >/dev/null
wait_for 10 sh -c "[ \"\$($PEAPOD app status --format=json $PFX-e web | jq .pid)\" -gt 0 ]" || fail "app has no pid"
wait_for 10 test -e "/var/lib/peapod/pods/$(pod_id "$PFX-e")/apps/web/upper/app-file" || fail "app did not write"

# Exit code, and stdout and stderr apart.
rc=0
$PEAPOD enter "$PFX-e" -- sh -c 'echo to-out; echo to-err >&2; exit 3' >"$tmp/out" 2>"$tmp/err" || rc=$?
assert_eq 3 "$rc" "exit code of the command"
assert_eq to-out "$(cat "$tmp/out")" "stdout"
assert_eq to-err "$(cat "$tmp/err")" "stderr"
rc=0; $PEAPOD enter "$PFX-e" -- sh -c 'kill -9 $$' || rc=$?
assert_eq 137 "$rc" "killed command: 128+9"
rc=0; $PEAPOD enter "$PFX-e" -- /no/such/command 2>/dev/null || rc=$?
assert_eq 127 "$rc" "missing command"
# stdin reaches it.
assert_eq piped "$(echo piped | $PEAPOD enter "$PFX-e" -- cat)" "stdin"
# A signal to peapod enter reaches the command, which has no terminal of
# ours to get ^C from.
$PEAPOD enter "$PFX-e" -- sleep 300 &
enter_pid=$!
wait_for 10 sh -c "pgrep -f '^peapod-stage1-exec ' >/dev/null" || fail "the exec's helper does not run"
# (SIGTERM: a non-interactive shell starts background jobs with SIGINT ignored.)
kill -TERM "$enter_pid"
rc=0; wait "$enter_pid" || rc=$?
assert_eq 143 "$rc" "SIGTERM passed on to the command"
wait_for 10 sh -c "! pgrep -f '^peapod-stage1-exec ' >/dev/null" ||
        fail "the command outlived peapod enter"
# The same signal at every moment of the start, 0 to 38 ms after it: a
# signal while peapodd started the command ended the CLI (its default
# action) or failed its call (an interrupted wait), and left the command
# running (in 10-13 of 40 tries).
for ms in $(seq 0 2 38); do
        $PEAPOD enter "$PFX-e" -- sleep 300 >/dev/null 2>"$tmp/race-err" &
        enter_pid=$!
        sleep "$(printf '0.%03d' "$ms")"
        kill -TERM "$enter_pid"
        rc=0; wait "$enter_pid" || rc=$?
        assert_eq 143 "$rc" "SIGTERM $ms ms after the start ($(cat "$tmp/race-err"))"
        wait_for 10 sh -c "! pgrep -f '^peapod-stage1-exec ' >/dev/null" ||
                fail "the command outlived peapod enter, SIGTERM $ms ms after its start"
done

# The app's file system, not the host's; the pod's hostname and pid namespace.
echo host-only >/var/tmp/enter-host-marker-$$
assert_eq in-app "$($PEAPOD enter "$PFX-e" -- cat /app-file)" "file the app wrote"
$PEAPOD enter "$PFX-e" -- test ! -e /var/tmp/enter-host-marker-$$ || fail "host file visible in the app"
rm -f /var/tmp/enter-host-marker-$$
assert_eq "$PFX-e" "$($PEAPOD enter "$PFX-e" -- hostname)" "pod's hostname"
assert_contains "$($PEAPOD enter "$PFX-e" -- ps -o comm)" "sleep" "pod's processes"
[ "$($PEAPOD enter "$PFX-e" -- sh -c 'ls /proc | grep -c "^[0-9]"')" -lt 20 ] || fail "host pid namespace visible"

# Nothing of the helpers' crosses into the pod: the command and the app
# hold their stdin, stdout and stderr only (3 is ls's own directory).
assert_eq "0 1 2 3" "$($PEAPOD enter "$PFX-e" -- ls /proc/self/fd | xargs)" "the command's descriptors"
assert_eq "0 1 2" "$($PEAPOD enter "$PFX-e" -- sh -c 'ls /proc/$(pidof sleep)/fd' | xargs)" "the app's descriptors"

# Exactly the app's identity and capabilities.
pid=$($PEAPOD app status --format=json "$PFX-e" web | jq .pid)
assert_eq "$(caps /proc/$pid/status)" "$($PEAPOD enter "$PFX-e" -- cat /proc/self/status | caps)" "root app: same privileges"

# -t: a terminal.
assert_contains "$(echo | $PEAPOD enter -t "$PFX-e" -- sh -c 'test -t 0 && test -t 1 && echo is-a-tty')" "is-a-tty" "-t gives a tty"
$PEAPOD enter "$PFX-e" -- sh -c 'test ! -t 0' </dev/null || fail "without -t no tty"

# Errors: one line each.
err=$(must_fail $PEAPOD enter "$PFX-e" --app=nosuch -- true)
assert_contains "$err" "no app nosuch" "unknown app"
err=$(must_fail $PEAPOD enter "$PFX-nosuch" -- true)
assert_contains "$err" "No such pod" "unknown pod"
$PEAPOD app add --start --name=second "$PFX-e" busybox -- sleep 300 >/dev/null
err=$(must_fail $PEAPOD enter "$PFX-e" -- true)
assert_contains "$err" "--app" "two running apps: choose one"
assert_eq second "$($PEAPOD enter --app=second "$PFX-e" -- sh -c 'ps -o args | grep -c "sleep 300" >/dev/null && echo second')" "enter --app"
$PEAPOD app add --start --name=done "$PFX-e" busybox -- true >/dev/null
wait_for 10 sh -c "[ \"\$($PEAPOD app status --format=json $PFX-e done | jq -r .state)\" = exited ]" || fail "app did not exit"
err=$(must_fail $PEAPOD enter --app=done "$PFX-e" -- true)
assert_contains "$err" "not running" "exec into an exited app"
[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "more than one line: $err"
# No unit per exec, and no helper left once done.
assert_eq 0 "$(systemctl list-units --all --plain --no-legend 'peapod-*_exec-*' | wc -l)" "exec units"
wait_for 10 sh -c "! pgrep -f '^peapod-stage1-exec ' >/dev/null" ||
        fail "execs left: $(pgrep -a -f '^peapod-stage1-exec ')"
# Non-root callers are refused.
err=$(must_fail setpriv --reuid=65534 --regid=65534 --clear-groups $PEAPOD enter "$PFX-e" --app=web -- true)
assert_contains "$err" "denied" "unprivileged caller"

# A non-root app: the command is that user, without capabilities it lacks.
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
        start_registry "$tmp"
        registry_allow_insecure
        # An unsigned test image: trust is test-trust.sh's subject.
        policy_accept_unsigned "$REGISTRY/test"
        "$here/../unit/make-test-image.py" "$tmp/numeric" --user=1234:5678 >/dev/null
        skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$tmp/numeric:latest" "docker://$REGISTRY/test/numeric:latest"
        $PEAPOD image pull -q "$REGISTRY/test/numeric:latest" >/dev/null
        $PEAPOD run -d --name "$PFX-u" "$REGISTRY/test/numeric:latest" --app-name=u --exec=/bin/busybox -- sleep 300 >/dev/null
        wait_for 10 sh -c "[ \"\$($PEAPOD app status --format=json $PFX-u u | jq .pid)\" -gt 0 ]" || fail "user app has no pid"
        pid=$($PEAPOD app status --format=json "$PFX-u" u | jq .pid)
        assert_eq "1234 5678" "$($PEAPOD enter "$PFX-u" -- /bin/busybox sh -c 'echo $(busybox id -u) $(busybox id -g)')" "app's uid and gid"
        assert_eq "$(caps /proc/$pid/status)" "$($PEAPOD enter "$PFX-u" -- /bin/busybox cat /proc/self/status | caps)" "user app: same privileges"
        assert_eq 0000000000000000 "$($PEAPOD enter "$PFX-u" -- /bin/busybox cat /proc/self/status | awk '/^CapEff:/ { print $2 }')" "no effective capabilities"
        rc=0; $PEAPOD enter "$PFX-u" -- /bin/busybox chown 0:0 /tmp 2>/dev/null || rc=$?
        [ "$rc" -ne 0 ] || fail "chown worked without CAP_CHOWN"
fi
