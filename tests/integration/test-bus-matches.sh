#!/bin/bash
# A pod manager must not grow anything per pod in another daemon: PID 1's
# match rules on the system bus (dbus-daemon caps them at 512 per
# connection) are the same with 0 and 50 running pods, and so is the
# system journald's fd store at PID 1 (every open journal stream is in
# it, at most 4224 for all the host's services; the apps' own streams go
# to journald@peapod, one per app, and their units' streams end once the
# app runs);
# and without the
# unit references that cost them, how a stop ended each app is still known
# (peapod stop, app stop, machinectl terminate).
. "$(dirname "$0")/lib.sh"

pid1_name() {
        local n
        for n in $(busctl --system list --no-legend --unique | awk '{ print $1 }'); do
                [ "$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                        GetConnectionUnixProcessID s "$n" 2>/dev/null | awk '{ print $2 }')" = 1 ] && { echo "$n"; return 0; }
        done
        return 1
}
match_rules() { # unique name
        busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.Debug.Stats \
                GetConnectionStats s "$1" | grep -o '"MatchRules" u [0-9]*' | awk '{ print $3 }'
}

trap cleanup_pods EXIT

# ready POD APP: the app printed "ready", after its trap was set (a signal
# before that would kill the shell, whatever the trap says).
ready() {
        wait_for 30 sh -c "$PEAPOD logs $1 $2 | grep -qx ready" || fail "app $2 of $1 is not ready: $($PEAPOD logs "$1")"
}

# peapodd is up (and subscribed) before the first count.
$PEAPOD list >/dev/null
pid1=$(pid1_name) || fail "PID 1 is not on the system bus"
before=$(match_rules "$pid1")
[ -n "$before" ] || fail "no match rule count for PID 1 ($pid1)"
stored() { systemctl show -P NFileDescriptorStore systemd-journald.service; }
stored_before=$(stored)
stored_ns() { systemctl show -P NFileDescriptorStore systemd-journald@peapod.service; }
ns_before=$(stored_ns)

for i in $(seq 1 50); do
        $PEAPOD run -d --name "${PFX}m$i" --net=none busybox -- sleep 600 >/dev/null
done
assert_eq 50 "$($PEAPOD list --format=json | jq "[.[] | select(.name | startswith(\"${PFX}m\")) | select(.state == \"running\")] | length")" "running pods"
assert_eq "$before" "$(match_rules "$pid1")" "PID 1's match rules with 50 running pods"
# Each app's helper lets go of its unit's stream as soon as its own are
# open; a few streams of the lab's other services may come and go.
few_stored() { [ "$(stored)" -le $((stored_before + 5)) ]; }
wait_for 30 few_stored || fail "the system journald stores $(stored) fds with 50 pods, $stored_before before"
# journald@peapod stores one stream per app (its helper relays the app's
# stdout and stderr into it): it serves at most 4096 streams, and PID 1
# checks each new one against all it stores.
all_ns_stored() { [ "$(stored_ns)" -ge $((ns_before + 50)) ]; }
wait_for 30 all_ns_stored || fail "journald@peapod stores $(stored_ns) fds with 50 apps, $ns_before before"
[ "$(stored_ns)" -le $((ns_before + 55)) ] ||
        fail "journald@peapod stores $(stored_ns) fds for 50 apps, $ns_before before: more than one stream per app"
for i in $(seq 1 50); do
        $PEAPOD rm --force "${PFX}m$i" >/dev/null
done
assert_eq "$before" "$(match_rules "$pid1")" "PID 1's match rules after removing them"

# How each stop ended the apps: a trapped SIGTERM exits 3, an untrapped
# one is killed by SIGTERM (the app is PID 1's child in the pod, not PID 1).
$PEAPOD run -d --name "${PFX}stop" --net=none busybox --app-name=trap -- sh -c 'trap "exit 3" TERM; echo ready; while :; do sleep 0.1; done' \
        --- busybox --app-name=plain -- sleep 600 >/dev/null
ready "${PFX}stop" trap
$PEAPOD stop "${PFX}stop" >/dev/null
st=$($PEAPOD status --format=json "${PFX}stop")
assert_eq "exited 3" "$(echo "$st" | jq -r '.apps[] | select(.name == "trap") | "\(.result) \(.status)"')" "trapping app after stop"
assert_eq "killed 15" "$(echo "$st" | jq -r '.apps[] | select(.name == "plain") | "\(.result) \(.status)"')" "plain app after stop"

$PEAPOD run -d --name "${PFX}app" --net=none busybox --app-name=trap -- sh -c 'trap "exit 4" TERM; echo ready; while :; do sleep 0.1; done' \
        --- busybox --app-name=other -- sleep 600 >/dev/null
ready "${PFX}app" trap
$PEAPOD app stop "${PFX}app" trap >/dev/null
assert_eq "exited exited 4" "$($PEAPOD app status --format=json "${PFX}app" trap | jq -r '"\(.state) \(.result) \(.status)"')" "app stop"

# Stopped behind peapodd's back: the outcome still reaches the pod.
$PEAPOD run -d --name "${PFX}term" --net=none busybox -- sh -c 'trap "exit 5" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
ready "${PFX}term" busybox
machinectl terminate "${PFX}term"
wait_for 30 sh -c "[ \"\$($PEAPOD status --format=json ${PFX}term | jq -r .state)\" = exited ]" || fail "terminated pod not exited"
assert_eq "exited 5" "$($PEAPOD status --format=json "${PFX}term" | jq -r '.apps[0] | "\(.result) \(.status)"')" "app after machinectl terminate"
say ok
