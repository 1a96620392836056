#!/bin/bash
# masked_paths and readonly_paths through peapod-cri with a real gRPC
# client, in both API versions: kubelet's default sets (stage1 covers most
# already, the rest is the app's own) plus paths through an image's
# hostile symlinks, which land on the image's files inside the root; a
# missing path is skipped; relative paths, "/" and ".." are
# INVALID_ARGUMENT and leave nothing.
. "$(dirname "$0")/lib.sh"
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_isolation.py"
cri_init
export CRIT_MASK_IMAGE=localhost/crit-masked-$$:latest
cri_pods k8s-default-mask-

here=$(dirname "$(realpath "$0")")
"$here/../unit/make-test-image.py" "$T/img" --salt=crit-masked-$$ --symlink=hostile:/../../../../../etc/keep \
        --symlink=rolink:../../../../../etc >/dev/null
tar -C "$T/img" -cf "$T/img.tar" .
at_exit '$PEAPOD image rm "$CRIT_MASK_IMAGE" >/dev/null 2>&1'
$PEAPOD image import -q --insecure-options=image --name="$CRIT_MASK_IMAGE" "$T/img.tar" 2>/dev/null >/dev/null

cri_start
"$CRIT" "$CRI_SOCK" masked v1 || fail "masked v1: $(tail -5 "$T/log")"
"$CRIT" "$CRI_SOCK" masked v1alpha2 || fail "masked v1alpha2: $(tail -5 "$T/log")"
assert_eq "" "$(cri_pods)" "pods left by the CRI"
say "ok"
