#!/bin/bash
# `peapod run -i/-t` never hands the pod the caller's terminal: an app run
# from a real terminal pushes characters into every terminal it can reach
# with TIOCSTI (its fds, /dev/tty, after trying to make fd 0 its
# controlling terminal); the shell that reads the caller's terminal next
# must get nothing. And peapodd refuses a terminal passed without the tty
# flag.
. "$(dirname "$0")/lib.sh"

[ "$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo 1)" = 1 ] ||
        { say "dev.tty.legacy_tiocsti=0: the kernel refuses TIOCSTI anyway, nothing to test"; exit 77; }
trap cleanup_pods EXIT
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
    r, _, _ = select.select([fd], [], [], 120)
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

# The harness sees an injection when there is one.
out=$(under_terminal "$PEAPOD_BUILD_DIR/tests/hostile/hostile-tiocsti CONTROL")
assert_contains "$out" "READ:[CONTROL]" "control: TIOCSTI on the caller's own terminal"

# The default seccomp filter denies TIOCSTI outright (test-seccomp);
# unconfined here, so that what is tested is that no terminal of the
# caller's reaches the app at all.

# -i: stdin is a pipe, stdout and stderr the journal's streams, no
# controlling terminal.
out=$(under_terminal "$PEAPOD run --rm -i --net=none $img --seccomp=unconfined -- /bin/tiocsti")
say "run -i:"; echo "$out" | sed 's/^/    /'
assert_contains "$out" "rc=0" "run -i ran"
assert_contains "$out" "tiocsti fd0: ENOTTY" "stdin is not a terminal"
assert_contains "$out" "tiocsti fd1: ENOTTY" "stdout is not a terminal"
assert_contains "$out" "tiocsti fd2: ENOTTY" "stderr is not a terminal"
assert_not_contains "$out" "tiocsctty: taken" "controlling terminal"
assert_contains "$out" "NOTHING-READ" "nothing pushed into the caller's terminal"
assert_not_contains "$out" "READ:[" "nothing pushed into the caller's terminal"

# -it: a pty of its own; what it pushes stays there.
out=$(under_terminal "$PEAPOD run --rm -it --net=none $img --seccomp=unconfined -- /bin/tiocsti")
say "run -it:"; echo "$out" | sed 's/^/    /'
assert_contains "$out" "rc=0" "run -it ran"
assert_contains "$out" "tiocsti fd0: pushed" "the app's own pty takes it"
assert_contains "$out" "tiocsti /dev/tty: pushed" "its controlling terminal is its own pty"
assert_contains "$out" "NOTHING-READ" "nothing pushed into the caller's terminal"
assert_not_contains "$out" "READ:[" "nothing pushed into the caller's terminal"

# peapodd itself refuses a terminal without the tty flag (what a client
# passing its own would do), and wants one with it; the pod stays created.
busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' "$PFX-bus" 0 1 app busybox 0 >/dev/null
start_with_stdin() { # FLAGS tty|pipe: StartPodWithStdin with our terminal or a pipe; prints the error
        ${AS:-} python3 - "$PFX-bus" "$1" "$2" <<'PY'
import dbus, os, sys
fd = os.open("/dev/tty", os.O_RDWR) if sys.argv[3] == "tty" else os.pipe()[0]
m = dbus.Interface(dbus.SystemBus().get_object("org.peapod1", "/org/peapod1"), "org.peapod1.Manager")
try:
    m.StartPodWithStdin(sys.argv[1], dbus.types.UnixFd(fd), dbus.UInt64(int(sys.argv[2])))
    print("started")
except dbus.DBusException as e:
    print(e.get_dbus_name(), e.get_dbus_message())
PY
}
out=$(under_terminal "$(declare -f start_with_stdin); PFX=$PFX; start_with_stdin 0 tty")
assert_contains "$out" "stdin is a terminal" "a terminal without the tty flag"
assert_contains "$(start_with_stdin 1 pipe)" "wants a" "the tty flag without a socket"
assert_contains "$(start_with_stdin 2 pipe)" "Unknown flags" "an unknown flag"
# Root only, as StartPod.
assert_contains "$(AS="setpriv --reuid=65534 --regid=65534 --clear-groups" start_with_stdin 0 pipe)" "AccessDenied" "a non-root caller"
assert_eq created "$(pod_state "$PFX-bus")" "the pod after the refusals"
say ok
