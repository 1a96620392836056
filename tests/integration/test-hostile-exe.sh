#!/bin/bash
# runc's CVE-2019-5736 against stage1: a root app with the default
# capabilities watches /proc for the stage1 helpers that show up in its PID
# namespace (exec's child during `peapod enter`, app's child while another
# app of the pod starts, PID 1 for the pod's whole life; in a fly pod, every
# helper of the host), stops each one it catches and tries to take its
# binary for writing, waiting out ETXTBSY. It must get no fd of any helper's
# binary, and every installed helper must be unchanged afterwards.
. "$(dirname "$0")/lib.sh"

stage1=$(dirname "$(dirname "$(readlink -f "$(command -v $PEAPOD)")")")/libexec/peapod/stage1
[ -d "$stage1" ] || stage1=/usr/libexec/peapod/stage1
sums() { find "$stage1" -type f -name 'peapod-stage1-*' -exec sha256sum {} + | sort; }
before=$(sums)
[ "$(echo "$before" | wc -l)" -ge 5 ] || fail "helpers not found in $stage1: $before"

hostile_image "$PFX-exe" exe-writer
img=localhost/$PFX-exe:latest

report_of() { echo "/var/lib/peapod/pods/$(pod_id "$1")/apps/$2/upper/exe-report"; }
# caught POD APP COMM: the attacker of POD/APP has caught a helper named COMM.
caught() { grep -q "^helper [0-9]* $3" "$(report_of "$1" "$2")" 2>/dev/null; }
# check_report POD APP: the attacker never held, opened or wrote a helper's
# binary, and each helper it saw refused it its exe or was a sealed copy.
check_report() {
        local r; r=$(cat "$(report_of "$1" "$2")")
        say "report of $1/$2:"; echo "$r" | sed 's/^/    /'
        assert_not_contains "$r" "wrote " "a helper's binary was written"
        assert_not_contains "$r" "opened " "a helper's binary was opened for writing"
        assert_not_contains "$r" "held " "an fd of a helper's binary was taken"
        ! echo "$r" | grep '^helper ' | grep ' exe=' | grep -v ' exe=/memfd:peapod-stage1-' ||
                fail "a helper showed a host binary"
}

# A default pod: the attacker first, so that it watches everything after.
$PEAPOD pod create --name "$PFX-d" >/dev/null
$PEAPOD app add -q --start --name attacker "$PFX-d" "$img" -- /bin/exe-writer /exe-report 600
wait_for 20 grep -q started "$(report_of "$PFX-d" attacker)" || fail "attacker did not start"
# PID 1 (stage1-init) is there for the pod's life.
wait_for 10 caught "$PFX-d" attacker peapod-stage1-i || fail "attacker never saw the pod's PID 1"

# peapod enter: exec's child is in the pod from fork() to exec. Its moment
# is short; try until the attacker has caught one.
# n_caught POD APP COMM: how many helpers named COMM the attacker caught.
n_caught() { grep -c "^helper [0-9]* $3" "$(report_of "$1" "$2")" 2>/dev/null || true; }
for i in $(seq 60); do
        $PEAPOD enter --app=attacker "$PFX-d" -- /bin/busybox true
        [ "$(n_caught "$PFX-d" attacker peapod-stage1-e)" -lt 5 ] || break
done
say "exec's child caught $(n_caught "$PFX-d" attacker peapod-stage1-e) times in $i enters"

# app add + start, and restarts: app's child builds the app's root in the pod.
$PEAPOD app add -q --start --name victim "$PFX-d" busybox -- sleep 600
for i in $(seq 30); do
        [ "$(n_caught "$PFX-d" attacker peapod-stage1-a)" -lt 5 ] || break
        $PEAPOD app stop "$PFX-d" victim
        $PEAPOD app start "$PFX-d" victim
done
say "app's child caught $(n_caught "$PFX-d" attacker peapod-stage1-a) times in $i starts"

# A pod that starts with two apps: the second's helper may come after the
# attacker is up.
$PEAPOD run -d --name "$PFX-two" "$img" --app-name=attacker -- /bin/exe-writer /exe-report 600 \
        --- busybox --app-name=second -- /bin/busybox sleep 600 >/dev/null
wait_for 20 grep -q started "$(report_of "$PFX-two" attacker)" || fail "second attacker did not start"

# Both pods' PID 1s run from the one sealed copy peapodd keeps of the init
# (src/host/sealed-copy.h), not from a copy each made for itself.
exe_id() { stat -L -c '%d:%i' "/proc/$(machinectl show --value -p Leader "$1")/exe"; }
[ -n "$(exe_id "$PFX-d")" ] || fail "no exe of $PFX-d's PID 1"
assert_eq "$(exe_id "$PFX-d")" "$(exe_id "$PFX-two")" "the PID 1s' executable"

# fly: the host's PID namespace, where every helper is visible all along.
$PEAPOD pod create --stage1=fly --name "$PFX-f" >/dev/null
$PEAPOD app add -q --start --name attacker "$PFX-f" "$img" -- /bin/exe-writer /exe-report 600
wait_for 20 grep -q started "$(report_of "$PFX-f" attacker)" || fail "fly attacker did not start"
for i in $(seq 30); do
        $PEAPOD enter --app=attacker "$PFX-f" -- /bin/busybox true
        caught "$PFX-f" attacker peapod-stage1-e && break
done
say "fly: exec's child caught: $(caught "$PFX-f" attacker peapod-stage1-e && echo "after $i enters" || echo never)"
$PEAPOD app add -q --start --name victim "$PFX-f" busybox -- sleep 600
wait_for 10 caught "$PFX-f" attacker peapod-stage1-a || fail "fly attacker never saw an app helper"
wait_for 10 caught "$PFX-f" attacker peapod-stage1-i || fail "fly attacker never saw a leader"

# Whatever is still held is tried again until the helpers are gone.
$PEAPOD app stop "$PFX-d" victim
$PEAPOD app stop "$PFX-f" victim
check_report "$PFX-d" attacker
check_report "$PFX-two" attacker
check_report "$PFX-f" attacker
assert_eq "$before" "$(sums)" "helpers' checksums"
