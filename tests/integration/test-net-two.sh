#!/bin/bash
# A pod on two CNI networks: each ADD gets its own network's conflist and
# interface (eth0 on the default network, eth1 on the second), the pod
# has an address on each, and removal deletes both (no namespace, no
# allocation on either network left).
. "$(dirname "$0")/lib.sh"

# The second network: the bridge plugin, then a plugin that passes the
# result on.
test_cni_network second peapodtwo0 10.195.0.0/24 <<'EOF2'
#!/bin/sh
in=$(cat)
[ "$CNI_COMMAND" = ADD ] || exit 0
printf '%s' "$in" | jq -c .prevResult
EOF2

$PEAPOD run -d --name "$PFX-two" --net=default,second busybox -- sleep 300 >/dev/null
id=$(pod_id "$PFX-two")
st=$($PEAPOD status --format=json "$PFX-two")
assert_eq 2 "$(echo "$st" | jq '.networks | length')" "addresses on two networks"
assert_eq "peapod eth0" "$(echo "$st" | jq -r '.networks[0] | "\(.network) \(.ifname)"')" "the first network"
assert_eq "second eth1" "$(echo "$st" | jq -r '.networks[1] | "\(.network) \(.ifname)"')" "the second network"
a0=$(echo "$st" | jq -r '.networks[0].address' | cut -d/ -f1)
a1=$(echo "$st" | jq -r '.networks[1].address' | cut -d/ -f1)
case "$a0 $a1" in 10.87.*\ 10.195.0.*) ;; *) fail "addresses $a0 $a1 not in their networks' subnets" ;; esac
[ -e "/var/lib/cni/networks/second/$a1" ] || fail "no allocation of $a1 on the second network"
$PEAPOD rm --force "$PFX-two"
[ ! -e "/run/peapod/netns/$id" ] || fail "netns file left"
[ ! -e "/var/lib/cni/networks/peapod/$a0" ] || fail "allocation of $a0 left"
[ ! -e "/var/lib/cni/networks/second/$a1" ] || fail "allocation of $a1 left"
