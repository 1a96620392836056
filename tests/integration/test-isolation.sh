#!/bin/bash
# App isolation: user and groups, capabilities (docker's default set,
# retain/remove), no_new_privs, the seccomp filter, a read-only root,
# masked /proc and /sys paths, a minimal /dev, and bad values refused.
. "$(dirname "$0")/lib.sh"

# out NAME APP-OPTIONS... -- CMD...: runs one busybox app to its end and
# prints what it wrote, then a line "exit-status=N".
out() {
        local name=$1; shift
        $PEAPOD run -d --name "$PFX-$name" busybox "$@" >/dev/null
        wait_for 30 sh -c "[ \"\$($PEAPOD status --format=json $PFX-$name | jq -r .state)\" = exited ]" ||
                fail "pod $name did not end"
        $PEAPOD logs --no-prefix "$PFX-$name" 2>&1
        echo "exit-status=$($PEAPOD status --format=json "$PFX-$name" | jq -r '.apps[0].status')"
}
status_field() { # OUTPUT FIELD: the value of "FIELD:" in /proc/self/status output
        printf '%s\n' "$1" | sed -n "s/^$2:[[:space:]]*//p"
}
STATUS_CMD='grep -E "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):" /proc/self/status'

# The lab (nspawn) filters every service already: count our filter on top
# of what an unconfined app runs under.
grep -q '^Seccomp_filters:' /proc/self/status || exit 77   # kernel < 5.9 does not count filters
base_filters=$(status_field "$(out base --seccomp=unconfined -- sh -c "$STATUS_CMD")" Seccomp_filters)
DEFAULT_CAPS=00000000a80405fb   # docker's 14 capabilities but NET_RAW

say "defaults: docker's capabilities, no_new_privs, seccomp filter"
o=$(out defaults -- sh -c "$STATUS_CMD")
assert_eq "$DEFAULT_CAPS" "$(status_field "$o" CapEff)" "default CapEff"
assert_eq "$DEFAULT_CAPS" "$(status_field "$o" CapBnd)" "default CapBnd"
assert_eq "$DEFAULT_CAPS" "$(status_field "$o" CapPrm)" "default CapPrm"
assert_eq 1 "$(status_field "$o" NoNewPrivs)" "no_new_privs on by default"
assert_eq 2 "$(status_field "$o" Seccomp)" "a seccomp filter by default"
assert_eq $((base_filters + 1)) "$(status_field "$o" Seccomp_filters)" "our filter by default"

say "a dropped capability is really denied"
o=$(out chown-ok -- sh -c 'touch /f && chown 1:1 /f && stat -c %u:%g /f')
assert_contains "$o" "exit-status=0" "chown with the default set"
assert_contains "$o" "1:1" "chown with the default set took"
o=$(out chown-denied --caps-remove=CAP_CHOWN -- sh -c "$STATUS_CMD; touch /f; chown 1:1 /f")
assert_eq 00000000a80405fa "$(status_field "$o" CapEff)" "CapEff without CHOWN"
assert_eq 00000000a80405fa "$(status_field "$o" CapBnd)" "CapBnd without CHOWN"
assert_contains "$o" "Operation not permitted" "chown without CAP_CHOWN"
assert_not_contains "$o" "exit-status=0" "chown without CAP_CHOWN failed"
o=$(out retain --caps-retain=net_bind_service,CAP_KILL -- sh -c "$STATUS_CMD")
assert_eq 0000000000000420 "$(status_field "$o" CapEff)" "CapEff is exactly the retained set"
assert_eq 0000000000000420 "$(status_field "$o" CapBnd)" "CapBnd is exactly the retained set"

say "a non-root user: ids, groups, capabilities"
o=$(out user --user=1000 --group=50 --supplementary-groups=7,8 -- sh -c "$STATUS_CMD; id")
assert_contains "$o" "uid=1000 gid=50 groups=7,8" "uid, gid and supplementary groups"
assert_eq 0000000000000000 "$(status_field "$o" CapEff)" "a non-root user has no effective caps by default"
assert_eq 0000000000000000 "$(status_field "$o" CapPrm)" "a non-root user has no permitted caps by default"
assert_eq "$DEFAULT_CAPS" "$(status_field "$o" CapBnd)" "non-root: bounding set is the default set"
o=$(out user-caps --user=1000 --caps-retain=CAP_NET_BIND_SERVICE -- sh -c "$STATUS_CMD")
assert_eq 0000000000000400 "$(status_field "$o" CapEff)" "non-root keeps a retained cap (effective)"
assert_eq 0000000000000400 "$(status_field "$o" CapAmb)" "non-root keeps a retained cap (ambient)"
assert_eq 0000000000000400 "$(status_field "$o" CapBnd)" "non-root retained: bounding set"
o=$(out user-chown --user=1000 -- sh -c 'chown 0:0 /tmp')
assert_contains "$o" "Operation not permitted" "a non-root user cannot chown"

