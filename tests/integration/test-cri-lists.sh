#!/bin/bash
# ListPodSandbox and ListContainers are answered from peapod-cri's cache of
# peapodd's pods, kept by peapodd's signals: they follow sandboxes made,
# stopped and removed, containers made, started, stopped and exiting by
# themselves, promptly and in agreement with the status calls (which read
# peapodd directly); across a restart of peapodd, and a container killed
# while peapodd was stopped; with as many bus matches for three sandboxes
# as for none.
. "$(dirname "$0")/lib.sh"
CRIT="$(dirname "$(realpath "$0")")/../cri/crit_pods.py"
cri_init
cri_pods k8s-

cri_start
# The lists check masks peapodd for a while: unmasked first, so that the
# pods can be removed.
at_exit 'systemctl unmask --runtime peapodd.service 2>/dev/null'

for api in v1 v1alpha2; do
        CRI_PID=$CRI_PID "$CRIT" "$CRI_SOCK" lists $api || fail "lists $api: $(tail -5 "$T/log")"
done
kill -0 "$CRI_PID" || fail "peapod-cri died: $(cat "$T/log")"
assert_eq "" "$(cri_pods)" "pods left by the CRI"
say "ok"
