#!/bin/bash
# Limits as properties of the app's unit (and enforced where the lab
# enforces them), and the PID namespace: the pod's, or the app's own.
. "$(dirname "$0")/lib.sh"

unit() { echo "peapod-$PFX\\x2d$1-$2.service"; }
wait_exited() {
        wait_for 60 sh -c "[ \"\$($PEAPOD status --format=json $PFX-$1 | jq -r .state)\" = exited ]" || fail "pod $1 did not end"
}

say "limits are unit properties"
$PEAPOD run -d --name "$PFX-lim" busybox --cpu=500m --cpu-shares=2048 --memory=64M --tasks-max=32 -- sleep 300 >/dev/null
u=$(unit lim busybox)
assert_eq 500ms "$(systemctl show -P CPUQuotaPerSecUSec "$u")" "CPUQuotaPerSecUSec"
assert_eq 79 "$(systemctl show -P CPUWeight "$u")" "CPUWeight from 2048 shares"
assert_eq 67108864 "$(systemctl show -P MemoryMax "$u")" "MemoryMax"
assert_eq 32 "$(systemctl show -P TasksMax "$u")" "TasksMax"
$PEAPOD rm --force "$PFX-lim" >/dev/null
$PEAPOD run -d --name "$PFX-nolim" busybox -- sleep 300 >/dev/null
assert_eq infinity "$(systemctl show -P MemoryMax "$(unit nolim busybox)")" "no MemoryMax unless asked"
$PEAPOD rm --force "$PFX-nolim" >/dev/null

# Enforcement: where the cgroup controllers are writable (the lab makes
# them so; see DESIGN.md) the limits hold, not only the properties.
if [ -w /sys/fs/cgroup/pids ] || [ -e /sys/fs/cgroup/cgroup.controllers ]; then
        say "tasks limit enforced"
        $PEAPOD run -d --name "$PFX-tasks" busybox --tasks-max=8 -- sh -c \
                'i=0; while [ $i -lt 20 ]; do sleep 5 & i=$((i+1)); done; echo ALL-STARTED' >/dev/null
        wait_exited tasks
        wait_for 10 sh -c "$PEAPOD logs --no-prefix $PFX-tasks 2>&1 | grep -q fork" || true
        o=$($PEAPOD logs --no-prefix "$PFX-tasks" 2>&1)
        assert_contains "$o" "can't fork" "forks beyond TasksMax=8 fail"
        assert_not_contains "$o" "ALL-STARTED" "20 sleeps under TasksMax=8"

        say "memory limit enforced"
        # dd fills a 64M buffer; the app is dd itself, so its fate is the pod's.
        $PEAPOD run -d --name "$PFX-mem" busybox --memory=16M -- sh -c 'exec dd if=/dev/zero of=/dev/null bs=64M count=1' >/dev/null
        wait_exited mem
        assert_eq "killed 9" "$($PEAPOD status --format=json "$PFX-mem" | jq -r '.apps[0] | "\(.result) \(.status)"')" \
                "the OOM killer ends a 64M buffer under MemoryMax=16M"
        $PEAPOD run -d --name "$PFX-mem2" busybox --memory=128M -- sh -c 'exec dd if=/dev/zero of=/dev/null bs=64M count=1' >/dev/null
        wait_exited mem2
        assert_eq "exited 0" "$($PEAPOD status --format=json "$PFX-mem2" | jq -r '.apps[0] | "\(.result) \(.status)"')" \
                "the same 64M buffer under MemoryMax=128M"
fi

say "PID namespace: the pod's by default, the app's own when asked"
$PEAPOD run -d --name "$PFX-pid" busybox -- sleep 300 \
        --- busybox --app-name=shared -- sh -c 'sleep 1; ps -o pid,args' \
        --- busybox --app-name=own --pid-namespace=app -- sh -c 'sleep 1; echo mypid=$$; ps -o pid,args' >/dev/null
wait_for 30 sh -c "$PEAPOD logs --no-prefix $PFX-pid shared 2>&1 | grep -q 'ps -o'" || fail "app shared did not run"
wait_for 30 sh -c "$PEAPOD logs --no-prefix $PFX-pid own 2>&1 | grep -q mypid" || fail "app own did not run"
shared=$($PEAPOD logs --no-prefix "$PFX-pid" shared 2>&1)
own=$($PEAPOD logs --no-prefix "$PFX-pid" own 2>&1)
assert_contains "$shared" "sleep 300" "an app in the pod's PID namespace sees its siblings"
assert_not_contains "$own" "sleep 300" "an app with its own PID namespace does not"
assert_contains "$own" "mypid=1" "the app is PID 1 of its own namespace"
say "ok"
