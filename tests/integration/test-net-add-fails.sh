#!/bin/bash
# The pod's scope starts while its networks come up, so an ADD that fails
# leaves a scope (and its slice) behind to undo: here the last plugin of a
# network waits, while the scope is seen standing, then fails its ADD.
# 'peapod run' fails with the plugin's message and removes its pod, and no
# unit, machine or process of it is left. A pod created over the bus whose
# StartPod fails the same way (at once this time) is "created" again, with
# nothing left either, and is then removed.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
go=$tmp/go
at_exit 'rm -rf "$tmp"'
# ADD waits for $go (20 s at most), then fails as the CNI spec says a
# plugin fails: an error object on stdout, exit 1. DEL succeeds.
test_cni_network failadd peapodfail0 10.196.0.0/24 <<EOF
#!/bin/sh
cat >/dev/null
[ "\$CNI_COMMAND" = ADD ] || exit 0
i=0
while [ ! -e "$go" ] && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i + 1)); done
printf '{"cniVersion":"1.0.0","code":11,"msg":"peapod-test-failadd refuses this pod"}'
exit 1
EOF

pod=${PFX}failadd
esc=${pod//-/\\x2d}
units_left() { pod_units_list "$esc" | grep -v ' inactive ' || true; }
assert_nothing_left() { # WHAT
        wait_for 20 sh -c "[ -z \"\$(systemctl list-units --all --plain --no-legend 'machine-$esc.*' 'peapod-$esc-*' 'machine-peapod?-$esc.slice' | grep -v ' inactive ')\" ]" ||
                fail "$1: units left: $(units_left)"
        ! machinectl show "$pod" >/dev/null 2>&1 || fail "$1: machine left"
        ! pgrep -f -- "$id" >/dev/null || fail "$1: processes left: $(pgrep -a -f -- "$id")"
}

( set +e; $PEAPOD run -d --net=failadd --name "$pod" busybox -- sleep 600 >"$tmp/run.out" 2>&1; echo $? >"$tmp/run.rc" ) &
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $pod 2>/dev/null | jq -r .state)\" = preparing ]" ||
        fail "the pod did not begin to start"
id=$(pod_id "$pod")
# The scope stands while the plugin still holds the ADD.
wait_for 20 sh -c "[ \"\$(systemctl show -P ActiveState 'machine-$esc.scope')\" = active ]" ||
        fail "the pod's scope did not start during the ADD: $(systemctl show -P ActiveState "machine-$esc.scope")"
assert_eq preparing "$(pod_state "$pod")" "still starting while its scope stands"
touch "$go"
wait_for 30 test -e "$tmp/run.rc" || fail "the run did not end"
[ "$(cat "$tmp/run.rc")" != 0 ] || fail "the run succeeded on a network whose ADD fails"
assert_contains "$(cat "$tmp/run.out")" "peapod-test-failadd refuses this pod" "the run's error"
assert_nothing_left "the failed run"
! $PEAPOD status "$pod" >/dev/null 2>&1 || fail "the failed run left its pod"

# StartPod of a created pod: undone to "created".
busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' "$pod" \
        1 Networks as 1 failadd 1 web busybox 1 Exec as 2 sleep 600 >/dev/null || fail "CreatePod"
id=$(pod_id "$pod")
err=$(must_fail busctl call --timeout=60 org.peapod1 /org/peapod1 org.peapod1.Manager StartPod s "$pod")
assert_contains "$err" "peapod-test-failadd refuses this pod" "StartPod's error"
assert_nothing_left "the failed StartPod"
assert_eq created "$(pod_state "$pod")" "the pod after its failed StartPod"

$PEAPOD rm "$pod" || fail "rm of the pod whose start failed"
! $PEAPOD status "$pod" >/dev/null 2>&1 || fail "the pod is still listed after rm"
