#!/bin/bash
# Every journalctl command that README.md, peapod(1) and tools/try show
# works as written: taken from the files themselves, with the pod's id,
# name, app and unit put in for the placeholders, each prints the app's
# line (not "-- No entries --").
. "$(dirname "$0")/lib.sh"
src=${PEAPOD_SOURCE_DIR:-$(dirname "$(realpath "$0")")/../..}
spec=/etc/peapod/pods/${PFX}web.json
cleanup() {
        systemctl stop "peapod-pod@${PFX}web.service" >/dev/null 2>&1 || true
        systemctl reset-failed "peapod-pod@${PFX}web.service" >/dev/null 2>&1 || true
        rm -f "$spec"
        $PEAPOD rm --force "${PFX}web" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The app is called clock as in tools/try; the pod is named after peapod(1)'s
# example pod "web" (no '-': a unit pattern 'peapod-web-*' must match).
line="doc-line-$RANDOM$RANDOM"
$PEAPOD run -d --name "${PFX}web" --net=none busybox --app-name=clock -- sh -c "echo $line" >/dev/null
wait_for 60 sh -c "[ \"\$($PEAPOD status --format=json ${PFX}web | jq -r .state)\" = exited ]" || fail "the pod did not exit"
id=$(pod_id "${PFX}web")
app_id=$($PEAPOD app status --format=json "${PFX}web" clock | jq -r .id)
unit=$($PEAPOD app status --format=json "${PFX}web" clock | jq -r .unit)
[ -n "$unit" ] && [ "$unit" != null ] || fail "no unit in app status"
wait_for 30 sh -c "journalctl --namespace=peapod -q -o cat PEAPOD_POD_ID=$id | grep -qx $line" || fail "the app's line is not in the journal"

# Inline code in README.md (spans may wrap), peapod(1)'s commands in bold
# and its examples, tools/try's.
cmds=$(
        tr '\n' ' ' <"$src/README.md" | grep -o '`journalctl [^`]*`' | tr -d '`' | tr -s ' '
        grep -E '^\.B journalctl ' "$src/man/peapod.1" | sed -E 's/^\.B //; s/\\f[IRB]//g'
        grep -E '^# journalctl ' "$src/man/peapod.1" | sed -E 's/^# //'
        grep -E '^ *show journalctl ' "$src/tools/try" | sed -E 's/^ *show //'
)
cmds=$(echo "$cmds" | sed -E 's/\\-/-/g; s/\\e/\\/g')
# The boot unit's last: running it replaces the pod the others select.
cmds=$(echo "$cmds" | grep -v peapod-pod@; echo "$cmds" | grep peapod-pod@)
n=$(echo "$cmds" | grep -c journalctl)
[ "$n" -ge 6 ] || fail "found only $n journalctl commands in the docs: $cmds"

# The boot unit's commands (journalctl -u peapod-pod@NAME) need that unit:
# the same pod, run from a spec file by the template unit.
boot_unit_ran=
boot_unit() {
        [ -n "$boot_unit_ran" ] && return 0
        $PEAPOD rm --force "${PFX}web" >/dev/null
        mkdir -p /etc/peapod/pods
        printf '{"net": "none", "apps": [{"image": "busybox", "app-name": "clock", "exec": ["sh", "-c", "echo %s"]}]}\n' \
                "$line" >"$spec"
        systemctl start "peapod-pod@${PFX}web.service" || fail "peapod-pod@${PFX}web did not start"
        wait_for 60 sh -c "journalctl -u 'peapod-pod@${PFX}web.service' -o cat | grep -q '$line'" ||
                fail "the boot pod's line is not in journalctl -u peapod-pod@${PFX}web"
        boot_unit_ran=1
}

while IFS= read -r cmd; do
        case "$cmd" in *peapod-pod@*) boot_unit ;; esac
        run=$(echo "$cmd" | sed -E "s/<pod id>/$id/g; s/=ID( |\$)/=$id\1/g; s/<app id>|APP-ID/$app_id/g;
                                    s/<name>/clock/g; s/=NAME( |\$)/=clock\1/g; s/ UNIT( |\$)/ $unit\1/g;
                                    s/\"\\\$id\"/$id/g; s/\bweb\b/${PFX}web/g")
        out=$(bash -c "$run" 2>&1) || fail "'$cmd' (run as '$run') failed: $out"
        assert_not_contains "$out" "No entries" "'$cmd' (run as '$run')"
        assert_contains "$out" "$line" "'$cmd' (run as '$run')"
        say "works: $cmd"
done <<<"$cmds"
say ok
