#!/bin/bash
# A CNI DEL that failed at a pod's stop is owed: the pod's removal, or its
# next start, runs it first, without holding peapodd. A network whose
# last plugin fails its DEL while a marker file exists and otherwise
# sleeps 3 s in it: the stop answers (its record is kept), then RemovePod,
# StartPod and GarbageCollect wait for the owed DEL while ListPods answers
# at once; a removal whose DEL fails again is refused unless forced (gc
# forgets it).
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
marker=/run/peapod-test-del-fails
dels=/run/peapod-test-dels
holder=${PFX}-holder.service
at_exit 'rm -rf "$tmp"'
# ADD passes its prevResult on; DEL fails while the marker exists, else
# notes the container in $dels and sleeps 3 s.
test_cni_network deltest peapoddel0 10.198.0.0/24 <<EOF
#!/bin/sh
in=\$(cat)
case "\$CNI_COMMAND" in
ADD) printf '%s' "\$in" | jq -c .prevResult ;;
DEL)
        if [ -e $marker ]; then
                echo '{"cniVersion": "1.0.0", "code": 11, "msg": "told to fail"}'
                exit 1
        fi
        echo "\$CNI_CONTAINERID" >>$dels
        sleep 3 ;;
esac
EOF
at_exit 'rm -f "$marker" "$dels"; systemctl stop "$holder" 2>/dev/null'

# A read on its own connection, timed.
read_ms() {
        local t0
        t0=$(date +%s%N)
        busctl --system call org.peapod1 /org/peapod1 org.peapod1.Manager ListPods >/dev/null || fail "ListPods failed"
        echo $((($(date +%s%N) - t0) / 1000000))
}
# Reads until the background call whose rc file is $1 has answered.
max_ms=0
reads_until() {
        local ms start=$SECONDS
        max_ms=0
        until [ -e "$1" ]; do
                ms=$(read_ms)
                [ "$ms" -le $max_ms ] || max_ms=$ms
                [ $((SECONDS - start)) -lt 60 ] || fail "$1: no answer within 60 s"
        done
}
# A pod on the network whose DEL fails at its stop: stopped, DEL owed.
owing_pod() { # NAME
        $PEAPOD run -d --net=deltest --name "$1" busybox -- sleep 600 >/dev/null
        touch "$marker"
        $PEAPOD stop "$1" || fail "stop of $1 (its DEL failing)"
        assert_eq exited "$(pod_state "$1")" "$1 after its stop"
        [ -n "$(ls "/var/lib/peapod/pods/$(pod_id "$1")/network/"*.json 2>/dev/null)" ] ||
                fail "$1: no network record kept after a failed DEL"
        rm -f "$marker"
}

# RemovePod runs the owed DEL (3 s) without holding the loop.
owing_pod "${PFX}rm"
start=$SECONDS
( set +e; $PEAPOD rm "${PFX}rm" >"$tmp/rm.out" 2>&1; echo $? >"$tmp/rm.rc" ) &
reads_until "$tmp/rm.rc"
elapsed=$((SECONDS - start))
say "ListPods during an owed DEL of RemovePod: slowest $max_ms ms; the removal took $elapsed s"
assert_eq 0 "$(cat "$tmp/rm.rc")" "removal with a DEL owed ($(cat "$tmp/rm.out"))"
[ $elapsed -ge 3 ] || fail "the removal answered after $elapsed s, before the DEL could have ended"
[ $max_ms -lt 1000 ] || fail "ListPods waited $max_ms ms for an owed DEL"
must_fail $PEAPOD status "${PFX}rm" >/dev/null

# StartPod too: the DEL first, then the start.
owing_pod "${PFX}start"
start=$SECONDS
( set +e; $PEAPOD start "${PFX}start" >"$tmp/start.out" 2>&1; echo $? >"$tmp/start.rc" ) &
reads_until "$tmp/start.rc"
elapsed=$((SECONDS - start))
say "ListPods during an owed DEL of StartPod: slowest $max_ms ms; the start took $elapsed s"
assert_eq 0 "$(cat "$tmp/start.rc")" "start with a DEL owed ($(cat "$tmp/start.out"))"
[ $elapsed -ge 3 ] || fail "the start answered after $elapsed s, before the DEL could have ended"
[ $max_ms -lt 1000 ] || fail "ListPods waited $max_ms ms for an owed DEL"
assert_eq running "$(pod_state "${PFX}start")" "the pod started after its owed DEL"

