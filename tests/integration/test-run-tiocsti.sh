#!/bin/bash
# `peapod run -i/-t` never hands the pod the caller's terminal: an app run
# from a real terminal pushes characters into every terminal it can reach
# with TIOCSTI (its fds, /dev/tty, after trying to make fd 0 its
# controlling terminal); the shell that reads the caller's terminal next
# must get nothing. And peapodd refuses a terminal passed without the tty
# flag.
. "$(dirname "$0")/lib.sh"

tiocsti_prepare
img=localhost/$PFX-sti:latest

# The default seccomp filter denies TIOCSTI outright (test-seccomp);
# unconfined here, so that what is tested is that no terminal of the
# caller's reaches the app at all.

# -i: stdin is a pipe, stdout and stderr the journal's streams, no
# controlling terminal.
assert_tiocsti_kept "$(under_terminal "$PEAPOD run --rm -i --net=none $img --seccomp=unconfined -- /bin/tiocsti")" \
        "run -i" without-tty

# -it: a pty of its own; what it pushes stays there.
out=$(under_terminal "$PEAPOD run --rm -it --net=none $img --seccomp=unconfined -- /bin/tiocsti")
assert_tiocsti_kept "$out" "run -it" own-tty
assert_contains "$out" "tiocsti /dev/tty: pushed" "its controlling terminal is its own pty"

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
