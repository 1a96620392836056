#!/bin/bash
# UpdateContainerResources, ReopenContainerLog and UpdateRuntimeConfig
# through peapod-cri. Resources reach the app's running unit (systemd's
# CPUQuotaPerSecUSec, CPUWeight from the shares as kubelet maps them,
# MemoryMax) through peapodd's Pod.SetAppResources, stay for a restart of
# the app, are set on an app that does not run yet, and are lifted by 0;
# values out of range and unknown containers are refused and change
# nothing. ReopenContainerLog is OK for a container that exists,
# NOT_FOUND otherwise. UpdateRuntimeConfig records and logs the pod CIDR
# and refuses what is not one. Both API versions.
. "$(dirname "$0")/lib.sh"
CRIT="$(dirname "$(realpath "$0")")/../cri/crit.py"
cri_init

crit() { "$CRIT" "$CRI_SOCK" call "$@"; }
app_field() { $PEAPOD app status --format=json "$1" "$2" | jq -r ".$3"; }
running() { [ "$(app_field "$1" "$2" state)" = running ]; }
limits() { systemctl show -P CPUQuotaPerSecUSec "$1"; systemctl show -P CPUWeight "$1"; systemctl show -P MemoryMax "$1"; }

pod=$PFX-cri-update
pod_id=$($PEAPOD pod create --name="$pod")
$PEAPOD app add -q --start --name=web "$pod" busybox -- sleep 100000 >/dev/null || fail "app add web"
$PEAPOD app add -q --name=later "$pod" busybox -- sleep 100000 >/dev/null || fail "app add later"
wait_for 30 running "$pod" web || fail "web does not run"
web=$pod_id$(app_field "$pod" web id)
later=$pod_id$(app_field "$pod" later id)
unit=$(app_field "$pod" web unit)

cri_start

# Half a CPU, shares 512, 64 MiB. CPUWeight = 1 + (512-2)*9999/262142.
crit UpdateContainerResources "{\"containerId\": \"$web\", \"linux\": {\"cpuPeriod\": 100000, \"cpuQuota\": 50000,
        \"cpuShares\": 512, \"memoryLimitInBytes\": 67108864, \"oomScoreAdj\": 100}}" >/dev/null ||
        fail "UpdateContainerResources"
assert_eq "$(printf '500ms\n20\n67108864')" "$(limits "$unit")" "the unit's limits"
# Kept for the app's next unit.
$PEAPOD app stop "$pod" web && $PEAPOD app start "$pod" web || fail "restart of web"
wait_for 30 running "$pod" web || fail "web does not run again"
assert_eq "$(printf '500ms\n20\n67108864')" "$(limits "$unit")" "the limits after a restart of the app"

# Refusals change nothing.
out=$(crit UpdateContainerResources "{\"containerId\": \"$web\", \"linux\": {\"memoryLimitInBytes\": 1000}}") &&
        fail "a memory limit of 1000 bytes was accepted"
assert_contains "$out" "INVALID_ARGUMENT" "a memory limit below 1M"
out=$(crit UpdateContainerResources "{\"containerId\": \"$web\", \"linux\": {\"cpuShares\": 1}}" v1alpha2) &&
        fail "CPU shares of 1 were accepted"
assert_contains "$out" "INVALID_ARGUMENT" "CPU shares out of range"
out=$(crit UpdateContainerResources "{\"containerId\": \"$web\", \"linux\": {\"cpuShares\": -5}}") &&
        fail "negative CPU shares were accepted"
assert_contains "$out" "INVALID_ARGUMENT" "negative CPU shares"
for bad in "${pod_id}00000000000000000000000000000000" "00000000000000000000000000000000${web:32}" nope; do
        out=$(crit UpdateContainerResources "{\"containerId\": \"$bad\", \"linux\": {\"cpuShares\": 512}}") &&
                fail "UpdateContainerResources of $bad succeeded"
        assert_contains "$out" "NOT_FOUND" "UpdateContainerResources of $bad"
done
assert_eq "$(printf '500ms\n20\n67108864')" "$(limits "$unit")" "the limits after refusals"

# 0 lifts them (v1alpha2 this time).
crit UpdateContainerResources "{\"containerId\": \"$web\", \"linux\": {}}" v1alpha2 >/dev/null || fail "lifting the limits"
assert_eq "$(printf 'infinity\n[not set]\ninfinity')" "$(limits "$unit")" "lifted limits"

# An app that does not run yet gets them when it starts.
crit UpdateContainerResources "{\"containerId\": \"$later\", \"linux\": {\"memoryLimitInBytes\": 33554432}}" >/dev/null ||
        fail "UpdateContainerResources of a created container"
$PEAPOD app start "$pod" later || fail "start later"
wait_for 30 running "$pod" later || fail "later does not run"
assert_eq 33554432 "$(systemctl show -P MemoryMax "$(app_field "$pod" later unit)")" "the limit of an app started later"

# ReopenContainerLog.
crit ReopenContainerLog "{\"containerId\": \"$web\"}" >/dev/null || fail "ReopenContainerLog"
crit ReopenContainerLog "{\"containerId\": \"$later\"}" v1alpha2 >/dev/null || fail "ReopenContainerLog (v1alpha2)"
for bad in "${pod_id}00000000000000000000000000000000" "00000000000000000000000000000000${web:32}" "$pod_id" ""; do
        out=$(crit ReopenContainerLog "{\"containerId\": \"$bad\"}") && fail "ReopenContainerLog of '$bad' succeeded"
        assert_contains "$out" "NOT_FOUND" "ReopenContainerLog of '$bad'"
done

# UpdateRuntimeConfig.
crit UpdateRuntimeConfig '{"runtimeConfig": {"networkConfig": {"podCidr": "10.244.1.0/24"}}}' >/dev/null ||
        fail "UpdateRuntimeConfig"
wait_for 10 grep -q "pod CIDR is now 10.244.1.0/24" "$T/log" || fail "the pod CIDR was not logged: $(cat "$T/log")"
crit UpdateRuntimeConfig '{}' v1alpha2 >/dev/null || fail "UpdateRuntimeConfig without a CIDR"
out=$(crit UpdateRuntimeConfig '{"runtimeConfig": {"networkConfig": {"podCidr": "10.0.0.0/8; reboot"}}}') &&
        fail "a CIDR with junk was accepted"
assert_contains "$out" "INVALID_ARGUMENT" "a CIDR with junk"

kill -0 "$CRI_PID" || fail "peapod-cri died: $(cat "$T/log")"
say "ok"
