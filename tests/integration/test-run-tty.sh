#!/bin/bash
# peapod run -i and -t, as a podman user types them: stdin through a pipe,
# a terminal of the app's own (a pty whose master the CLI relays), resize,
# ^C as a byte under -it, SIGINT stopping the pod without -t, the app's
# stdin kept across daemon-reload/reexec, and never a terminal of the
# caller's in the pod.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
cleanup() {
        exec 3>&- 2>/dev/null || true
        cleanup_pods
        rm -rf "$tmp"
}
trap cleanup EXIT

# drive PYTHON-SNIPPET CMD...: runs CMD on a new pty (its controlling
# terminal, 24x80) from python; the snippet gets `fd` (the master),
# `expect(text, timeout)`, `send(bytes)` and `out` (all read so far);
# prints everything read and "rc=N" at the end.
drive() {
        python3 - "$@" <<'PY'
import fcntl, os, pty, select, struct, sys, termios, time
snippet, cmd = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
out = b""
def pump(t):
    global out
    r, _, _ = select.select([fd], [], [], t)
    if r:
        try:
            c = os.read(fd, 4096)
        except OSError:
            c = b""
        out += c
        return len(c) > 0
    return True
def expect(text, timeout=60):
    end = time.time() + timeout
    while text.encode() not in out:
        if time.time() > end or not pump(0.2) and text.encode() not in out:
            sys.stdout.write(out.decode(errors="replace"))
            sys.exit("timed out waiting for %r" % text)
def send(b):
    os.write(fd, b)
exec(snippet)
end = time.time() + 120
while time.time() < end and pump(0.2):
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print("rc=%d" % os.waitstatus_to_exitcode(status))
PY
}

# -i: our stdin, through a pipe, is the app's; EOF ends it.
rc=0
o=$(echo hello | $PEAPOD run --rm -i --name "${PFX}cat" --net=none busybox -- cat) || rc=$?
assert_eq "0 hello" "$rc $o" "echo hello | run -i cat"
must_fail $PEAPOD status "${PFX}cat" >/dev/null
o=$(printf 'a\nb\nc\n' | $PEAPOD run --rm -i --net=none busybox -- wc -l)
assert_eq 3 "$(echo $o)" "three lines through -i"
# Without -i the app's stdin stays /dev/null, whatever ours is.
o=$(echo hello | $PEAPOD run --rm --net=none busybox -- cat)
assert_eq "" "$o" "no -i: no stdin"
# Only the first app gets it.
o=$(echo hello | $PEAPOD run --rm -i --net=none busybox --app-name=a -- cat --- busybox --app-name=b -- cat)
assert_eq "a | hello" "$o" "-i feeds the first app only"
o=$(must_fail $PEAPOD run -d -i --net=none busybox -- cat)
assert_contains "$o" "not with -d" "-i with -d"

# -it under script(1): the app's stdin is a terminal of its own, its
# controlling terminal; its size is ours; its status is run's.
o=$(script -qec "stty rows 33 cols 91; $PEAPOD run --rm -it --name ${PFX}tty --net=none busybox -- sh -c 'tty; stty size; test -t 1 && echo out-tty; read -r a b c d e f g rest </proc/self/stat; echo tty_nr=\$g; exit 4'" /dev/null </dev/null) && rc=0 || rc=$?
say "-it under script:"; echo "$o" | sed 's/^/    /'
assert_eq 4 "$rc" "exit status of run -it"
assert_contains "$o" "/dev/pts/0" "tty names the pty of the app's own /dev/pts"
must_fail $PEAPOD status "${PFX}tty" >/dev/null
# What a -t app writes reaches the terminal only, not the journal.
journalctl --namespace=peapod --sync 2>/dev/null || true
assert_eq 0 "$(journalctl --namespace=peapod -q -o cat | grep -c out-tty || true)" "the journal of a -t app"
assert_contains "$o" "33 91" "the pty has our size"
assert_contains "$o" "out-tty" "stdout is the terminal too"
assert_not_contains "$o" "tty_nr=0" "a controlling terminal"
# -t alone: a terminal for output, no input relayed.
o=$(script -qec "$PEAPOD run --rm -t --net=none busybox -- sh -c 'test -t 0 && echo in-tty; exit 0'" /dev/null </dev/null)
assert_contains "$o" "in-tty" "-t alone gives a terminal"

# The fly flavour too (a pty of the host's /dev/pts, which it shares).
o=$(script -qec "$PEAPOD run --rm -it --stage1=fly --net=host busybox -- sh -c 'tty; exit 2'" /dev/null </dev/null) && rc=0 || rc=$?
assert_eq 2 "$rc" "exit status of a fly run -it"
assert_contains "$o" "/dev/pts/" "tty in a fly app"
# A command that is not there: the helper says so on the terminal.
o=$(script -qec "$PEAPOD run --rm -it --net=none busybox --exec=/nonexistent" /dev/null </dev/null) && rc=0 || rc=$?
assert_eq 127 "$rc" "run -it of a missing command"
assert_contains "$o" "/nonexistent" "the reason, on the terminal"

# A restart of the app (--restart): systemd gives the caller's fds to the
# unit's first start only; the next runs as without -t, into the journal,
# which run prints.
o=$(script -qec "$PEAPOD run --rm -it --net=none busybox --restart=on-failure -- sh -c 'if [ -e /once ]; then echo second-\$(tty); exit 0; fi; touch /once; echo first-\$(tty); exit 1'" /dev/null </dev/null) && rc=0 || rc=$?
say "restart:"; echo "$o" | sed 's/^/    /'
assert_eq 0 "$rc" "run -it with a restart"
assert_contains "$o" "first-/dev/pts/0" "the first start's terminal"
assert_contains "$o" "second-not a tty" "the second start, without one"

