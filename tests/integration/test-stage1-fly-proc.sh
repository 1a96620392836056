#!/bin/bash
# A fly app sees the host's /proc and /sys, and uid 0 alone (no capability)
# may write much there: kernel.core_pattern (a pipe runs a program as the
# host's root at the next core dump), every sysctl, /proc/sysrq-trigger,
# cgroup files. The app gets the default flavour's masks and read-only
# /proc entries, and all of /sys read-only, submounts included.
#
# The lab (nspawn) already has /proc/sys read-only, but /proc/sys/net and
# the cgroup hierarchies below /sys writable, as submounts: the controls
# below show that the lab's root can open those for writing, so the checks
# in the pod can fail (they would, with a read-only remount of the top
# mount only). openw only opens for writing, never writes: a write that
# got through would act on the machine running the test.
. "$(dirname "$0")/lib.sh"

cleanup() { cleanup_pods; }
trap cleanup EXIT

# out NAME APP-OPTIONS... -- CMD...: runs one fly app of the hostile image
# to its end; prints what it wrote and "exit-status=N".
out() {
        local name=$1; shift
        $PEAPOD run -d --stage1=fly --name "$PFX-$name" "$PFX-flyproc" "$@" >/dev/null
        wait_for 30 sh -c "[ \"\$($PEAPOD status --format=json $PFX-$name | jq -r .state)\" = exited ]" ||
                fail "pod $name did not end"
        $PEAPOD logs --no-prefix "$PFX-$name" 2>&1
        echo "exit-status=$($PEAPOD status --format=json "$PFX-$name" | jq -r '.apps[0].status')"
}

hostile_image "$PFX-flyproc" openw
OPENW=$PEAPOD_BUILD_DIR/tests/hostile/hostile-openw
NET_SYSCTL=/proc/sys/net/ipv4/ip_forward
CGROUP_FILE=/sys/fs/cgroup/pids/cgroup.procs
[ -e "$CGROUP_FILE" ] || CGROUP_FILE=/sys/fs/cgroup/cgroup.procs

# Controls: the lab's root can open both submounts' files for writing.
o=$("$OPENW" "$NET_SYSCTL" "$CGROUP_FILE" || true)
assert_contains "$o" "$NET_SYSCTL open=OK" "control: a sysctl below a submount of /proc/sys is writable in the lab"
assert_contains "$o" "$CGROUP_FILE open=OK" "control: a cgroup file below /sys is writable in the lab"
pattern=$(cat /proc/sys/kernel/core_pattern)

# A root app with the default (fly) capabilities.
o=$(out root -- /bin/busybox sh -c "
        /bin/openw /proc/sys/kernel/core_pattern $NET_SYSCTL /proc/sysrq-trigger \
                /sys/kernel/mm/transparent_hugepage/enabled $CGROUP_FILE
        for f in kcore keys timer_list timer_stats sched_debug latency_stats; do
                [ -e /proc/\$f ] && echo \"mask \$f \$(stat -c '%t:%T' /proc/\$f) \$([ -c /proc/\$f ] && echo char)\"
        done
        if [ -d /sys/firmware ]; then echo \"firmware=\$(ls -A /sys/firmware | wc -l)\"; else echo firmware=absent; fi
        echo \"ostype=\$(cat /proc/sys/kernel/ostype)\"
        echo \"lo=\$(cat /sys/class/net/lo/operstate)\"
        echo \"pid1=\$(cat /proc/1/comm)\"
        echo ok >/dev/null && echo dev-writable
        echo x >/f && echo root-writable")
say "$o"
assert_contains "$o" "/proc/sys/kernel/core_pattern open=EROFS" "core_pattern"
assert_eq "$pattern" "$(cat /proc/sys/kernel/core_pattern)" "core_pattern unchanged"
assert_contains "$o" "$NET_SYSCTL open=EROFS" "a sysctl below a submount of /proc/sys"
# This machine's kernel may have no sysrq (then ENOENT); it is never writable.
assert_not_contains "$o" "/proc/sysrq-trigger open=OK" "sysrq-trigger"
assert_not_contains "$o" "/sys/kernel/mm/transparent_hugepage/enabled open=OK" "a sysfs file"
assert_contains "$o" "$CGROUP_FILE open=EROFS" "a cgroup file below a submount of /sys"
assert_not_contains "$o" "open=OK" "any open for writing"
# Every masked file the kernel has is /dev/null (1:3); keys and timer_list
# exist on every kernel that runs systemd's nspawn, which masks them with
# a regular file: seeing /dev/null shows that the mask is ours.
assert_contains "$o" "mask keys 1:3 char" "/proc/keys masked"
assert_contains "$o" "mask timer_list 1:3 char" "/proc/timer_list masked"
assert_not_contains "$(printf '%s\n' "$o" | grep '^mask ' | grep -v ' 1:3 char$')" "mask" "every masked /proc file"
# Absent on kernels without firmware tables (this lab's VM has none).
if [ -d /sys/firmware ]; then assert_contains "$o" "firmware=0" "/sys/firmware masked"; fi
# What a system tool still has: reading sysctls and sysfs, the host's
# processes, a writable /dev and root.
assert_contains "$o" "ostype=Linux" "sysctls readable"
assert_contains "$o" "lo=unknown" "sysfs readable"
assert_contains "$o" "pid1=systemd" "the host's processes"
assert_contains "$o" "dev-writable" "/dev stays writable"
assert_contains "$o" "root-writable" "the app's root stays writable"
say "ok"
