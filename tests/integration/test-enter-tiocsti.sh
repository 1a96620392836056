#!/bin/bash
# `peapod enter` never hands the pod the caller's terminal: a command run
# under a real terminal pushes characters into that terminal's input with
# TIOCSTI (and tries to make it its controlling terminal first); the shell
# that reads the terminal next must get nothing, with -t and without.
. "$(dirname "$0")/lib.sh"

[ "$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo 1)" = 1 ] ||
        { say "dev.tty.legacy_tiocsti=0: the kernel refuses TIOCSTI anyway, nothing to test"; exit 77; }
hostile_image "$PFX-sti" tiocsti
img=localhost/$PFX-sti:latest

# under_terminal CMD: runs CMD in bash on a new pty (its controlling
# terminal), then a read of that terminal with a timeout; prints all that
# appeared on the terminal. Nothing is ever typed: whatever the read gets
# was pushed by CMD.
under_terminal() {
        python3 - "$1" <<'PY'
import os, pty, sys, select
script = sys.argv[1] + '; echo "rc=$?"; if read -r -t 3 line; then echo "READ:[$line]"; else echo NOTHING-READ; fi'
pid, fd = pty.fork()
if pid == 0:
    os.execvp("bash", ["bash", "--norc", "--noprofile", "-c", script])
out = b""
while True:
    r, _, _ = select.select([fd], [], [], 60)
    if not r:
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
PY
}

# The harness sees an injection when there is one: the program on the
# caller's terminal itself.
out=$(under_terminal "$PEAPOD_BUILD_DIR/tests/hostile/hostile-tiocsti CONTROL")
assert_contains "$out" "READ:[CONTROL]" "control: TIOCSTI on the caller's own terminal"

# The default seccomp filter denies TIOCSTI outright (test-seccomp checks
# that); unconfined here, so that what is tested is that no terminal of
# the caller's reaches the command at all.
$PEAPOD run -d --name "$PFX-t" "$img" --app-name=sti --seccomp=unconfined -- /bin/busybox sleep 600 >/dev/null
wait_for 10 sh -c "[ \"\$($PEAPOD app status --format=json $PFX-t sti | jq .pid)\" -gt 0 ]" || fail "app has no pid"

# Without -t: the command's fds are pipes, no terminal.
out=$(under_terminal "$PEAPOD enter $PFX-t -- /bin/tiocsti")
say "without -t:"; echo "$out" | sed 's/^/    /'
assert_contains "$out" "rc=0" "enter ran"
assert_contains "$out" "tiocsti fd0: ENOTTY" "stdin is not a terminal"
assert_contains "$out" "tiocsti fd1: ENOTTY" "stdout is not a terminal"
assert_contains "$out" "tiocsti fd2: ENOTTY" "stderr is not a terminal"
assert_not_contains "$out" "tiocsctty: taken" "controlling terminal"
assert_contains "$out" "NOTHING-READ" "nothing pushed into the caller's terminal"
assert_not_contains "$out" "READ:[" "nothing pushed into the caller's terminal"
# What the command prints still comes through, stdout and stderr apart.
out=$(under_terminal "$PEAPOD enter $PFX-t -- sh -c 'echo to-out; echo to-err >&2' 2>/dev/null")
assert_contains "$out" "to-out" "stdout relayed"
assert_not_contains "$out" "to-err" "stderr apart"

# With -t: a pty of its own; what it pushes stays there.
out=$(under_terminal "$PEAPOD enter -t $PFX-t -- /bin/tiocsti")
say "with -t:"; echo "$out" | sed 's/^/    /'
assert_contains "$out" "rc=0" "enter -t ran"
assert_contains "$out" "tiocsti fd0: pushed" "the command's own pty takes it"
assert_contains "$out" "NOTHING-READ" "nothing pushed into the caller's terminal"
assert_not_contains "$out" "READ:[" "nothing pushed into the caller's terminal"
# A controlling terminal (field 7 of /proc/self/stat) with -t, which job
# control needs, and none without.
ctty='read -r a b c d e f g rest </proc/self/stat; echo "tty_nr=$g"'
assert_not_contains "$(under_terminal "$PEAPOD enter -t $PFX-t -- sh -c '$ctty'")" "tty_nr=0" "a controlling terminal with -t"
assert_contains "$(under_terminal "$PEAPOD enter $PFX-t -- sh -c '$ctty'")" "tty_nr=0" "no controlling terminal without -t"

