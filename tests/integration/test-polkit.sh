#!/bin/bash
# Authorization through polkit: root may do everything; a user granted
# org.peapod1.manage-pods by a rule may run and remove pods and nothing
# else that changes; a user without a rule may only read. Each refusal
# names the action it lacked.
. "$(dirname "$0")/lib.sh"
command -v pkcheck >/dev/null && [ -d /usr/share/polkit-1/actions ] || { say "no polkit here: skipped"; exit 77; }

rule=/etc/polkit-1/rules.d/50-peapod-test-$$.rules
tmp=$(mktemp -d /var/tmp/polkit.XXXXXX)
chmod 0755 "$tmp"
MON=
cleanup() {
        [ -z "$MON" ] || kill "$MON" 2>/dev/null || true
        cleanup_pods
        rm -f "$rule"
        systemctl unmask --runtime polkit.service >/dev/null 2>&1 || true
        userdel podder 2>/dev/null || true
        userdel nopod 2>/dev/null || true
        gpgconf --homedir "$tmp/gnupg" --kill all 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "[$TEST_NAME] FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR

useradd --system --no-create-home --shell /bin/sh podder
useradd --system --no-create-home --shell /bin/sh nopod
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }

say "the actions are installed"
for a in manage-pods manage-images manage-trust enter-pods; do
        pkaction --action-id "org.peapod1.$a" >/dev/null || fail "polkit does not know org.peapod1.$a"
done

mkdir -p /etc/polkit-1/rules.d
cat >"$rule" <<'EOR'
polkit.addRule(function(action, subject) {
        if (action.id == "org.peapod1.manage-pods" && subject.user == "podder")
                return polkit.Result.YES;
});
EOR
# polkitd reads rules.d again when it changes; wait until it has.
granted() { as podder sh -c 'pkcheck --action-id org.peapod1.manage-pods --process $$' >/dev/null 2>&1; }
wait_for 30 granted || fail "polkitd did not pick up the rule"

say "root is allowed without asking anyone"
$PEAPOD run -d --name "$PFX-root" busybox -- sleep 300 >/dev/null
assert_eq running "$(pod_state "$PFX-root")" "root's pod runs"

say "podder may run and remove pods"
as podder $PEAPOD run -d --name "$PFX-pod" busybox -- sleep 300 >/dev/null || fail "podder cannot run a pod"
assert_eq running "$(pod_state "$PFX-pod")" "podder's pod runs"
as podder $PEAPOD stop "$PFX-pod" >/dev/null || fail "podder cannot stop a pod"
assert_eq exited "$(pod_state "$PFX-pod")" "podder's pod stopped"
as podder $PEAPOD rm "$PFX-pod" >/dev/null || fail "podder cannot remove a pod"
must_fail $PEAPOD status "$PFX-pod" >/dev/null
# Removal of a pod podder did not make is the same action.
as podder $PEAPOD rm --force "$PFX-root" >/dev/null || fail "podder cannot remove root's pod"
$PEAPOD run -d --name "$PFX-root" busybox -- sleep 300 >/dev/null

say "podder is denied images, trust and enter, told which action is missing"
err=$(must_fail as podder $PEAPOD image pull example.invalid/nothing:latest)
assert_contains "$err" "not authorized for org.peapod1.manage-images" "pull refused"
assert_contains "$err" "polkit" "the refusal points to polkit"
err=$(must_fail as podder $PEAPOD image rm busybox)
assert_contains "$err" "not authorized for org.peapod1.manage-images" "image rm refused"
$PEAPOD image list | grep -q busybox || fail "a refused image rm removed the image"
export GNUPGHOME=$tmp/gnupg
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "t <t@example.com>" ed25519 sign never 2>/dev/null
gpg --batch --export --armor t@example.com >"$tmp/t.pub"
chmod 0644 "$tmp/t.pub"
err=$(must_fail as podder $PEAPOD trust add --yes --prefix=example.com/x "$tmp/t.pub")
assert_contains "$err" "not authorized for org.peapod1.manage-trust" "trust add refused"
assert_eq "" "$($PEAPOD trust list --format=json 2>/dev/null | jq -r '.[] | select(.prefix == "example.com/x") | .prefix')" \
        "a refused trust add trusted the key"