say "seccomp denies even with CAP_SYS_ADMIN; unconfined lets it through"
o=$(out sc-default --caps-retain=CAP_SYS_ADMIN -- sh -c "$STATUS_CMD; unshare -n true && echo UNSHARE-OK; mkdir -p /m; mount -t tmpfs none /m && echo MOUNT-OK; true")
assert_eq 0000000000200000 "$(status_field "$o" CapEff)" "CAP_SYS_ADMIN kept"
assert_not_contains "$o" "UNSHARE-OK" "unshare -n under the default filter"
assert_not_contains "$o" "MOUNT-OK" "mount under the default filter"
assert_contains "$o" "Operation not permitted" "the filter answers EPERM"
o=$(out sc-unconfined --caps-retain=CAP_SYS_ADMIN --seccomp=unconfined -- sh -c "$STATUS_CMD; unshare -n true && echo UNSHARE-OK; mkdir -p /m; mount -t tmpfs none /m && echo MOUNT-OK; true")
assert_eq "$base_filters" "$(status_field "$o" Seccomp_filters)" "no filter of ours when unconfined"
assert_contains "$o" "UNSHARE-OK" "unshare -n with CAP_SYS_ADMIN and no filter"
assert_contains "$o" "MOUNT-OK" "mount with CAP_SYS_ADMIN and no filter"
o=$(out sc-remove --seccomp=mode=remove,mkdir,mkdirat -- sh -c 'mkdir /x && echo MKDIR-OK; touch /y && echo TOUCH-OK')
assert_not_contains "$o" "MKDIR-OK" "mode=remove denies the listed syscall"
assert_contains "$o" "TOUCH-OK" "mode=remove leaves the rest"
# An allowlist: what busybox needs to start and write a line (found with
# strace), nothing else, so its mkdir gets EPERM.
RETAIN=write,mprotect,brk,readlink,getuid,prctl,arch_prctl,set_tid_address,set_robust_list,prlimit64,getrandom,rseq
o=$(out sc-retain --seccomp=mode=retain,$RETAIN --exec=/bin/busybox -- echo RETAIN-OK)
assert_contains "$o" "RETAIN-OK" "mode=retain allows the listed syscalls"
assert_contains "$o" "exit-status=0" "mode=retain: the app ran"
o=$(out sc-retain-mkdir --seccomp=mode=retain,$RETAIN --exec=/bin/busybox -- mkdir /x)
assert_contains "$o" "Operation not permitted" "mode=retain denies what is not listed"
o=$(out nnp-off --no-new-privileges=false -- sh -c "$STATUS_CMD")
assert_eq 0 "$(status_field "$o" NoNewPrivs)" "--no-new-privileges=false"
assert_eq $((base_filters + 1)) "$(status_field "$o" Seccomp_filters)" "the filter is loaded without no_new_privs too"
assert_eq "$DEFAULT_CAPS" "$(status_field "$o" CapEff)" "caps without no_new_privs"

say "enter runs under the app's filter and capabilities"
$PEAPOD run -d --name "$PFX-enter" busybox --seccomp=mode=remove,mkdir,mkdirat --caps-remove=CAP_CHOWN -- sleep 300 >/dev/null
e=$($PEAPOD enter "$PFX-enter" -- sh -c 'mkdir /x && echo MKDIR-OK; touch /f; chown 1:1 /f && echo CHOWN-OK; grep -E "^(CapEff|Seccomp_filters):" /proc/self/status' 2>&1 || true)
assert_not_contains "$e" "MKDIR-OK" "the app's seccomp filter holds in enter"
assert_not_contains "$e" "CHOWN-OK" "a capability the app lacks is lacking in enter"
assert_eq 00000000a80405fa "$(status_field "$e" CapEff)" "enter: the app's CapEff"
assert_eq $((base_filters + 1)) "$(status_field "$e" Seccomp_filters)" "enter: the app's filter, once"
$PEAPOD rm --force "$PFX-enter" >/dev/null

