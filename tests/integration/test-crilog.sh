#!/bin/bash
# The journal-to-CRI converter (peapod-crilog) writes exactly what an app
# printed: line count and bytes equal after kubelet-style reassembly, for
# long lines (split by journald at 48K), UTF-8, binary junk and NUL bytes,
# bursts, an app that exits right after printing, a converter killed with
# SIGKILL and restarted (nothing lost, nothing doubled), and a file renamed
# away and reopened.
. "$(dirname "$0")/lib.sh"
CRILOG=${CRILOG:-/usr/libexec/peapod/peapod-crilog}
CHECK="$(dirname "$(realpath "$0")")/cri-check.py"
T=$(mktemp -d)
CPID=""
cleanup() {
        [ -z "$CPID" ] || kill -9 "$CPID" 2>/dev/null || true
        exec 3>&- 2>/dev/null || true
        $PEAPOD rm --force "$PFX-mix" "$PFX-quick" "$PFX-kill" "$PFX-rot" >/dev/null 2>&1 || true
        [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
app_id() { $PEAPOD status --format=json "$1" | jq -r '.apps[0].id'; }
wait_exited() { wait_for "${2:-60}" sh -c "[ \"\$($PEAPOD status --format=json $1 | jq -r .state)\" = exited ]" || fail "pod $1 did not exit"; }
# start_crilog STATE-DIR ARGS...: runs the converter with a control pipe on fd 3.
start_crilog() {
        local st=$1; shift
        rm -f "$T/ctl"; mkfifo "$T/ctl"
        $CRILOG --state-dir="$st" "$@" <"$T/ctl" &
        CPID=$!
        exec 3>"$T/ctl"
}
# finish_crilog ID: the app exited; the converter writes the rest and ends.
finish_crilog() {
        echo "exited $1" >&3
        local rc=0; wait "$CPID" || rc=$?
        CPID=""; exec 3>&-
        assert_eq 0 "$rc" "peapod-crilog exit code"
}

# 1. Mixed content, and what the app printed outside of peapod for comparison.
cat >"$T/mix.sh" <<'SCRIPT'
echo plain line
echo 'utf-8: héllo wörld ✓ 日本語 🙂'
printf 'binary: \377\376\200\001\177 junk\n'
printf 'nul: a\000b\000\n'
printf 'cr: one\rtwo\n'
echo 'to stderr' >&2
# Long lines written by one process (before the helper relayed the app's
# output, journald also ended a line where the writing process changed).
x=$(head -c 100000 /dev/zero | tr '\000' x); echo "$x"
y=$(head -c 49153 /dev/zero | tr '\000' y); echo "$y"
w=$(head -c 49151 /dev/zero | tr '\000' w); echo "$w"
z=$(head -c 70000 /dev/zero | tr '\000' z)
i=0; while [ $i -lt 3 ]; do echo "$z end $i" >&2; i=$((i+1)); done
seq 1 20000
printf 'tab\tand trailing blanks \t\r\n'
echo '   indented'
echo last
SCRIPT
# What journald keeps of it (docs/DESIGN.md, "Logs"): a NUL byte ends a
# line like a newline, trailing blanks (space, tab, CR) are cut, and empty
# lines are dropped. Leading blanks and everything else stay.
busybox sh "$T/mix.sh" 2>"$T/mix.err" | LC_ALL=C tr '\000' '\n' | LC_ALL=C sed 's/[ \t\r]*$//; /^$/d' >"$T/mix.out"
$PEAPOD run -d --name "$PFX-mix" busybox -- sh -c "$(cat "$T/mix.sh")" >/dev/null
mix=$(app_id "$PFX-mix")
wait_exited "$PFX-mix"
mkdir "$T/st"
start_crilog "$T/st" "$mix=$T/mix.log"
finish_crilog "$mix"
"$CHECK" "$T/mix.log" "$T/got.out" "$T/got.err" || fail "mix.log is not a valid CRI log"
cmp "$T/mix.out" "$T/got.out" || fail "stdout reassembled from the CRI file differs from what the app printed"
cmp "$T/mix.err" "$T/got.err" || fail "stderr reassembled from the CRI file differs from what the app printed"
grep -c ' stdout P ' "$T/mix.log" >/dev/null || fail "no P line for the 100000-byte line"
assert_eq 2 "$(grep -a -c ' stdout P x' "$T/mix.log")" "P pieces of the 100000-byte line (48K each)"
[ -s "$T/st/$mix.cursor" ] || fail "no cursor file"
# Started again on a finished container: nothing is written twice.
start_crilog "$T/st" "$mix=$T/mix.log"
finish_crilog "$mix"
"$CHECK" "$T/mix.log" "$T/got.out" "$T/got.err" && cmp -s "$T/mix.out" "$T/got.out" || fail "restart after the end doubled lines"

# 2. An app that exits right after printing; the converter is told at once.
$PEAPOD run -d --name "$PFX-quick" busybox -- sh -c 'seq 1 5000; echo bye >&2' >/dev/null
quick=$(app_id "$PFX-quick")
start_crilog "$T/st" "$quick=$T/quick.log"
wait_exited "$PFX-quick"
finish_crilog "$quick"
"$CHECK" "$T/quick.log" "$T/got.out" "$T/got.err" || fail "quick.log invalid"
seq 1 5000 | cmp - "$T/got.out" || fail "quick app: stdout lines lost or doubled"
assert_eq "bye" "$(cat "$T/got.err")" "quick app: stderr"

# 3. SIGKILL mid-stream, five times, each restart resumes from the cursor.
N=300000
$PEAPOD run -d --name "$PFX-kill" busybox -- sh -c "sleep 1; seq 1 $N" >/dev/null
kill_id=$(app_id "$PFX-kill")
for i in 1 2 3 4 5; do
        start_crilog "$T/st" "$kill_id=$T/kill.log"
        sleep 0.$((RANDOM % 7 + 2))
        kill -9 "$CPID"; wait "$CPID" 2>/dev/null || true
        CPID=""; exec 3>&-
done
say "after 5 kills: $(wc -l <"$T/kill.log") lines in the file"
start_crilog "$T/st" "$kill_id=$T/kill.log"
wait_exited "$PFX-kill" 120
finish_crilog "$kill_id"
"$CHECK" "$T/kill.log" "$T/got.out" "$T/got.err" || fail "kill.log invalid"
seq 1 $N | cmp - "$T/got.out" || { seq 1 $N | diff - "$T/got.out" | head; fail "after SIGKILLs"; }
# A torn tail (a crash inside write()) is cut and written again whole.
head -c -7 "$T/kill.log" >"$T/torn" && cat "$T/torn" >"$T/kill.log"
rm "$T/st/$kill_id.cursor"
start_crilog "$T/st" "$kill_id=$T/kill.log"
finish_crilog "$kill_id"
"$CHECK" "$T/kill.log" "$T/got.out" "$T/got.err" || fail "kill.log invalid after a torn tail"
seq 1 $N | cmp - "$T/got.out" || fail "torn tail: lines lost or doubled"

# 4. kubelet renames the file and asks for a reopen; old + new = everything.
$PEAPOD run -d --name "$PFX-rot" busybox -- sh -c 'i=1; while [ $i -le 3000 ]; do echo rot-$i; i=$((i+1)); [ $((i % 100)) = 0 ] && sleep 0.05; done' >/dev/null
rot=$(app_id "$PFX-rot")
start_crilog "$T/st" "$rot=$T/rot.log"
wait_for 20 sh -c "[ \$(wc -l <$T/rot.log) -gt 500 ]" || fail "no lines before the rename"
mv "$T/rot.log" "$T/rot.log.1"
echo "reopen $rot" >&3
wait_for 20 sh -c "[ -s $T/rot.log ]" || fail "nothing written into the reopened file"
wait_exited "$PFX-rot"
finish_crilog "$rot"
cat "$T/rot.log.1" "$T/rot.log" >"$T/rot.all"
"$CHECK" "$T/rot.all" "$T/got.out" "$T/got.err" || fail "rotated files invalid"
seq 1 3000 | sed 's/^/rot-/' | cmp - "$T/got.out" || fail "rename + reopen: lines lost or doubled"
[ "$(wc -l <"$T/rot.log.1")" -gt 0 ] || fail "old file empty"

# Bad input: one error line, non-zero exit, no file created.
rc=0; $CRILOG --state-dir="$T/st" "not-an-id=$T/x.log" </dev/null 2>"$T/err" || rc=$?
[ $rc -ne 0 ] || fail "peapod-crilog accepted a bad app id"
assert_eq 1 "$(wc -l <"$T/err")" "one error line"
[ ! -e "$T/x.log" ] || fail "a file was created for a bad app id"
rc=0; $CRILOG "$mix=relative.log" </dev/null 2>/dev/null || rc=$?
[ $rc -ne 0 ] || fail "peapod-crilog ran without --state-dir"
say ok
