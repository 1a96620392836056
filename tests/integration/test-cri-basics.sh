#!/bin/bash
# peapod-cri answers a real gRPC client (Debian's python3-grpcio, messages
# from our cri.proto): Version on runtime.v1 and v1alpha2, Status
# (RuntimeReady while peapodd answers, NetworkReady), ImageFsInfo; and
# refuses what is not a good call, each with its gRPC status: an unknown
# method or package (UNIMPLEMENTED), a body that is no protobuf
# (INVALID_ARGUMENT), more than 16 MiB (RESOURCE_EXHAUSTED; exactly 16 MiB
# is served), GET (HTTP 405), another content-type (415), compression, a
# compressed flag, a message cut short. It serves on afterwards, makes its
# socket 0600, removes it at SIGTERM, and never replaces a file that is no
# socket, nor a socket another peapod-cri serves.
. "$(dirname "$0")/lib.sh"
CRI=${CRI:-/usr/libexec/peapod/peapod-cri}
CRIT="$(dirname "$(realpath "$0")")/../cri/crit.py"
[ -x "$CRI" ] || fail "$CRI is not installed (its build needs libnghttp2-dev, libprotobuf-c-dev and protobuf-c-compiler: tools/install-deps)"
T=$(mktemp -d)
PID=""
cleanup() {
        [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
        rm -rf "$T"
}
trap cleanup EXIT

"$CRI" --listen="$T/cri.sock" 2>"$T/log" &
PID=$!
wait_for 10 test -S "$T/cri.sock" || fail "peapod-cri made no socket: $(cat "$T/log")"
assert_eq 600 "$(stat -c %a "$T/cri.sock")" "mode of the socket"
# A second server never takes over a socket that is served.
out=$(must_fail "$CRI" --listen="$T/cri.sock")
assert_contains "$out" "Address already in use" "a second peapod-cri on the same socket"

"$CRIT" "$T/cri.sock" basics || fail "the gRPC checks failed"
kill -0 "$PID" || fail "peapod-cri died"

# SIGTERM: a clean exit that takes its socket along.
kill "$PID"
rc=0; wait "$PID" || rc=$?
PID=""
assert_eq 0 "$rc" "exit status after SIGTERM"
[ ! -e "$T/cri.sock" ] || fail "the socket is still there after exit"

# --listen never replaces what is not a socket.
echo keep >"$T/file"
out=$(must_fail "$CRI" --listen="$T/file")
assert_contains "$out" "Failed to listen on $T/file" "refusal of a regular file"
assert_eq keep "$(cat "$T/file")" "the file at --listen"
out=$(must_fail "$CRI" --listen=relative.sock)
assert_contains "$out" "absolute path" "refusal of a relative path"
say "ok"
