# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by every integration test. Runs inside the lab (or on a systemd
# host), as root, with peapod installed.
set -euo pipefail

PEAPOD=${PEAPOD:-peapod}
TEST_NAME=$(basename "$0" .sh)
# Pods a test creates are named with this prefix and removed at exit.
PFX="t$$"

say() { echo "[$TEST_NAME] $*"; }
fail() { echo "[$TEST_NAME] FAIL: $*" >&2; exit 1; }

assert_eq() { # expected actual what
        [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}
assert_contains() { # haystack needle what
        case "$1" in *"$2"*) ;; *) fail "$3: '$2' not in: $1" ;; esac
}
assert_not_contains() {
        case "$1" in *"$2"*) fail "$3: '$2' unexpectedly in: $1" ;; *) ;; esac
}
# Run a command that must fail; prints its stderr for inspection.
must_fail() {
        local out rc=0
        out=$("$@" 2>&1) || rc=$?
        [ "$rc" -ne 0 ] || fail "expected failure from: $*"
        printf '%s' "$out"
}
# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
        local t=$1; shift
        local end=$((SECONDS + t))
        until "$@" >/dev/null 2>&1; do
                [ $SECONDS -lt $end ] || return 1
                sleep 0.1
        done
}
pod_state() { $PEAPOD status --format=json "$1" | jq -r .state; }
# An app that ignores SIGTERM, so that a stop takes its timeout (10 s, then
# SIGKILL), and says so once it does. Stop it only after wait_stubborn: a
# start answers when the app's unit has started (its helper exec'd), not
# when the app's shell has run `trap`, and a SIGTERM before that ends the
# app at once (seen: a stop 47 ms after the start, the shell not yet there).
STUBBORN='trap "" TERM; echo stubborn; while :; do sleep 0.1; done'
wait_stubborn() { # POD [APP]
        wait_for 30 sh -c "$PEAPOD logs $* 2>/dev/null | grep -q stubborn" || fail "$*: the app did not begin to ignore SIGTERM"
}
pod_id() { $PEAPOD status --format=json "$1" | jq -r .id; }
# The units of the pods whose names match GLOB (dashes escaped as \x2d),
# loaded or not, as list-units prints them: the apps' services, the scope,
# the pod's slice in its shard (name.h), or in machine.slice itself.
pod_units_list() { # GLOB
        systemctl list-units --all --plain --no-legend "peapod-$1-*" "machine-$1.*" "machine-peapod?-$1.slice"
}
# Every unit of every pod (and of machined's other machines): the shards'
# slices are not counted, the first pod in a shard makes one that stays.
all_pod_units() {
        systemctl list-units --all --plain --no-legend 'peapod-*' 'machine-*' | grep -Ev '^machine-peapod[0-9a-f]\.slice ' || true
}
# journald reads its sockets on its own schedule: a line a daemon logged a
# moment ago may not be readable yet. journal_wait TEXT JOURNALCTL-ARGS...
# waits (30 s) until a line the arguments select contains TEXT; journal_sync
# comes before asserting that something is NOT in the journal.
journal_wait() {
        local text=$1; shift
        wait_for 30 sh -c 't=$1; shift; journalctl -q --no-pager -o cat "$@" | grep -qF -- "$t"' sh "$text" "$@"
}
journal_sync() {
        journalctl --sync 2>/dev/null || true
        journalctl --namespace=peapod --sync 2>/dev/null || true
}