say "read-only root"
o=$(out ro --readonly-rootfs -- sh -c 'touch /x && echo ROOT-WRITABLE; touch /dev/shm/x && echo SHM-OK; touch /tmp/x && echo TMP-WRITABLE; true')
assert_not_contains "$o" "ROOT-WRITABLE" "read-only root refuses writes"
assert_contains "$o" "Read-only file system" "EROFS"
assert_contains "$o" "SHM-OK" "/dev/shm stays writable"
o=$(out rw -- sh -c 'touch /x && echo ROOT-WRITABLE')
assert_contains "$o" "ROOT-WRITABLE" "the root is writable by default"

say "masked and read-only /proc and /sys paths, a minimal /dev"
o=$(out masks -- sh -c 'for f in kcore keys timer_list sched_debug; do [ ! -e /proc/$f ] || echo $f=$(wc -c </proc/$f); done
        echo acpi=$(ls /proc/acpi | wc -l); echo fw=$(ls /sys/firmware | wc -l)
        echo x >/proc/sys/kernel/hostname || echo SYS-DENIED
        for d in bus fs irq sys; do [ ! -e /proc/$d ] || echo $d=$(grep " /proc/$d " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1); done
        echo dev=$(ls /dev) .')
# Only what this kernel has; the host's own copies are not empty.
for f in kcore keys timer_list sched_debug; do
        [ -e /proc/$f ] || continue
        assert_contains "$o" "$f=0" "/proc/$f is masked"
done
[ "$(wc -c </proc/timer_list)" -gt 0 ] || fail "the host's /proc/timer_list is empty: the mask check proves nothing"
[ ! -d /proc/acpi ] || [ -z "$(ls /proc/acpi)" ] || assert_contains "$o" "acpi=0" "/proc/acpi is masked"
[ -z "$(ls /sys/firmware 2>/dev/null)" ] || assert_contains "$o" "fw=0" "/sys/firmware is masked"
assert_contains "$o" "SYS-DENIED" "/proc/sys is read-only"
for d in bus fs irq sys; do
        [ ! -e /proc/$d ] || assert_contains "$o" "$d=ro" "/proc/$d is mounted read-only"
done
assert_contains "$o" "dev=fd full null ptmx pts random shm stderr stdin stdout tty urandom zero ." "/dev has the default devices only"

say "bad values are refused with one clear line, nothing is created"
before=$($PEAPOD list --format=json | jq length)
e=$(must_fail $PEAPOD run -d --name "$PFX-bad" busybox --caps-retain=CAP_NOPE -- true)
assert_contains "$e" "Unknown capability 'CAP_NOPE'" "unknown capability"
e=$(must_fail $PEAPOD run -d --name "$PFX-bad" busybox --caps-retain=chown --caps-remove=kill -- true)
assert_contains "$e" "cannot both" "retain and remove"
e=$(must_fail $PEAPOD run -d --name "$PFX-bad" busybox --memory=lots -- true)
assert_contains "$e" "Invalid --memory='lots'" "bad --memory"
e=$(must_fail $PEAPOD run -d --name "$PFX-bad" busybox --cpu=0 -- true)
assert_contains "$e" "Invalid --cpu='0'" "bad --cpu"
e=$(must_fail $PEAPOD run -d --name "$PFX-bad" busybox --seccomp=mode=remove,no_such_call -- true)
assert_contains "$e" "Unknown syscall 'no_such_call'" "unknown syscall"
e=$(must_fail $PEAPOD run -d --name "$PFX-bad" busybox --pid-namespace=host -- true)
assert_contains "$e" "Invalid --pid-namespace='host'" "bad --pid-namespace"
# Over the bus, past the CLI's own checks: peapodd checks again.
e=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' \
        "$PFX-bad" 0 1 app busybox 1 CapabilitiesRetain as 1 CAP_BOGUS)
assert_contains "$e" "Unknown capability 'CAP_BOGUS'" "CreatePod refuses an unknown capability"
e=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' \
        "$PFX-bad" 0 1 app busybox 1 MemoryMax t 5)
assert_contains "$e" "Memory limit out of range" "CreatePod refuses a tiny MemoryMax"
e=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' \
        "$PFX-bad" 0 1 app busybox 1 Seccomp s "mode=retain,@default")
assert_contains "$e" "Invalid seccomp setting" "CreatePod refuses a bad seccomp setting"
assert_eq "$before" "$($PEAPOD list --format=json | jq length)" "no pod was created by bad input"
say "ok"