# Resize and ^C: the outer terminal grows, the app's follows (SIGWINCH);
# ^C is a byte for the app's terminal, whose INT trap answers, and the
# pod ends with the app's status.
o=$(drive '
expect("ready")
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
expect("size 40 120")
send(b"\x03")
expect("got-int")
' $PEAPOD run --rm -it --net=none busybox -- sh -c 'trap "echo size \$(stty size)" WINCH; trap "echo got-int; exit 3" INT; echo size $(stty size); echo ready; while :; do sleep 0.1; done')
say "resize and ^C:"; echo "$o" | sed 's/^/    /'
assert_contains "$o" "size 24 80" "the first size"
assert_contains "$o" "size 40 120" "the size after a resize"
assert_contains "$o" "got-int" "^C reached the app"
assert_contains "$o" "rc=3" "run's status after ^C"

# Typing: input goes through the app's terminal (echo, line editing).
o=$(drive '
expect("ready")
send(b"typed words\r")
expect("read:typed words")
' $PEAPOD run --rm -it --net=none busybox -- sh -c 'echo ready; read -r l; echo "read:$l"')
assert_contains "$o" "read:typed words" "a line typed into the app's terminal"
assert_contains "$o" "rc=0" "run -it after the line"

# Without -t, SIGINT to run stops the pod (the app's TERM trap answers).
mkfifo "$tmp/in"
$PEAPOD run -i --name "${PFX}int" --net=none busybox -- sh -c 'echo up; trap "echo bye; exit 9" TERM; while :; do sleep 0.1; done' \
        <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3>"$tmp/in"
wait_for 60 grep -qx up "$tmp/out" || fail "the app did not start: $(cat "$tmp/err")"
kill -INT $pid
rc=0
wait $pid || rc=$?
exec 3>&-
assert_eq 9 "$rc" "run -i after SIGINT"
assert_contains "$(cat "$tmp/out")" "bye" "the app's last words"
assert_eq exited "$(pod_state "${PFX}int")" "the pod after SIGINT"

# An app that never reads: once its pipe is full, run waits for room
# instead of blocking in a write, so SIGINT still stops the pod.
yes | $PEAPOD run -i --rm --net=none busybox -- sh -c 'echo up; exec sleep 600' >"$tmp/out" 2>&1 &
pid=$!
wait_for 60 grep -qx up "$tmp/out" || fail "the app did not start: $(cat "$tmp/out")"
kill -INT $pid
rc=0
wait $pid || rc=$?
assert_eq 143 "$rc" "run -i of an app that does not read, after SIGINT"

# The app's stdin survives systemd's reload and reexec (systemd keeps the
# unit's fd), and the unit stays manageable.
rm -f "$tmp/in"; mkfifo "$tmp/in"
$PEAPOD run --rm -i --name "${PFX}rl" --net=none busybox -- sh -c 'while read -r l; do echo "got $l"; done; echo eof; exit 5' \
        <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3>"$tmp/in"
echo one >&3
wait_for 60 grep -qx "got one" "$tmp/out" || fail "no first line: $(cat "$tmp/out" "$tmp/err")"
unit=$($PEAPOD status --format=json "${PFX}rl" | jq -r '.apps[0].unit')
systemctl daemon-reload
assert_eq "loaded active" "$(systemctl show -P LoadState "$unit") $(systemctl show -P ActiveState "$unit")" "the unit after daemon-reload"
echo two >&3
wait_for 60 grep -qx "got two" "$tmp/out" || fail "no line after daemon-reload: $(cat "$tmp/out" "$tmp/err")"
systemctl daemon-reexec
assert_eq "loaded active" "$(systemctl show -P LoadState "$unit") $(systemctl show -P ActiveState "$unit")" "the unit after daemon-reexec"
echo three >&3
wait_for 60 grep -qx "got three" "$tmp/out" || fail "no line after daemon-reexec: $(cat "$tmp/out" "$tmp/err")"
exec 3>&-
rc=0
wait $pid || rc=$?
assert_eq 5 "$rc" "run -i after EOF"
assert_contains "$(cat "$tmp/out")" "eof" "EOF reached the app"

# Killed, run leaves the pod running; the app's end of the relay closes
# and it sees EOF, never anything of ours.
rm -f "$tmp/in"; mkfifo "$tmp/in"
$PEAPOD run -i --name "${PFX}kill" --net=none busybox -- sh -c 'echo up; while read -r l; do :; done; echo saw-eof; sleep 600' \
        <"$tmp/in" >"$tmp/out" 2>&1 &
pid=$!
exec 3>"$tmp/in"
wait_for 60 grep -qx up "$tmp/out" || fail "the app did not start: $(cat "$tmp/out")"
kill -KILL $pid
wait $pid 2>/dev/null || true
exec 3>&-
wait_for 60 sh -c "$PEAPOD logs ${PFX}kill | grep -qx saw-eof" || fail "the app did not see EOF: $($PEAPOD logs "${PFX}kill")"
assert_eq running "$(pod_state "${PFX}kill")" "the pod after run was killed"
$PEAPOD rm --force "${PFX}kill"

say ok