# start_registry DIR: Debian's docker-registry on a free port of the lab's
# 127.0.0.1, storing under DIR (tests/lib-registry.sh's registry_start);
# sets REGISTRY (host:port) and REGISTRY_PID. Stop it with stop_registry
# (in the test's cleanup).
start_registry() {
        local TMP=$1 PIDS=""
        . "$(dirname "${BASH_SOURCE[0]}")/../lib-registry.sh"
        registry_start
        REGISTRY=127.0.0.1:$RPORT
        REGISTRY_PID=${PIDS# }
}
stop_registry() {
        [ -z "${REGISTRY_PID:-}" ] || { kill "$REGISTRY_PID" 2>/dev/null || true; wait "$REGISTRY_PID" 2>/dev/null || true; }
}
# Plain HTTP to REGISTRY is fine (it is the lab's own).
registry_allow_insecure() {
        mkdir -p /etc/peapod
        echo "{\"registries\": [{\"prefix\": \"$REGISTRY\", \"insecure\": true}]}" >/etc/peapod/registries.conf
}

# policy_accept_unsigned SCOPE...: /etc/peapod/policy.json = the shipped
# policy plus insecureAcceptAnything for each SCOPE (registry[/path]), for a
# test that is not about trust and pulls unsigned images of its own. The
# test's cleanup removes /etc/peapod/policy.json.
policy_accept_unsigned() {
        local j s
        j=$(cat /usr/share/peapod/policy.json)
        for s in "$@"; do
                j=$(echo "$j" | jq --arg s "$s" '.scopes[$s] = {"type": "insecureAcceptAnything"}')
        done
        mkdir -p /etc/peapod
        echo "$j" >/etc/peapod/policy.json
}

cleanup_pods() {
        local p
        for p in $($PEAPOD list --format=json 2>/dev/null | jq -r ".[] | select(.name | startswith(\"$PFX\")) | .id"); do
                $PEAPOD rm --force "$p" >/dev/null 2>&1 || true
        done
}
# at_exit 'COMMAND': a cleanup step, a line of shell expanded at exit (so
# 'kill "$X"' kills what X holds then). Steps run last added first, each
# whatever the others did, then cleanup_pods: undo a thing where the test
# does it, and what was made after it is gone before it is undone. A test
# that sets a trap of its own replaces all of this.
AT_EXIT=()
at_exit() { AT_EXIT=("$1" "${AT_EXIT[@]}"); }
run_at_exit() {
        local s
        for s in "${AT_EXIT[@]}"; do eval "$s" || true; done
        cleanup_pods
}
trap run_at_exit EXIT

# test_cni_network NAME BRIDGE SUBNET <<'EOF' (a plugin script) EOF:
# a CNI network NAME for a test: the bridge plugin on BRIDGE with
# host-local addresses of SUBNET, then the test's own plugin, the script
# on stdin, installed as peapod-test-NAME. Removed at exit (at_exit) with
# its bridge and its address allocations, after the test's pods (their
# DELs need the plugin).
test_cni_network() {
        local name=$1 bridge=$2 subnet=$3
        local plugin=/usr/lib/cni/peapod-test-$name conf=/etc/cni/net.d/99-peapod-test-$name.conflist
        cat >"$plugin"
        chmod 755 "$plugin"
        cat >"$conf" <<EOF
{ "cniVersion": "1.0.0", "name": "$name",
  "plugins": [
    { "type": "bridge", "bridge": "$bridge", "isGateway": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$subnet" }]] } },
    { "type": "peapod-test-$name" } ] }
EOF
        at_exit "cleanup_pods; rm -f '$plugin' '$conf'; ip link del '$bridge' 2>/dev/null; rm -rf '/var/lib/cni/networks/$name'"
}

# The CRI tests run a peapod-cri of their own, on a socket of their own.
CRI=${CRI:-/usr/libexec/peapod/peapod-cri}
CRI_PID=""
CRI_PODS=""
# cri_init [MKTEMP-ARG...]: fails the test unless peapod-cri is installed;
# makes T, the test's directory (mktemp -d with the arguments), removed at
# exit.
cri_init() {
        [ -x "$CRI" ] || fail "$CRI is not installed (its build needs libnghttp2-dev, libprotobuf-c-dev and protobuf-c-compiler: tools/install-deps)"
        T=$(mktemp -d "$@")
        CRI_SOCK=$T/cri.sock
        at_exit 'rm -rf "$T"'
}
# cri_pods PREFIX: the pods named PREFIX... are the ones this test makes
# through the CRI (k8s-NAMESPACE-NAME-...: the sandboxes' metadata); they
# are removed at exit. cri_pods: the ids of those that are there.
cri_pods() {
        if [ $# -gt 0 ]; then CRI_PODS=$1; return; fi
        [ -n "$CRI_PODS" ] || return 0
        $PEAPOD list --format=json | jq -r --arg p "$CRI_PODS" '.[] | select(.name | startswith($p)) | .id'
}
# cri_start [ARG...]: starts "$CRI" --listen=$CRI_SOCK ARG... (after
# cri_init), its stderr appended to $T/log, and waits for its socket;
# CRI_PID is its pid. A socket left by a peapod-cri killed before is
# removed first: it must not pass for the new one's. At exit (a step added
# by the first cri_start) peapod-cri is killed unless the test cleared
# CRI_PID after ending it itself, then the CRI's pods and the test's own
# are removed.
cri_start() {
        rm -f "$CRI_SOCK"
        "$CRI" --listen="$CRI_SOCK" "$@" 2>>"$T/log" &
        CRI_PID=$!
        if [ -z "${CRI_STARTED:-}" ]; then
                CRI_STARTED=1
                at_exit cri_cleanup
        fi
        wait_for 10 test -S "$CRI_SOCK" || fail "peapod-cri made no socket: $(cat "$T/log")"
}
cri_cleanup() {
        local p
        [ -z "$CRI_PID" ] || kill "$CRI_PID" 2>/dev/null || true
        for p in $(cri_pods 2>/dev/null); do $PEAPOD rm --force "$p" >/dev/null 2>&1 || true; done
        cleanup_pods
}
# cri_stop: ends peapod-cri with SIGTERM, which must exit 0 (under ASan,
# CRI=build-asan/...: without a leak report either).
cri_stop() {
        local rc=0
        kill "$CRI_PID"
        wait "$CRI_PID" || rc=$?
        CRI_PID=""
        assert_eq 0 "$rc" "peapod-cri's exit status after SIGTERM: $(grep -A5 Sanitizer "$T/log" | head -20)"
}

# hostile_image NAME PROGRAM...: import localhost/NAME:latest, an unsigned
# test image (busybox plus each hostile app tests/hostile/PROGRAM.c as
# /bin/PROGRAM), imported with --insecure-options=image. Skips the test (77) when
# the build has no hostile apps (a sanitizer build cannot link them static).
hostile_image() {
        local name=$1 p dir args=()
        shift
        for p in "$@"; do
                [ -x "$PEAPOD_BUILD_DIR/tests/hostile/hostile-$p" ] || { say "no hostile-$p in the build: skipped"; exit 77; }
                args+=("--file=$PEAPOD_BUILD_DIR/tests/hostile/hostile-$p:/bin/$p")
        done
        dir=$(mktemp -d)
        "$(dirname "${BASH_SOURCE[0]}")/../unit/make-test-image.py" "$dir/oci" --salt="$name" "${args[@]}" >/dev/null
        tar -C "$dir/oci" -cf "$dir/img.tar" .
        $PEAPOD image import -q --insecure-options=image --name="localhost/$name:latest" "$dir/img.tar" >/dev/null
        rm -rf "$dir"
}

# The TIOCSTI tests (test-run-tiocsti, test-enter-tiocsti): a hostile app
# pushes characters into every terminal it can reach; the caller's
# terminal must get none.
# tiocsti_prepare: skips (77) when the kernel refuses TIOCSTI anyway
# (dev.tty.legacy_tiocsti=0), imports localhost/$PFX-sti:latest with
# /bin/tiocsti, and shows that the harness sees an injection when there
# is one: hostile-tiocsti run on the caller's terminal itself.
tiocsti_prepare() {
        [ "$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo 1)" = 1 ] ||
                { say "dev.tty.legacy_tiocsti=0: the kernel refuses TIOCSTI anyway, nothing to test"; exit 77; }
        hostile_image "$PFX-sti" tiocsti
        assert_contains "$(under_terminal "$PEAPOD_BUILD_DIR/tests/hostile/hostile-tiocsti CONTROL")" "READ:[CONTROL]" \
                "control: TIOCSTI on the caller's own terminal"
}
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
# assert_tiocsti_kept OUT WHAT without-tty|own-tty: OUT is under_terminal's
# output of a peapod command (WHAT) that ran /bin/tiocsti in a pod. It ran;
# without-tty: none of its fds is a terminal and it got no controlling
# terminal; own-tty: its stdin is a pty of its own, which takes what it
# pushes. Either way nothing reached the caller's terminal.
assert_tiocsti_kept() {
        local out=$1 what=$2 fd
        say "$what:"; echo "$out" | sed 's/^/    /'
        assert_contains "$out" "rc=0" "$what ran"
        case $3 in
        without-tty)
                for fd in 0 1 2; do
                        assert_contains "$out" "tiocsti fd$fd: ENOTTY" "$what: fd $fd is not a terminal"
                done
                assert_not_contains "$out" "tiocsctty: taken" "$what: controlling terminal" ;;
        own-tty)
                assert_contains "$out" "tiocsti fd0: pushed" "$what: its own pty takes it" ;;
        *)
                fail "assert_tiocsti_kept: $3?" ;;
        esac
        assert_contains "$out" "NOTHING-READ" "$what: nothing pushed into the caller's terminal"
        assert_not_contains "$out" "READ:[" "$what: nothing pushed into the caller's terminal"
}
