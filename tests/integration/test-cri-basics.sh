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
CRIT="$(dirname "$(realpath "$0")")/../cri/crit.py"
cri_init

cri_start
assert_eq 600 "$(stat -c %a "$CRI_SOCK")" "mode of the socket"
# A second server never takes over a socket that is served.
out=$(must_fail "$CRI" --listen="$CRI_SOCK")
assert_contains "$out" "Address already in use" "a second peapod-cri on the same socket"

"$CRIT" "$CRI_SOCK" basics || fail "the gRPC checks failed"
kill -0 "$CRI_PID" || fail "peapod-cri died"

# SIGTERM: a clean exit that takes its socket along.
cri_stop
[ ! -e "$CRI_SOCK" ] || fail "the socket is still there after exit"

# --listen never replaces what is not a socket.
echo keep >"$T/file"
out=$(must_fail "$CRI" --listen="$T/file")
assert_contains "$out" "Failed to listen on $T/file" "refusal of a regular file"
assert_eq keep "$(cat "$T/file")" "the file at --listen"
out=$(must_fail "$CRI" --listen=relative.sock)
assert_contains "$out" "absolute path" "refusal of a relative path"
say "ok"
