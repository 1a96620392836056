#!/bin/bash
# privileged through peapod-cri with a real gRPC client, in both API
# versions: a privileged container in a sandbox that is not privileged is
# INVALID_ARGUMENT (kubelet's rule) and leaves nothing; in a privileged
# sandbox it has every capability and no seccomp filter beyond the host's,
# opens the host's /dev/net/tun, writes sysfs and /proc/sys, with kubelet's
# masked paths, capabilities, seccomp profile and a device ignored; a plain
# container beside it has none of that.
. "$(dirname "$0")/lib.sh"
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_isolation.py"
cri_init
cri_pods k8s-default-priv-

cri_start
[ -c /dev/net/tun ] || { say "the lab has no /dev/net/tun: skipped"; exit 77; }
"$CRIT" "$CRI_SOCK" privileged v1 || fail "privileged v1: $(tail -5 "$T/log")"
"$CRIT" "$CRI_SOCK" privileged v1alpha2 || fail "privileged v1alpha2: $(tail -5 "$T/log")"
assert_eq "" "$(cri_pods)" "pods left by the CRI"
say "ok"
