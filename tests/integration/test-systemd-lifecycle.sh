#!/bin/bash
# Pods outlive systemd's own lifecycle: after `systemctl daemon-reload`,
# `daemon-reexec` and restarts of machined, journald@peapod and
# dbus-daemon, running pods stay fully manageable (status, enter with its
# exit code, app stop/start, logs, stop, rm), every property peapod set on
# their units reads back the same, and removal leaves no unit loaded and
# nothing of peapod in /run/systemd/transient.
. "$(dirname "$0")/lib.sh"

# Pod names without '-': unit names then need no escaping here.
one() { echo "${PFX}one$1"; }
three() { echo "${PFX}three$1"; }

# What peapod sets on an app unit (app_start_unit, app_append_limits),
# as systemd shows it.
props=Description,Slice,BindsTo,After,Type,RemainAfterExit,KillMode,TimeoutStopUSec,SyslogIdentifier,Wants,LogExtraFields,ExecStart,CPUQuotaPerSecUSec,CPUWeight,MemoryMax,TasksMax,DevicePolicy,DeviceAllow,Delegate,DelegateControllers,CPUAccounting,MemoryAccounting,SyslogLevel,Restart,RestartUSec,LoadState
# ExecStart also shows the pid and times of the last run: keep its command.
# Dependency lists come in hash order: sort them.
show_props() { # unit
        systemctl show -p "$props" "$1" | sed 's/^\(ExecStart={ path=[^;]*; argv\[\]=[^;]*\);.*/\1/' |
                while IFS= read -r line; do
                        case "$line" in
                        After=* | BindsTo=* | Wants=*) echo "${line%%=*}=$(echo "${line#*=}" | tr ' ' '\n' | sort | tr '\n' ' ')" ;;
                        *) echo "$line" ;;
                        esac
                done
}

pod_units() { # pod
        pod_units_list "$1" | awk '{ print $1 }'
}

step=0
check_after() { # what CMD...
        local what=$1 o id u before
        shift
        step=$((step + 1))
        # Marker lines say "$what" with an '=', not as one word, so that
        # nothing of the command line in other fields can match.
        $PEAPOD run -d --name "$(one $step)" --net=none busybox --memory=64M --tasks-max=64 --cpu=500m --cpu-shares=200 \
                -- sh -c "echo mark=$what; exec sleep 600" >/dev/null
        $PEAPOD run -d --name "$(three $step)" --net=none busybox --app-name=a -- sleep 600 \
                --- busybox --app-name=b -- sh -c "echo b=$what; exec sleep 600" \
                --- busybox --app-name=c -- sleep 600 >/dev/null
        for u in $(pod_units "$(one $step)") $(pod_units "$(three $step)"); do
                echo "$u"
                show_props "$u"
        done >"$tmp/before"

        say "$what"
        "$@"

        for u in $(pod_units "$(one $step)") $(pod_units "$(three $step)"); do
                echo "$u"
                show_props "$u"
        done >"$tmp/after"
        diff -u "$tmp/before" "$tmp/after" || fail "unit properties changed across $what"
        # Delegated (for the execs' AttachProcessesToUnit) with no
        # controller: no cpu controller in every pod for it (pod-runtime.c).
        assert_eq "Delegate=yes DelegateControllers=" \
                "$(systemctl show -p Delegate -p DelegateControllers "peapod-$(three $step)-a.service" | xargs)" \
                "an app unit's delegation after $what"
        assert_not_contains "$(cat "$tmp/after")" "LoadState=bad-setting" "units after $what"

        assert_eq running "$(pod_state "$(one $step)")" "pod of one app after $what"
        assert_eq running "$(pod_state "$(three $step)")" "pod of three apps after $what"
        o=0
        $PEAPOD enter "$(one $step)" -- sh -c 'exit 7' || o=$?
        assert_eq 7 "$o" "enter's exit code after $what"
        o=0
        $PEAPOD enter --app=b "$(three $step)" -- sh -c 'exit 9' || o=$?
        assert_eq 9 "$o" "enter's exit code in a pod of three apps after $what"

        $PEAPOD app stop "$(three $step)" b >/dev/null
        assert_eq exited "$($PEAPOD app status --format=json "$(three $step)" b | jq -r .state)" "app b stopped after $what"
        $PEAPOD app start "$(three $step)" b >/dev/null
        assert_eq running "$($PEAPOD app status --format=json "$(three $step)" b | jq -r .state)" "app b started again after $what"
        # b printed its line twice now: before and after the restart.
        wait_for 30 sh -c "[ \"\$($PEAPOD logs $(three $step) b | grep -c '^b=$what\$')\" = 2 ]" ||
                fail "logs of the restarted app after $what: $($PEAPOD logs "$(three $step)" b)"
        wait_for 30 sh -c "$PEAPOD logs $(one $step) | grep -qx 'mark=$what'" ||
                fail "logs after $what: $($PEAPOD logs "$(one $step)")"

        $PEAPOD stop "$(one $step)" >/dev/null
        assert_eq exited "$(pod_state "$(one $step)")" "pod stopped after $what"
        $PEAPOD rm "$(one $step)" >/dev/null
        $PEAPOD rm --force "$(three $step)" >/dev/null
        id=$(pod_units "$(one $step)")$(pod_units "$(three $step)")
        assert_eq "" "$id" "units left after removing the pods ($what)"
}

restart_and_wait() { # unit
        systemctl restart "$1"
        wait_for 30 systemctl is-active --quiet "$1" || fail "$1 did not come back"
}

tmp=$(mktemp -d)
cleanup() {
        cleanup_pods
        rm -rf "$tmp"
}
trap cleanup EXIT

check_after daemon-reload systemctl daemon-reload
check_after daemon-reexec systemctl daemon-reexec
check_after machined-restart restart_and_wait systemd-machined.service
check_after journald-restart restart_and_wait systemd-journald@peapod.service
# The apps' streams outlive its restarts only from its fd store at PID 1:
# one per app, beyond the 4096 streams journald itself serves (systemd's
# own 4224 would be ~2000 pods of two apps).
assert_eq 16384 "$(systemctl show -P FileDescriptorStoreMax systemd-journald@peapod.service)" \
        "journald@peapod's fd store"
# peapodd leaves a dead bus and is restarted onto the new one; the CLI's
# next call activates it.
check_after dbus-restart restart_and_wait dbus.service

# Nothing of any pod is left loaded or on disk in systemd's transient dir.
o=$(pod_units_list "$PFX*")
assert_eq "" "$o" "units left at the end"
o=$(ls /run/systemd/transient | grep -e "^peapod-$PFX" -e "^machine-$PFX" -e "^machine-peapod.-$PFX" || true)
assert_eq "" "$o" "transient unit files left at the end"
say "ok"
