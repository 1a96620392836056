#!/bin/bash
# Every line of an app carries the pod and app fields and its unit, also
# for an app that prints and exits at once (journald reads the stream after
# the helper is gone and falls back to the unit named in the stream
# header); the documented journalctl command finds them. journalctl shows
# the app's name; peapod logs selects by ids (two pods with an app of the
# same name), keeps a removed app's lines until the pod goes, and ignores
# lines that forge the fields.
. "$(dirname "$0")/lib.sh"
cleanup() { $PEAPOD rm --force "${PFX}quick" "${PFX}twin" "${PFX}rm" >/dev/null 2>&1 || true; }
trap cleanup EXIT

wait_exited() { wait_for 60 sh -c "[ \"\$($PEAPOD status --format=json $1 | jq -r .state)\" = exited ]" || fail "pod $1 did not exit"; }

# Several quick apps, each printing on both streams and exiting at once.
$PEAPOD run -d --name "${PFX}quick" --net=none busybox --app-name=a -- sh -c 'echo out-a; echo err-a >&2; exit 3' \
        --- busybox --app-name=b -- sh -c 'echo out-b; exit 0' \
        --- busybox --app-name=c -- sh -c 'echo err-c >&2; exit 1' >/dev/null
wait_exited "${PFX}quick"
id=$(pod_id "${PFX}quick")

# The documented command (README, peapod(1)): every line of the pod.
entries() {
        journalctl --namespace=peapod --no-pager -o json "PEAPOD_POD_ID=$id" |
                jq -c '{m: .MESSAGE, app: .PEAPOD_APP, app_id: .PEAPOD_APP_ID, unit: ._SYSTEMD_UNIT, prio: .PRIORITY}'
}
wait_for 30 sh -c "[ \$(journalctl --namespace=peapod --no-pager -o cat PEAPOD_POD_ID=$id | wc -l) -ge 4 ]" ||
        fail "the pod's lines are not all found by PEAPOD_POD_ID=: $(journalctl --namespace=peapod --no-pager -o cat "PEAPOD_POD_ID=$id")"
e=$(entries)
for line in out-a:a:6 err-a:a:3 out-b:b:6 err-c:c:3; do
        IFS=: read -r msg app prio <<<"$line"
        got=$(echo "$e" | jq -r --arg m "$msg" 'select(.m == $m) | "\(.app) \(.unit) \(.prio)"')
        assert_eq "$app peapod-${PFX}quick-$app.service $prio" "$got" "fields of '$msg'"
        app_id=$($PEAPOD app status --format=json "${PFX}quick" "$app" | jq -r .id)
        assert_eq "$app_id" "$(echo "$e" | jq -r --arg m "$msg" 'select(.m == $m) | .app_id')" "PEAPOD_APP_ID of '$msg'"
done
# And by app name, as peapod(1) shows.
o=$(journalctl --namespace=peapod --no-pager -o cat "PEAPOD_POD_ID=$id" PEAPOD_APP=b)
assert_eq "out-b" "$o" "the lines of app b"

# The commands of the README and peapod(1)'s example, as written there.
o=$(journalctl --namespace=peapod --no-pager -o cat "PEAPOD_POD_ID=$($PEAPOD status --format=json "${PFX}quick" | jq -r .id)" | sort | tr '\n' ' ')
assert_eq "err-a err-c out-a out-b " "$o" "peapod(1): journalctl --namespace=peapod PEAPOD_POD_ID=..."
o=$(journalctl --namespace=peapod --no-pager -o cat -u "peapod-${PFX}quick-*.service" | sort | tr '\n' ' ')
assert_eq "err-a err-c out-a out-b " "$o" "peapod(1): journalctl --namespace=peapod -u 'peapod-POD-*.service'"
o=$(journalctl --namespace=peapod --no-pager -o cat -u "peapod-${PFX}quick-a.service" | sort | tr '\n' ' ')
assert_eq "err-a out-a " "$o" "README: journalctl --namespace=peapod -u UNIT"
# journalctl shows the app's name, not its id.
assert_eq "a" "$(journalctl --namespace=peapod --no-pager -o json "PEAPOD_POD_ID=$id" PEAPOD_APP=a | jq -r .SYSLOG_IDENTIFIER | sort -u)" "SYSLOG_IDENTIFIER"
assert_contains "$(journalctl --namespace=peapod --no-pager "PEAPOD_POD_ID=$id" PEAPOD_APP=b)" " b[" "journalctl's short output names the app"

# Another pod with an app called a: each pod's logs have only its own.
$PEAPOD run -d --name "${PFX}twin" --net=none busybox --app-name=a -- sh -c 'echo twin-a' >/dev/null
wait_exited "${PFX}twin"
wait_for 30 sh -c "$PEAPOD logs ${PFX}twin a | grep -q twin-a" || fail "the twin's line"
assert_eq "twin-a" "$($PEAPOD logs "${PFX}twin" a 2>&1)" "logs of the twin's app a"
assert_eq "err-a out-a " "$($PEAPOD logs "${PFX}quick" a 2>&1 | sort | tr '\n' ' ')" "logs of the first pod's app a"

# A line that forges the fields of app a, sent by an unprivileged host user
# to the namespace's native socket: journalctl finds it by the field, peapod
# logs does not take it for the app's.
setpriv --reuid=65534 --regid=65534 --clear-groups python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(("MESSAGE=forged\nPRIORITY=6\nPEAPOD_POD_ID=%s\nPEAPOD_APP=a\nPEAPOD_APP_ID=%s\nSYSLOG_IDENTIFIER=a\n" % (sys.argv[1], sys.argv[2])).encode(), "/run/systemd/journal.peapod/socket")
' "$id" "$($PEAPOD app status --format=json "${PFX}quick" a | jq -r .id)"
wait_for 30 sh -c "journalctl --namespace=peapod --no-pager -o cat PEAPOD_POD_ID=$id | grep -qx forged" || fail "the forged line did not reach the journal"
assert_not_contains "$($PEAPOD logs "${PFX}quick" 2>&1)" forged "peapod logs of a pod with a forged line"
assert_not_contains "$($PEAPOD logs "${PFX}quick" a 2>&1)" forged "peapod logs of an app with a forged line"

# app rm: the removed app's lines stay in the pod's logs (with its name)
# and under its name, until the pod is removed.
$PEAPOD pod create --name "${PFX}rm" --quiet
$PEAPOD app add --name gone --quiet "${PFX}rm" busybox -- sh -c 'echo gone-line'
$PEAPOD app add --name stays --quiet "${PFX}rm" busybox -- sh -c 'echo stays-line; exec sleep 300'
$PEAPOD app start "${PFX}rm" gone
$PEAPOD app start "${PFX}rm" stays
wait_for 30 sh -c "[ \"\$($PEAPOD app status --format=json ${PFX}rm gone | jq -r .state)\" = exited ]" || fail "app gone did not exit"
wait_for 30 sh -c "$PEAPOD logs ${PFX}rm | grep -q gone-line" || fail "gone's line before app rm"
$PEAPOD app rm "${PFX}rm" gone
o=$($PEAPOD logs "${PFX}rm" 2>&1)
assert_contains "$o" "gone | gone-line" "a removed app's line in the pod's logs, with its name"
assert_contains "$o" "stays-line" "the remaining app's line"
assert_eq "gone-line" "$($PEAPOD logs "${PFX}rm" gone 2>&1)" "a removed app's logs by name"
must_fail $PEAPOD logs "${PFX}rm" never-was >/dev/null
$PEAPOD rm --force "${PFX}rm"
must_fail $PEAPOD logs "${PFX}rm" >/dev/null
say ok
