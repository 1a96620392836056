#!/bin/bash
# Stop leaves no unit, mount or namespace; rm leaves no directory.
. "$(dirname "$0")/lib.sh"

$PEAPOD run -d --name "$PFX-clean" busybox -- sleep 300 --- busybox -- sleep 300 >/dev/null
id=$(pod_id "$PFX-clean")
leader=$(machinectl show --value -p Leader "$PFX-clean")
[ -n "$leader" ] || fail "no leader"
netns=$(readlink /proc/"$leader"/ns/net)
# The app roots are overlays in the apps' own mount namespaces, never in
# the host's table (PID 1 and the executor of every unit with a mount
# namespace reread it at each mount event, so each mount there slows down
# every later start): a running pod without volumes adds no mount of its
# directory to it (only its network namespace's, /run/peapod/netns/<id>).
if findmnt -rn -o TARGET | grep -q "pods/$id"; then fail "pod mounts on the host: $(findmnt -rn -o TARGET | grep "pods/$id")"; fi
if findmnt -rn -t overlay -o TARGET | grep -q /var/lib/peapod/pods/; then fail "app root overlays on the host"; fi
n=0
for app in $($PEAPOD app list --format=json "$PFX-clean" | jq -r '.[].name'); do
        pid=$($PEAPOD app status --format=json "$PFX-clean" "$app" | jq .pid)
        [ "$pid" -gt 0 ] || fail "app $app has no pid"
        assert_eq overlay "$(findmnt -N "$pid" -n -o FSTYPE /)" "app $app's root in its own mount namespace"
        assert_contains "$($PEAPOD enter --app="$app" "$PFX-clean" -- grep " / / " /proc/self/mountinfo)" " - overlay " \
                "app $app's root as peapod enter sees it"
        n=$((n + 1))
done
assert_eq 2 "$n" "apps checked"

$PEAPOD stop "$PFX-clean"
assert_eq exited "$(pod_state "$PFX-clean")" "state after stop"
units=$(systemctl list-units --all --no-legend --plain "*$PFX*" || true)
[ -z "$units" ] || fail "units left after stop: $units"
! machinectl status "$PFX-clean" >/dev/null 2>&1 || fail "machine still registered"
! kill -0 "$leader" 2>/dev/null || fail "pod init still alive"
if findmnt -rn -o TARGET | grep -q "$id"; then fail "mounts left: $(findmnt -rn -o TARGET | grep "$id")"; fi
# No process is left in the pod's network namespace.
for p in /proc/[0-9]*; do
        [ "$(readlink "$p/ns/net" 2>/dev/null)" != "$netns" ] || fail "process ${p#/proc/} left in the pod's netns"
done
[ -d /var/lib/peapod/pods/"$id" ] || fail "stopped pod lost its directory"
ls /run/peapod/pods/"$id"/apps/*/stage1-args >/dev/null || fail "no stage1-args in the pod's runtime directory"

must_fail $PEAPOD stop "$PFX-clean" >/dev/null
$PEAPOD rm "$PFX-clean"
[ ! -e /var/lib/peapod/pods/"$id" ] || fail "pod directory left after rm"
[ ! -e /run/peapod/pods/"$id" ] || fail "runtime directory left after rm"
must_fail $PEAPOD status "$PFX-clean" >/dev/null

# rm of a running pod is refused unless forced, and then cleans up too.
$PEAPOD run -d --name "$PFX-force" busybox -- sleep 300 >/dev/null
id=$(pod_id "$PFX-force")
err=$(must_fail $PEAPOD rm "$PFX-force")
assert_contains "$err" "running" "rm of a running pod explains why"
assert_eq running "$(pod_state "$PFX-force")" "refused rm changed nothing"
$PEAPOD rm --force "$PFX-force"
[ ! -e /var/lib/peapod/pods/"$id" ] || fail "forced rm left the directory"
[ ! -e /run/peapod/pods/"$id" ] || fail "forced rm left the runtime directory"
units=$(systemctl list-units --all --no-legend --plain "*$PFX*" || true)
[ -z "$units" ] || fail "units left after rm --force: $units"

# A pod whose apps all end by themselves is stopped with only its init
# left, and its networks' DELs then run beside the slice's stop. The stop,
# and so 'wait', ends with the pod exited; its networks are deleted soon
# after (a stop does not wait for them then), and rm leaves nothing.
veths_before=$(ip -o link show type veth | wc -l)
$PEAPOD run -d --name "$PFX-exits" busybox -- sh -c 'sleep 2' >/dev/null
id=$(pod_id "$PFX-exits")
addr=$($PEAPOD status --format=json "$PFX-exits" | jq -r '.networks[0].address')
case "$addr" in */*) ;; *) fail "the pod on the default network has no address: '$addr'" ;; esac
[ -e "/var/lib/cni/networks/peapod/${addr%/*}" ] || fail "no allocation of ${addr%/*} while the pod runs"
$PEAPOD wait "$PFX-exits" >/dev/null || fail "wait for the pod whose app ended"
assert_eq exited "$(pod_state "$PFX-exits")" "state once its app ended"
wait_for 20 sh -c "[ ! -e /run/peapod/netns/$id ] && [ ! -e /var/lib/cni/networks/peapod/${addr%/*} ]" ||
        fail "networks of the exited pod not deleted: $(ls /run/peapod/netns/$id /var/lib/cni/networks/peapod/${addr%/*} 2>&1)"
assert_eq "$veths_before" "$(ip -o link show type veth | wc -l)" "veths left by the exited pod"
units=$(systemctl list-units --all --no-legend --plain "*$PFX-exits*" || true)
[ -z "$units" ] || fail "units left by the exited pod: $units"
$PEAPOD rm "$PFX-exits"
[ ! -e /var/lib/peapod/pods/"$id" ] || fail "pod directory left after rm of the exited pod"
if findmnt -rn -o TARGET | grep -q "$id"; then fail "mounts left: $(findmnt -rn -o TARGET | grep "$id")"; fi