err=$(must_fail as podder $PEAPOD enter "$PFX-root" -- true)
assert_contains "$err" "not authorized for org.peapod1.enter-pods" "enter refused"
$PEAPOD enter "$PFX-root" -- true || fail "root cannot enter"
# Attaching to an app's stdin is entering it too (checked before anything
# about the app: busybox here has no stdin to hand out).
# (python3-dbus: busctl shows any AccessDenied as "Access denied", without the action.)
attach_app() {
        python3 -c 'import dbus, sys
pod = dbus.Interface(dbus.SystemBus().get_object("org.peapod1", sys.argv[1]), "org.peapod1.Pod")
pod.AttachApp("busybox", dbus.UInt64(0))' "/org/peapod1/pod/$1"
}
pod=$(pod_id "$PFX-root")
err=$(must_fail as podder bash -c "$(declare -f attach_app); attach_app $pod")
assert_contains "$err" "not authorized for org.peapod1.enter-pods" "AttachApp refused"
err=$(must_fail attach_app "$pod")
assert_contains "$err" "without Stdin or Tty" "AttachApp of an app without stdin"

say "a user without a rule may read and nothing else"
as nopod $PEAPOD list | grep -q "$PFX-root" || fail "nopod cannot list"
assert_eq running "$(as nopod $PEAPOD status --format=json "$PFX-root" | jq -r .state)" "nopod reads the status"
err=$(must_fail as nopod $PEAPOD run -d --name "$PFX-no" busybox -- true)
assert_contains "$err" "not authorized for org.peapod1.manage-pods" "nopod run refused"
must_fail $PEAPOD status "$PFX-no" >/dev/null
err=$(must_fail as nopod $PEAPOD stop "$PFX-root")
assert_contains "$err" "not authorized for org.peapod1.manage-pods" "nopod stop refused"
err=$(must_fail as nopod $PEAPOD rm --force "$PFX-root")
assert_contains "$err" "not authorized for org.peapod1.manage-pods" "nopod rm refused"
err=$(must_fail as nopod $PEAPOD image rm busybox)
assert_contains "$err" "not authorized for org.peapod1.manage-images" "nopod image rm refused"
assert_eq running "$(pod_state "$PFX-root")" "refused calls changed nothing"

say "peapod allows interactive authorization on a terminal only"
busctl monitor --json=short --match "type='method_call',interface='org.peapod1.Manager',member='RemoveImage'" >"$tmp/mon" 2>/dev/null &
MON=$!
# The monitor is ready once it has seen a probe of ours.
probe() { $PEAPOD image rm "localhost/$PFX-probe:latest" >/dev/null 2>&1; grep -q "$PFX-probe" "$tmp/mon"; }
wait_for 30 probe || fail "busctl monitor saw nothing"
must_fail as nopod $PEAPOD image rm "localhost/$PFX-notty:latest" </dev/null >/dev/null
must_fail as nopod script -qec "$PEAPOD image rm localhost/$PFX-tty:latest" /dev/null >/dev/null
wait_for 30 grep -q "$PFX-tty" "$tmp/mon" || fail "the monitor missed the call from a terminal"
kill $MON 2>/dev/null || true
flags_of() { jq -r --arg n "$1" 'select(.payload.data[0] | tostring | contains($n)) | .flags' "$tmp/mon" | head -1; }
# ALLOW_INTERACTIVE_AUTHORIZATION is bit 4 of the message header's flags.
assert_eq 0 "$(( $(flags_of "$PFX-notty") & 4 ))" "no interactive authorization without a terminal"
assert_eq 4 "$(( $(flags_of "$PFX-tty") & 4 ))" "interactive authorization on a terminal"

say "the rule gone, podder is refused too"
rm -f "$rule"
wait_for 30 eval '! granted' || fail "polkitd did not notice the rule is gone"
err=$(must_fail as podder $PEAPOD stop "$PFX-root")
assert_contains "$err" "not authorized for org.peapod1.manage-pods" "podder refused without the rule"
assert_eq running "$(pod_state "$PFX-root")" "podder's refused stop changed nothing"
say "$err"

say "without polkitd, root is still allowed and everyone else refused"
systemctl mask --runtime --now polkit.service >/dev/null 2>&1
$PEAPOD stop "$PFX-root" >/dev/null || fail "root needs polkitd"
err=$(must_fail as podder $PEAPOD rm "$PFX-root")
assert_contains "$err" "ermission denied" "refused without polkitd"
systemctl unmask --runtime polkit.service >/dev/null 2>&1
say "ok"
