#!/bin/bash
# Pods at boot: a spec in /etc/peapod/pods/NAME.json run by the template
# unit peapod-pod@NAME.service, as an operator drives it with systemctl.
. "$(dirname "$0")/lib.sh"

dir=/etc/peapod/pods
name=${PFX}web
unit=peapod-pod@$name.service
cleanup() {
        local u
        for u in "$unit" "peapod-pod@${PFX}fail.service" "peapod-pod@${PFX}bad.service"; do
                systemctl disable "$u" >/dev/null 2>&1 || true
                systemctl stop "$u" >/dev/null 2>&1 || true
                systemctl reset-failed "$u" >/dev/null 2>&1 || true
        done
        rm -f "$dir/$name.json" "$dir/${PFX}fail.json" "$dir/${PFX}bad.json"
        cleanup_pods
}
trap cleanup EXIT
mkdir -p "$dir"

# The app traps nothing: the stop's SIGTERM kills it, which is a clean stop.
cat >"$dir/$name.json" <<JSON
{
    "net": "none",
    "apps": [
        {"image": "busybox", "app-name": "httpd", "set-env": {"GREETING": "hello"},
         "exec": ["sh", "-c", "echo \$GREETING from the pod; exec sleep 1000"]}
    ]
}
JSON

# systemctl start returns once the pod runs (Type=notify).
systemctl start "$unit"
assert_eq running "$(pod_state "$name")" "pod state after systemctl start"
assert_eq active "$(systemctl is-active "$unit")" "unit state"
assert_eq httpd "$($PEAPOD status --format=json "$name" | jq -r '.apps[0].name')" "the spec's app name"
# The app's output is in the unit's journal too.
wait_for 30 sh -c "journalctl -u '$unit' -o cat | grep -q 'hello from the pod'" ||
        fail "the app's output is not in journalctl -u $unit: $(journalctl -u "$unit" -o cat | tail -5)"

# A restart of peapodd (an upgrade) leaves the pod and its unit running.
id=$(pod_id "$name")
systemctl restart peapodd.service
wait_for 30 sh -c "$PEAPOD status --format=json '$name' >/dev/null" || fail "peapodd did not come back"
assert_eq "running $id" "$(pod_state "$name") $(pod_id "$name")" "the pod after a restart of peapodd"
unit_active() { [ "$(systemctl is-active "$unit")" = active ]; }
unit_active || fail "the unit is $(systemctl is-active "$unit") after a restart of peapodd"
# And peapodd killed outright: it is started again (its unit's Restart=).
systemctl kill -s KILL peapodd.service
wait_for 30 sh -c "$PEAPOD status --format=json '$name' >/dev/null" || fail "peapodd did not come back after SIGKILL"
unit_active || fail "the unit is $(systemctl is-active "$unit") after peapodd was killed"

# systemctl stop stops and removes the pod; a stop is not a failure.
systemctl stop "$unit"
! $PEAPOD status "$name" >/dev/null 2>&1 || fail "pod $name is still there after systemctl stop"
assert_eq inactive "$(systemctl is-active "$unit")" "unit state after stop"

# A pod of that name left behind (a crash) is replaced at the next start.
$PEAPOD run -d -q --name "$name" --net=none busybox -- sleep 1000
old=$(pod_id "$name")
systemctl start "$unit"
new=$(pod_id "$name")
[ "$old" != "$new" ] || fail "the leftover pod was not replaced"
systemctl stop "$unit"

# The first app fails: so does the unit, with its status; the pod is gone.
cat >"$dir/${PFX}fail.json" <<JSON
{"net": "none", "apps": [{"image": "busybox", "exec": ["sh", "-c", "sleep 1; exit 3"]}]}
JSON
systemctl start "peapod-pod@${PFX}fail.service" || true
wait_for 60 systemctl is-failed --quiet "peapod-pod@${PFX}fail.service" ||
        fail "unit of a failing pod is $(systemctl is-active "peapod-pod@${PFX}fail.service")"
assert_eq 3 "$(systemctl show -P ExecMainStatus "peapod-pod@${PFX}fail.service")" "the unit's exit status"
! $PEAPOD status "${PFX}fail" >/dev/null 2>&1 || fail "the failed pod was not removed"

# A bad spec: the start fails, and journalctl -u says why.
cat >"$dir/${PFX}bad.json" <<JSON
{"apps": [{"image": "busybox", "imgae": "x"}]}
JSON
! systemctl start "peapod-pod@${PFX}bad.service" 2>/dev/null || fail "a bad spec started"
assert_eq failed "$(systemctl is-active "peapod-pod@${PFX}bad.service")" "unit of a bad spec"
wait_for 30 sh -c "journalctl -u 'peapod-pod@${PFX}bad.service' -o cat | grep -q 'unknown key \"imgae\"'" ||
        fail "the parse error is not in the journal: $(journalctl -u "peapod-pod@${PFX}bad.service" -o cat | tail -5)"
# A missing spec too.
! systemctl start "peapod-pod@${PFX}none.service" 2>/dev/null || fail "a unit without a spec started"
systemctl reset-failed "peapod-pod@${PFX}none.service" 2>/dev/null || true

# systemctl enable makes the wants link for boot; disable removes it.
systemctl enable "$unit" 2>/dev/null
[ -L "/etc/systemd/system/multi-user.target.wants/$unit" ] || fail "no wants link after systemctl enable"
systemctl disable "$unit" 2>/dev/null
[ ! -e "/etc/systemd/system/multi-user.target.wants/$unit" ] || fail "the wants link stayed after disable"
say ok
