#!/bin/bash
# masked_paths and readonly_paths through peapod-cri with a real gRPC
# client, in both API versions: kubelet's default sets (stage1 covers most
# already, the rest is the app's own) plus paths through an image's
# hostile symlinks, which land on the image's files inside the root; a
# missing path is skipped; relative paths, "/" and ".." are
# INVALID_ARGUMENT and leave nothing.
. "$(dirname "$0")/lib.sh"
CRI=${CRI:-/usr/libexec/peapod/peapod-cri}
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_isolation.py"
[ -x "$CRI" ] || fail "$CRI is not installed (its build needs libnghttp2-dev, libprotobuf-c-dev and protobuf-c-compiler: tools/install-deps)"
T=$(mktemp -d)
PID=""
export CRIT_MASK_IMAGE=localhost/crit-masked-$$:latest
k8s_pods() { $PEAPOD list --format=json | jq -r '.[] | select(.name | startswith("k8s-default-mask-")) | .id'; }
cleanup() {
        [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
        for p in $(k8s_pods 2>/dev/null); do $PEAPOD rm --force "$p" >/dev/null 2>&1 || true; done
        $PEAPOD image rm "$CRIT_MASK_IMAGE" >/dev/null 2>&1 || true
        rm -rf "$T"
}
trap cleanup EXIT

here=$(dirname "$(realpath "$0")")
"$here/../unit/make-test-image.py" "$T/img" --salt=crit-masked-$$ --symlink=hostile:/../../../../../etc/keep \
        --symlink=rolink:../../../../../etc >/dev/null
tar -C "$T/img" -cf "$T/img.tar" .
$PEAPOD image import -q --insecure-options=image --name="$CRIT_MASK_IMAGE" "$T/img.tar" 2>/dev/null >/dev/null

"$CRI" --listen="$T/cri.sock" 2>"$T/log" &
PID=$!
wait_for 10 test -S "$T/cri.sock" || fail "peapod-cri made no socket: $(cat "$T/log")"
"$CRIT" "$T/cri.sock" masked v1 || fail "masked v1: $(tail -5 "$T/log")"
"$CRIT" "$T/cri.sock" masked v1alpha2 || fail "masked v1alpha2: $(tail -5 "$T/log")"
assert_eq "" "$(k8s_pods)" "pods left by the CRI"
say "ok"