# GarbageCollect too: the owed DEL (3 s) runs first, as the loop's child,
# then the pod goes; gc answers after both. The DEL really ran: the
# plugin noted it.
owing_pod "${PFX}gc"
gcid=$(pod_id "${PFX}gc")
dels_count() { cat "$dels" 2>/dev/null | wc -l; }
dels_before=$(dels_count)
start=$SECONDS
( set +e; $PEAPOD gc --grace-period=0 >"$tmp/gc.out" 2>&1; echo $? >"$tmp/gc.rc" ) &
reads_until "$tmp/gc.rc"
elapsed=$((SECONDS - start))
say "ListPods during an owed DEL of GarbageCollect: slowest $max_ms ms; gc took $elapsed s"
assert_eq 0 "$(cat "$tmp/gc.rc")" "gc with a DEL owed ($(cat "$tmp/gc.out"))"
assert_contains "$(cat "$tmp/gc.out")" "${PFX}gc" "gc names the pod whose DEL was owed"
[ $elapsed -ge 3 ] || fail "gc answered after $elapsed s, before the DEL could have ended"
[ $max_ms -lt 1000 ] || fail "ListPods waited $max_ms ms for an owed DEL of gc"
must_fail $PEAPOD status "${PFX}gc" >/dev/null
[ ! -e "/var/lib/peapod/pods/$gcid" ] || fail "gc left the pod's directory"
assert_eq $((dels_before + 1)) "$(dels_count)" "DELs of the test plugin after gc"
# gc forgets what cannot be deleted (as it always did): a DEL that fails
# again does not keep the pod, and peapodd says so.
owing_pod "${PFX}gc2"
touch "$marker"
out=$($PEAPOD gc --grace-period=0) || fail "gc with a failing DEL"
rm -f "$marker"
assert_contains "$out" "${PFX}gc2" "gc names the pod whose DEL failed again"
must_fail $PEAPOD status "${PFX}gc2" >/dev/null
journal_wait "Removing pod ${PFX}gc2 although its networks could not be deleted" _SYSTEMD_UNIT=peapodd.service ||
        fail "peapodd did not say that it forgot the pod's networks"

# A start that fails past its networks (its machine's name is taken) is
# undone without holding the loop, the DEL of its network (3 s) included.
# Created, not started (the CLI's verbs start what they create).
busctl --system call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' "${PFX}undo" \
        1 Networks as 1 deltest 1 app busybox 1 Exec as 2 sleep 600 >/dev/null
systemd-run --quiet --unit="$holder" sleep 600
busctl --system call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager \
        RegisterMachine sayssus "${PFX}undo" 0 peapod-test container "$(systemctl show -P MainPID "$holder")" "" >/dev/null
start=$SECONDS
( set +e; $PEAPOD start "${PFX}undo" >"$tmp/undo.out" 2>&1; echo $? >"$tmp/undo.rc" ) &
reads_until "$tmp/undo.rc"
elapsed=$((SECONDS - start))
say "ListPods during the undo of a failed start: slowest $max_ms ms; the start failed after $elapsed s"
[ "$(cat "$tmp/undo.rc")" != 0 ] || fail "a start whose machine name is taken succeeded"
assert_contains "$(cat "$tmp/undo.out")" "exists" "the failed start's error"
[ $elapsed -ge 3 ] || fail "the failed start answered after $elapsed s, before its DEL could have ended"
[ $max_ms -lt 1000 ] || fail "ListPods waited $max_ms ms for a failed start's undo"
assert_eq created "$(pod_state "${PFX}undo")" "the pod after its failed start"
[ -z "$(ls "/var/lib/peapod/pods/$(pod_id "${PFX}undo")/network/"*.json 2>/dev/null)" ] ||
        fail "the failed start left a network record"
systemctl stop "$holder"

# A DEL that fails again refuses a plain removal (the pod stays); force
# removes it.
touch "$marker"
$PEAPOD stop "${PFX}start"
err=$(must_fail $PEAPOD rm "${PFX}start")
assert_contains "$err" "force removes it anyway" "plain removal with a failing DEL"
assert_eq exited "$(pod_state "${PFX}start")" "the pod after a refused removal"
$PEAPOD rm --force "${PFX}start" || fail "forced removal with a failing DEL"
must_fail $PEAPOD status "${PFX}start" >/dev/null
say ok
