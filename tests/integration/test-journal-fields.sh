#!/bin/bash
# Every line of an app carries the pod and app fields and its unit, also
# for an app that prints and exits at once (journald reads the stream after
# the helper is gone and falls back to the unit named in the stream
# header); the documented journalctl command finds them.
. "$(dirname "$0")/lib.sh"

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
say ok
