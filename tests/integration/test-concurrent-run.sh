#!/bin/bash
# 30 `peapod run` at once on the default network: each succeeds or fails
# with a clear error, every pod that runs has its own address, and after
# rm nothing is left (units, netns, veths, IP allocations).
. "$(dirname "$0")/lib.sh"

n=30
tmp=$(mktemp -d)
cleanup() {
        cleanup_pods
        rm -rf "$tmp"
}
trap cleanup EXIT

veths_before=$(ip -o link show type veth | wc -l)
for i in $(seq 1 $n); do
        ( $PEAPOD run -d --name "${PFX}c$i" busybox -- sleep 600 >"$tmp/$i.out" 2>&1; echo $? >"$tmp/$i.rc" ) &
done
wait

ok=0
for i in $(seq 1 $n); do
        rc=$(cat "$tmp/$i.rc")
        if [ "$rc" = 0 ]; then
                ok=$((ok + 1))
                assert_eq running "$(pod_state "${PFX}c$i")" "pod ${PFX}c$i after its run"
        else
                # A failure says why, in one line that names peapod.
                assert_contains "$(cat "$tmp/$i.out")" "peapod: " "error of run $i"
        fi
done
say "$ok of $n runs succeeded"
[ "$ok" -eq $n ] || fail "$((n - ok)) of $n concurrent runs failed: $(cat "$tmp"/*.out | grep peapod: | sort | uniq -c)"

ids=$($PEAPOD list --format=json | jq -r ".[] | select(.name | startswith(\"${PFX}c\")) | .id")
addrs=$(for id in $ids; do $PEAPOD status --format=json "$id" | jq -r '.networks[0].address'; done | sort)
assert_eq $n "$(echo "$addrs" | sort -u | grep -c .)" "distinct addresses"

for i in $(seq 1 $n); do
        ( $PEAPOD rm --force "${PFX}c$i" >"$tmp/rm-$i.out" 2>&1; echo $? >"$tmp/rm-$i.rc" ) &
done
wait
for i in $(seq 1 $n); do
        assert_eq 0 "$(cat "$tmp/rm-$i.rc")" "rm of ${PFX}c$i ($(cat "$tmp/rm-$i.out"))"
done
assert_eq "" "$(pod_units_list "${PFX}c*")" "units left"
assert_eq "$veths_before" "$(ip -o link show type veth | wc -l)" "veths left"
for id in $ids; do
        [ ! -e "/run/peapod/netns/$id" ] || fail "netns of $id left"
done
# host-local's allocations, one file per address.
for a in $addrs; do
        [ ! -e "/var/lib/cni/networks/peapod/${a%/*}" ] || fail "address ${a%/*} still allocated"
done
say ok
