#!/bin/bash
# namespace_options.ipc CONTAINER through peapod-cri with a real gRPC
# client, in both API versions: two containers of mode POD share the pod's
# IPC namespace (and its kernel.shmmni sysctl), a third of mode CONTAINER
# has one of its own, neither the pod's nor the host's; ExecSync joins it.
. "$(dirname "$0")/lib.sh"
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_isolation.py"
cri_init
cri_pods k8s-default-ipc-

cri_start
"$CRIT" "$CRI_SOCK" ipc v1 || fail "ipc v1: $(tail -5 "$T/log")"
"$CRIT" "$CRI_SOCK" ipc v1alpha2 || fail "ipc v1alpha2: $(tail -5 "$T/log")"
assert_eq "" "$(cri_pods)" "pods left by the CRI"
say "ok"
