#!/bin/bash
# peapod login/logout against a registry that asks for a password
# (docker-registry with htpasswd): pulls fail without, work after login,
# fail again after logout; the auth file is 0600 and the password shows
# up neither in the journal nor in any process's arguments.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$(realpath "$0")")
command -v docker-registry >/dev/null && command -v skopeo >/dev/null || exit 77
python3 -W ignore -c 'import crypt' 2>/dev/null || exit 77

tmp=$(mktemp -d /var/tmp/login.XXXXXX)
auth=/etc/peapod/auth.json
cleanup() {
        cleanup_pods
        stop_registry
        [ -z "${psloop:-}" ] || kill "$psloop" 2>/dev/null || true
        rm -rf "$tmp" /etc/peapod/registries.conf /etc/peapod/policy.json "$auth"
}
trap cleanup EXIT
rm -f "$auth"

pw="s3cret-$RANDOM$RANDOM"
python3 -W ignore -c "import crypt, sys; print('alice:' + crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))" \
        "$pw" >"$tmp/htpasswd"
REGISTRY_HTPASSWD=$tmp/htpasswd start_registry "$tmp"
"$here/../unit/make-test-image.py" "$tmp/oci" >/dev/null
skopeo --insecure-policy copy -q --dest-tls-verify=false --dest-creds="alice:$pw" "oci:$tmp/oci:latest" \
        "docker://$REGISTRY/private/bb:latest"
ref=$REGISTRY/private/bb:latest
registry_allow_insecure
policy_accept_unsigned "$REGISTRY/private"

# Without credentials: refused, and the error says so.
err=$(must_fail $PEAPOD image pull -q "$ref")
assert_contains "$err" "authentication required" "unauthenticated pull"

# A wrong password is refused by login itself, and nothing is saved.
err=$(printf 'wrong\n' | must_fail $PEAPOD login --username=alice --password-stdin "$REGISTRY")
assert_contains "$err" "Login to $REGISTRY failed" "login with a wrong password"
[ ! -e "$auth" ] || fail "a refused login wrote $auth"
# No way to put a password in argv; no password without a terminal.
must_fail $PEAPOD login --username=alice --password="$pw" "$REGISTRY" >/dev/null
err=$(must_fail $PEAPOD login --username=alice "$REGISTRY" </dev/null)
assert_contains "$err" "--password-stdin" "no terminal for the prompt"

# Meanwhile, every process's arguments are watched for the password.
# (grep reads the password from a file: its own arguments must not hold it.)
printf '%s\n' "$pw" >"$tmp/pw"
( while :; do cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' | grep -qF -f "$tmp/pw" && touch "$tmp/leak"; sleep 0.05; done ) &
psloop=$!
since=$(date '+%Y-%m-%d %H:%M:%S')

out=$(printf '%s\n' "$pw" | $PEAPOD login -u alice --password-stdin "$REGISTRY")
assert_contains "$out" "succeeded" "login"
assert_eq 600 "$(stat -c %a "$auth")" "mode of the auth file"
assert_eq "alice:$pw" "$(jq -r --arg r "$REGISTRY" '.auths[$r].auth' "$auth" | base64 -d)" "auth file entry"
$PEAPOD image pull -q "$ref" >/dev/null || fail "pull after login"
$PEAPOD image rm "$ref" >/dev/null

# logout: the entry goes, and pulls are refused again.
$PEAPOD logout "$REGISTRY" >/dev/null
assert_eq null "$(jq -r --arg r "$REGISTRY" '.auths[$r]' "$auth")" "entry after logout"
err=$(must_fail $PEAPOD image pull -q "$ref")
assert_contains "$err" "authentication required" "pull after logout"
must_fail $PEAPOD logout "$REGISTRY" >/dev/null
# --all keeps other programs' keys.
printf '%s\n' "$pw" | $PEAPOD login -u alice --password-stdin "$REGISTRY" >/dev/null
jq '.credHelpers = {"x.example": "helper"}' "$auth" >"$tmp/a" && cat "$tmp/a" >"$auth"
$PEAPOD logout --all >/dev/null
assert_eq "{} helper" "$(jq -c .auths "$auth") $(jq -r '.credHelpers["x.example"]' "$auth")" "after logout --all"

# At a terminal: both asked for, the password with echo off. A pty of
# our own answers each prompt once it is shown (what is typed ahead of a
# prompt the terminal echoes before login can turn echo off); what the
# terminal showed must not hold the password.
$PEAPOD logout --all >/dev/null
PW=$pw python3 - "$PEAPOD" "$REGISTRY" >"$tmp/terminal" 2>&1 <<'PY' || fail "login at a terminal: $(cat "$tmp/terminal")"
import os, pty, signal, sys
signal.alarm(60)
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], [sys.argv[1], "login", sys.argv[2]])
seen = b""
def until(word):
    global seen
    while word not in seen:
        chunk = os.read(fd, 1024)
        if not chunk:
            raise SystemExit("no prompt " + word.decode() + " in: " + seen.decode(errors="replace"))
        seen += chunk
until(b"Username: ")
os.write(fd, b"alice\n")
until(b"Password: ")
os.write(fd, os.environ["PW"].encode() + b"\n")
try:
    while True:
        chunk = os.read(fd, 1024)
        if not chunk:
            break
        seen += chunk
except OSError:
    pass
sys.stdout.write(seen.decode(errors="replace"))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
PY
assert_contains "$(cat "$tmp/terminal")" "succeeded" "login at a terminal"
assert_contains "$(cat "$tmp/terminal")" "alice" "the user name is echoed"
if grep -qF -f "$tmp/pw" "$tmp/terminal"; then fail "the password was echoed: $(cat "$tmp/terminal")"; fi
$PEAPOD image pull -q "$ref" >/dev/null || fail "pull after a login at a terminal"

kill "$psloop"; wait "$psloop" 2>/dev/null || true; psloop=
[ ! -e "$tmp/leak" ] || fail "the password was in a process's arguments"
journal_sync
if journalctl --since="$since" -o cat --no-pager | grep -qF -f "$tmp/pw"; then fail "the password is in the journal"; fi
if journalctl --namespace=peapod --since="$since" -o cat --no-pager 2>/dev/null | grep -qF -f "$tmp/pw"; then
        fail "the password is in the peapod journal"
fi
say ok
