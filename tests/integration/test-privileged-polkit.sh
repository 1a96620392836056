#!/bin/bash
# A privileged app is the host's root: making one, or acting inside one,
# needs polkit's org.peapod1.run-privileged besides manage-pods (or
# enter-pods). A user granted manage-pods and enter-pods alone runs plain
# apps and is refused a privileged one, told which action it lacked; with
# run-privileged granted as well, both answers are needed and enough.
. "$(dirname "$0")/lib.sh"
command -v pkcheck >/dev/null && [ -d /usr/share/polkit-1/actions ] || { say "no polkit here: skipped"; exit 77; }

rule=/etc/polkit-1/rules.d/50-peapod-test-priv-$$.rules
cleanup() {
        cleanup_pods
        rm -f "$rule"
        userdel podder 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo "[$TEST_NAME] FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR

useradd --system --no-create-home --shell /bin/sh podder
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
granted() { as podder sh -c "pkcheck --action-id org.peapod1.$1 --process \$\$" >/dev/null 2>&1; }
# attach_app POD APP: Pod.AttachApp as the caller (python3-dbus keeps the
# action named in AccessDenied).
attach_app() {
        python3 -c 'import dbus, sys
pod = dbus.Interface(dbus.SystemBus().get_object("org.peapod1", sys.argv[1]), "org.peapod1.Pod")
pod.AttachApp(sys.argv[2], dbus.UInt64(0))' "/org/peapod1/pod/$1" "$2"
}

say "the action is installed, for administrators only"
out=$(pkaction --action-id org.peapod1.run-privileged --verbose)
assert_contains "$out" "implicit any:      auth_admin" "run-privileged for any"
assert_contains "$out" "implicit active:   auth_admin" "run-privileged, active session"

mkdir -p /etc/polkit-1/rules.d
cat >"$rule" <<'EOR'
polkit.addRule(function(action, subject) {
        if ((action.id == "org.peapod1.manage-pods" || action.id == "org.peapod1.enter-pods") && subject.user == "podder")
                return polkit.Result.YES;
});
EOR
wait_for 30 granted manage-pods || fail "polkitd did not pick up the rule"

say "podder runs a plain app and is refused a privileged one"
as podder $PEAPOD run -d --name "${PFX}plain" busybox -- sleep 300 >/dev/null || fail "podder cannot run a plain app"
assert_eq running "$(pod_state "${PFX}plain")" "podder's plain pod runs"
err=$(must_fail as podder $PEAPOD run -d --name "${PFX}priv" busybox --privileged -- sleep 300)
assert_contains "$err" "for org.peapod1.run-privileged" "podder's privileged pod refused"
must_fail $PEAPOD status "${PFX}priv" >/dev/null
err=$(must_fail as podder $PEAPOD run -d --name "${PFX}mixed" busybox -- sleep 300 --- busybox --app-name=p2 --privileged -- sleep 300)
assert_contains "$err" "for org.peapod1.run-privileged" "one privileged app among plain ones"
must_fail $PEAPOD status "${PFX}mixed" >/dev/null

say "AddApp of a privileged app is refused, of a plain one allowed"
id=$(pod_id "${PFX}plain")
add_app() { # NAME PRIVILEGED
        busctl call org.peapod1 "/org/peapod1/pod/$id" org.peapod1.Pod AddApp 'ssa(sv)t' "$1" busybox \
                2 Exec as 2 sleep 300 Privileged b "$2" 0
}
err=$(must_fail as podder bash -c "id=$id; $(declare -f add_app); add_app p3 true")
assert_contains "$err" "for org.peapod1.run-privileged" "podder's privileged AddApp refused"
as podder bash -c "id=$id; $(declare -f add_app); add_app plain2 false" >/dev/null || fail "podder cannot add a plain app"
apps=$($PEAPOD status --format=json "${PFX}plain" | jq -r '.apps[].name' | sort | tr '\n' ' ')
assert_eq "busybox plain2 " "$apps" "the refused AddApp added nothing"

say "root's privileged app: podder may neither enter it nor attach to it"
$PEAPOD run -d --name "${PFX}root" busybox --privileged -- sleep 300 --- busybox --app-name=plain -- sleep 300 >/dev/null
err=$(must_fail as podder $PEAPOD enter --app=busybox "${PFX}root" -- true)
assert_contains "$err" "for org.peapod1.run-privileged" "podder's enter into a privileged app"
as podder $PEAPOD enter --app=plain "${PFX}root" -- true || fail "podder cannot enter the plain app beside it"
rid=$(pod_id "${PFX}root")
err=$(must_fail as podder bash -c "$(declare -f attach_app); attach_app $rid busybox")
assert_contains "$err" "for org.peapod1.run-privileged" "podder's AttachApp of a privileged app"

say "with run-privileged granted too, podder runs privileged apps (two polkit answers for one call)"
cat >"$rule" <<'EOR'
polkit.addRule(function(action, subject) {
        if ((action.id == "org.peapod1.manage-pods" || action.id == "org.peapod1.enter-pods" ||
             action.id == "org.peapod1.run-privileged") && subject.user == "podder")
                return polkit.Result.YES;
});
EOR
wait_for 30 granted run-privileged || fail "polkitd did not pick up the new rule"
as podder $PEAPOD run -d --name "${PFX}priv" busybox --privileged -- sleep 300 >/dev/null || fail "podder cannot run a privileged app"
assert_eq running "$(pod_state "${PFX}priv")" "podder's privileged pod runs"
pid=$(pod_id "${PFX}priv")
assert_contains "$(busctl call org.peapod1 "/org/peapod1/pod/$pid" org.peapod1.Pod GetApp s busybox)" '"Privileged" b true' \
        "podder's app is privileged"
as podder $PEAPOD enter "${PFX}priv" -- true || fail "podder cannot enter its privileged app"
as podder bash -c "id=$id; $(declare -f add_app); add_app p3 true" >/dev/null || fail "podder cannot add a privileged app"
say ok
