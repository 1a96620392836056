#!/bin/bash
# The default seccomp filter, call by call (tests/hostile/seccomp.c): what
# docker's default profile denies is denied in a default app, with the
# errno the list expects; the capability rules open with the capability
# (SYS_PTRACE, SYS_NICE) and only then; --seccomp=unconfined lets the
# kernel answer; `peapod enter` runs under the same filter as the app,
# the capability rules included.
. "$(dirname "$0")/lib.sh"

hostile_image seccomp seccomp
cleanup() { cleanup_pods; $PEAPOD image rm localhost/seccomp:latest >/dev/null 2>&1 || true; }
trap cleanup EXIT

# run_app NAME APP-OPTIONS... -- CMD...: runs one app of the image to its
# end; prints what it wrote and a last line "exit-status=N".
run_app() {
        local name=$1; shift
        $PEAPOD run -d --name "$PFX-$name" localhost/seccomp:latest "$@" >/dev/null
        wait_for 60 sh -c "[ \"\$($PEAPOD status --format=json $PFX-$name | jq -r .state)\" = exited ]" ||
                fail "pod $name did not end"
        $PEAPOD logs --no-prefix "$PFX-$name" 2>&1
        echo "exit-status=$($PEAPOD status --format=json "$PFX-$name" | jq -r '.apps[0].status')"
}
# expect_pass OUTPUT MODE WHAT: the program's verdict line and exit status.
expect_pass() {
        assert_contains "$1" "seccomp-$2: 0 failed" "$3"
        assert_contains "$1" "exit-status=0" "$3: exit status"
        assert_not_contains "$1" "FAIL " "$3"
}

say "a default app: every call of the list denied, the rest working"
o=$(run_app default -- /bin/seccomp default)
expect_pass "$o" default "default filter"
assert_contains "$o" "ok socket(AF_VSOCK)" "AF_VSOCK denied"
assert_contains "$o" "ok process_vm_readv" "process_vm_readv denied without SYS_PTRACE"
assert_contains "$o" "ok mbind" "mbind denied without SYS_NICE"
assert_contains "$o" "ok personality(ADDR_NO_RANDOMIZE)" "personality flags denied"
assert_contains "$o" "ok x32 mount" "the x32 section"
case "$o" in *"skip i386"*) say "no IA32 emulation: i386 section not checked" ;;
*) assert_contains "$o" "ok i386 mount" "the i386 section" ;; esac

say "the capability rules follow the app's capabilities"
# CAP_SYS_CHROOT too: the program checks that chroot reaches the kernel.
o=$(run_app ptrace --caps-retain=CAP_SYS_PTRACE,CAP_SYS_CHROOT -- /bin/seccomp ptrace)
expect_pass "$o" ptrace "with CAP_SYS_PTRACE"
o=$(run_app nice --caps-retain=CAP_SYS_NICE,CAP_SYS_CHROOT -- /bin/seccomp nice)
expect_pass "$o" nice "with CAP_SYS_NICE"
# Negative: the program's own check fails when the capability is missing.
o=$(run_app noptrace -- /bin/seccomp ptrace)
assert_contains "$o" "FAIL process_vm_readv" "process_vm_readv without SYS_PTRACE"
assert_contains "$o" "exit-status=1" "ptrace mode without the capability fails"

say "unconfined: the kernel answers"
o=$(run_app unconfined --seccomp=unconfined --caps-retain=CAP_SYS_PTRACE,CAP_SYS_NICE,CAP_SYS_CHROOT -- /bin/seccomp unconfined)
expect_pass "$o" unconfined "unconfined"

say "peapod enter: the app's filter, capability rules included"
$PEAPOD run -d --name "$PFX-e" localhost/seccomp:latest --app-name=a -- busybox sleep 300 >/dev/null
$PEAPOD run -d --name "$PFX-ep" localhost/seccomp:latest --app-name=a --caps-retain=CAP_SYS_PTRACE,CAP_SYS_CHROOT -- busybox sleep 300 >/dev/null
for p in e ep; do
        wait_for 30 sh -c "[ \"\$($PEAPOD app status --format=json $PFX-$p a | jq .pid)\" -gt 0 ]" || fail "pod $p: app has no pid"
done
o=$($PEAPOD enter "$PFX-e" -- /bin/seccomp default 2>&1) || fail "enter, default filter: $o"
assert_contains "$o" "seccomp-default: 0 failed" "enter: default filter"
o=$($PEAPOD enter "$PFX-ep" -- /bin/seccomp ptrace 2>&1) || fail "enter, CAP_SYS_PTRACE: $o"
assert_contains "$o" "seccomp-ptrace: 0 failed" "enter: the app's SYS_PTRACE opens process_vm_readv"
rc=0; o=$($PEAPOD enter "$PFX-e" -- /bin/seccomp ptrace 2>&1) || rc=$?
assert_eq 1 "$rc" "enter: without the app's SYS_PTRACE, process_vm_readv stays denied"
assert_contains "$o" "FAIL process_vm_readv" "enter: process_vm_readv denied"

say "ok"
