#!/bin/bash
# An app's log line cannot drive the reader's terminal: peapod logs shows
# ESC, CR, BEL and the other controls as escapes, on a terminal (a pty) and
# in a pipe, so a line cannot draw over its "app | " prefix to pass for
# another app's, set the window title or clear the screen. --raw gives the
# bytes when asked; --cri-format keeps them in a pipe (CRI files) but not
# on a terminal; JSON is always escaped.
. "$(dirname "$0")/lib.sh"
trap cleanup_pods EXIT

# "evil" writes a CR and then "good | ..." to overwrite its own prefix, an
# OSC title, a clear screen, a C1 CSI (U+009B) and a byte that is not UTF-8.
$PEAPOD run -d --name "$PFX-esc" \
        busybox --app-name=evil -- sh -c 'printf "\rgood | forged\033]0;pwned\007\033[2J\302\233x\377\n"; sleep 300' \
        --- busybox --app-name=good -- sh -c 'echo hello; sleep 300' >/dev/null
wait_for 20 sh -c "$PEAPOD logs --raw $PFX-esc | grep -q forged" || fail "the evil line is not in the journal"
wait_for 20 sh -c "$PEAPOD logs $PFX-esc | grep -q hello" || fail "the good line is not in the journal"

# peapod logs ARGS... on a pty; prints what the terminal received, with the
# pty's own CR LF turned back into LF.
on_pty() {
        python3 - "$PEAPOD" "$@" <<'EOF'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
held = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data = held + chunk
    # A CR at the end may be the first half of the pty's CR LF.
    held = b"\r" if data.endswith(b"\r") else b""
    sys.stdout.buffer.write(data[:len(data) - len(held)].replace(b"\r\n", b"\n"))
    sys.stdout.buffer.flush()
sys.stdout.buffer.write(held)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
EOF
}
escaped='evil | \rgood | forged\x1b]0;pwned\a\x1b[2J\xc2\x9bx\xff'
has_control() { LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$1" || LC_ALL=C grep -q $'\xc2\x9b' "$1"; }

on_pty logs "$PFX-esc" >/tmp/pty.$$ || fail "peapod logs on a pty failed"
assert_contains "$(cat /tmp/pty.$$)" "$escaped" "the evil line on a terminal"
assert_contains "$(cat /tmp/pty.$$)" "good | hello" "the good line on a terminal"
! has_control /tmp/pty.$$ || fail "a control character reached the terminal: $(od -c /tmp/pty.$$ | head)"
# The forged "good | " never starts a line: only the real one does.
assert_eq 1 "$(grep -c '^good | ' /tmp/pty.$$)" "lines that start with good's prefix"

on_pty logs --follow --tail=10 "$PFX-esc" >/tmp/pty.$$ &
fpid=$!
wait_for 20 grep -q hello /tmp/pty.$$ || fail "--follow on a pty printed nothing"
$PEAPOD stop "$PFX-esc" >/dev/null
wait $fpid || fail "--follow on a pty failed"
assert_contains "$(cat /tmp/pty.$$)" "$escaped" "the evil line on a terminal, --follow"
! has_control /tmp/pty.$$ || fail "a control character reached the terminal with --follow"

# --cri-format: escaped on a terminal too.
on_pty logs --cri-format "$PFX-esc" evil >/tmp/pty.$$ || fail "--cri-format on a pty failed"
assert_contains "$(cat /tmp/pty.$$)" ' stdout F \rgood | forged\x1b]0;pwned' "--cri-format on a terminal"
! has_control /tmp/pty.$$ || fail "a control character reached the terminal with --cri-format"

# A pipe: text escaped all the same (a file is shown on a terminal later).
$PEAPOD logs "$PFX-esc" >/tmp/pipe.$$
assert_contains "$(cat /tmp/pipe.$$)" "$escaped" "the evil line in a pipe"
! has_control /tmp/pipe.$$ || fail "a control character in the piped text"
# --raw: the bytes the app wrote.
$PEAPOD logs --raw --no-prefix "$PFX-esc" evil >/tmp/pipe.$$
printf '\rgood | forged\033]0;pwned\007\033[2J\302\233x\377\n' | cmp - /tmp/pipe.$$ || fail "--raw is not the app's bytes"
# --cri-format in a pipe keeps the bytes, as a CRI file has them.
$PEAPOD logs --cri-format "$PFX-esc" evil | cut -d' ' -f4- >/tmp/pipe.$$
printf '\rgood | forged\033]0;pwned\007\033[2J\302\233x\377\n' | cmp - /tmp/pipe.$$ || fail "--cri-format in a pipe changed the bytes"
# JSON is escaped; --raw makes no sense there.
js=$($PEAPOD logs --format=json "$PFX-esc" evil)
assert_contains "$js" '"message":"\u000dgood | forged\u001b]0;pwned\u0007\u001b[2J\u009bx' "JSON escapes"
err=$(must_fail $PEAPOD logs --format=json --raw "$PFX-esc")
assert_contains "$err" "--raw and --format=json exclude each other" "--raw with JSON"
rm -f /tmp/pty.$$ /tmp/pipe.$$
say ok
