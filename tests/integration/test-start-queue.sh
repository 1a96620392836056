#!/bin/bash
# A start that takes long does not hold peapodd, and one pod's lifecycle
# calls wait for each other: a pod on a network whose last plugin sleeps
# 3 s in its ADD stays "preparing" that long; meanwhile ListPods answers at
# once, an app call is refused (BadState: starting), and a StopPod waits
# in the pod's queue, then stops the pod once it runs. Another pod starts
# and runs meanwhile.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
at_exit 'rm -rf "$tmp"'
# The plugin passes its prevResult on (ADD) after a sleep; DEL is quick.
test_cni_network slow peapodslow0 10.199.0.0/24 <<'EOF'
#!/bin/sh
in=$(cat)
[ "$CNI_COMMAND" = ADD ] || exit 0
sleep 3
printf '%s' "$in" | jq -c .prevResult
EOF

t0=$SECONDS
$PEAPOD run -d --net=slow --name "${PFX}slow" busybox -- sleep 600 >"$tmp/run.out" 2>&1 &
run=$!
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json ${PFX}slow 2>/dev/null | jq -r .state)\" = preparing ]" ||
        fail "the pod did not begin to start"

# The loop answers while the plugin sleeps.
t1=$(date +%s%N)
busctl --system call org.peapod1 /org/peapod1 org.peapod1.Manager ListPods >/dev/null || fail "ListPods failed"
ms=$((($(date +%s%N) - t1) / 1000000))
assert_eq preparing "$(pod_state "${PFX}slow")" "still starting after the ListPods"
say "ListPods during the slow start: $ms ms"
[ $ms -lt 1000 ] || fail "ListPods waited $ms ms for a start"

# Another pod starts and runs while this one is still starting.
$PEAPOD run -d --net=none --name "${PFX}other" busybox -- sleep 600 >/dev/null || fail "another pod did not start"
assert_eq running "$(pod_state "${PFX}other")" "the other pod"
assert_eq preparing "$(pod_state "${PFX}slow")" "still starting after the other pod's start"

# App calls are refused while it starts; a stop waits for the start.
err=$(must_fail $PEAPOD app stop "${PFX}slow" busybox)
assert_contains "$err" "starting" "app stop of a starting pod"
busctl --system call --timeout=60 org.peapod1 /org/peapod1 org.peapod1.Manager StopPod s "${PFX}slow" >"$tmp/stop.out" 2>&1 &
stop=$!
wait $run || fail "the slow run failed: $(cat "$tmp/run.out")"
[ $((SECONDS - t0)) -ge 3 ] || fail "the start did not wait for the plugin"
wait $stop || fail "the queued stop failed: $(cat "$tmp/stop.out")"
assert_eq exited "$(pod_state "${PFX}slow")" "the pod after its start and the queued stop"
assert_eq running "$(pod_state "${PFX}other")" "the other pod after all that"
$PEAPOD rm "${PFX}slow" >/dev/null
say ok
