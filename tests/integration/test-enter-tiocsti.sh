#!/bin/bash
# `peapod enter` never hands the pod the caller's terminal: a command run
# under a real terminal pushes characters into that terminal's input with
# TIOCSTI (and tries to make it its controlling terminal first); the shell
# that reads the terminal next must get nothing, with -t and without.
. "$(dirname "$0")/lib.sh"

tiocsti_prepare
img=localhost/$PFX-sti:latest

# The default seccomp filter denies TIOCSTI outright (test-seccomp checks
# that); unconfined here, so that what is tested is that no terminal of
# the caller's reaches the command at all.
$PEAPOD run -d --name "$PFX-t" "$img" --app-name=sti --seccomp=unconfined -- /bin/busybox sleep 600 >/dev/null
wait_for 10 sh -c "[ \"\$($PEAPOD app status --format=json $PFX-t sti | jq .pid)\" -gt 0 ]" || fail "app has no pid"

# Without -t: the command's fds are pipes, no terminal.
assert_tiocsti_kept "$(under_terminal "$PEAPOD enter $PFX-t -- /bin/tiocsti")" "enter without -t" without-tty
# What the command prints still comes through, stdout and stderr apart.
out=$(under_terminal "$PEAPOD enter $PFX-t -- sh -c 'echo to-out; echo to-err >&2' 2>/dev/null")
assert_contains "$out" "to-out" "stdout relayed"
assert_not_contains "$out" "to-err" "stderr apart"

# With -t: a pty of its own; what it pushes stays there.
assert_tiocsti_kept "$(under_terminal "$PEAPOD enter -t $PFX-t -- /bin/tiocsti")" "enter -t" own-tty
# A controlling terminal (field 7 of /proc/self/stat) with -t, which job
# control needs, and none without.
ctty='read -r a b c d e f g rest </proc/self/stat; echo "tty_nr=$g"'
assert_not_contains "$(under_terminal "$PEAPOD enter -t $PFX-t -- sh -c '$ctty'")" "tty_nr=0" "a controlling terminal with -t"
assert_contains "$(under_terminal "$PEAPOD enter $PFX-t -- sh -c '$ctty'")" "tty_nr=0" "no controlling terminal without -t"

