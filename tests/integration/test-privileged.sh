#!/bin/bash
# A privileged app (peapod run --privileged) is what runc makes of a
# privileged container: every capability the host has, no seccomp filter
# of ours, the host's devices, /proc unmasked and /sys writable. An app
# beside it in the same pod keeps all of its isolation: it tries the same
# things and fails. (In the lab "the host" is the lab's systemd: its own
# bounding set and seccomp filters, from nspawn, are the most an app can
# have, and what a privileged app must get.)
. "$(dirname "$0")/lib.sh"

cleanup() {
        cleanup_pods
}
trap cleanup EXIT
trap 'echo "[$TEST_NAME] FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR

host_bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/1/status)
host_filters=$(awk '/^Seccomp_filters:/ { print $2 }' /proc/1/status)
[ -c /dev/net/tun ] || { say "the lab has no /dev/net/tun: skipped"; exit 77; }

# Each app reports what it has and what it could do, then waits.
probe='
        st=/proc/self/status
        echo "cap=$(awk "/^CapEff:/ { print \$2 }" $st)"
        echo "bnd=$(awk "/^CapBnd:/ { print \$2 }" $st)"
        echo "filters=$(awk "/^Seccomp_filters:/ { print \$2 }" $st)"
        echo "nnp=$(awk "/^NoNewPrivs:/ { print \$2 }" $st)"
        if (exec 3<>/dev/net/tun) 2>/dev/null; then echo tun=open; else echo tun=no; fi
        echo "sys=$(awk "\$2 == \"/sys\" { split(\$4, o, \",\"); print o[1] }" /proc/mounts | tail -1)"
        q=$(cat /sys/class/net/lo/tx_queue_len)
        if (echo "$q" >/sys/class/net/lo/tx_queue_len) 2>/dev/null; then echo syswrite=ok; else echo syswrite=no; fi
        if awk "\$2 == \"/proc/sys\"" /proc/mounts | grep -q .; then echo procsys=covered; else echo procsys=open; fi
        if [ -e /sys/firmware ] && ls /sys/firmware >/dev/null 2>&1 && [ -n "$(ls /sys/firmware)" ]; then echo firmware=seen; else echo firmware=hidden; fi
        echo done
        sleep 600'

say "a pod with a privileged app and a plain one"
$PEAPOD run -d --name "${PFX}priv" busybox --app-name=priv --privileged -- sh -c "$probe" \
        --- busybox --app-name=plain -- sh -c "$probe" >/dev/null
for app in priv plain; do
        wait_for 30 sh -c "$PEAPOD logs ${PFX}priv $app | grep -qx done" ||
                fail "$app did not report: $($PEAPOD logs "${PFX}priv" $app 2>&1)"
done
priv=$($PEAPOD logs "${PFX}priv" priv)
plain=$($PEAPOD logs "${PFX}priv" plain)
say "privileged: $(echo $priv)"
say "plain: $(echo $plain)"

say "the privileged app has everything the host has"
assert_contains "$priv" "cap=$host_bnd" "the privileged app's CapEff is the host's whole bounding set"
assert_contains "$priv" "bnd=$host_bnd" "the privileged app's bounding set"
assert_contains "$priv" "filters=$host_filters" "the privileged app has no seccomp filter beyond the host's"
assert_contains "$priv" "nnp=0" "no_new_privs is off"
assert_contains "$priv" "tun=open" "the privileged app opens the host's /dev/net/tun"
assert_contains "$priv" "sys=rw" "the privileged app's /sys is read-write"
assert_contains "$priv" "syswrite=ok" "the privileged app writes sysfs"
assert_contains "$priv" "procsys=open" "the privileged app's /proc/sys is not covered"

say "the plain app beside it has none of it"
assert_not_contains "$plain" "cap=$host_bnd" "the plain app's CapEff"
assert_not_contains "$plain" "filters=$host_filters" "the plain app has peapod's seccomp filter"
assert_contains "$plain" "nnp=1" "the plain app has no_new_privs"
assert_contains "$plain" "tun=no" "the plain app cannot open /dev/net/tun"
assert_contains "$plain" "sys=ro" "the plain app's /sys is read-only"
assert_contains "$plain" "syswrite=no" "the plain app cannot write sysfs"
assert_contains "$plain" "procsys=covered" "the plain app's /proc/sys is read-only"
assert_contains "$plain" "firmware=hidden" "the plain app's /sys/firmware is masked"

say "the plain app cannot make the node itself either"
o=$($PEAPOD enter --app=plain "${PFX}priv" -- sh -c 'mknod /dev/shm/tun c 10 200 && exec 3<>/dev/shm/tun' 2>&1 || true)
assert_contains "$o" "Operation not permitted" "the plain app's mknod of 10:200"

say "the record, GetApp and the units say which app is privileged"
id=$(pod_id "${PFX}priv")
assert_eq true "$(jq -r '.apps[] | select(.name == "priv") | .isolation.privileged' "/var/lib/peapod/pods/$id/pod.json")" \
        "pod.json keeps privileged"
assert_eq null "$(jq -r '.apps[] | select(.name == "plain") | .isolation.privileged' "/var/lib/peapod/pods/$id/pod.json")" \
        "the plain app's record has no privileged"
assert_contains "$(busctl call org.peapod1 "/org/peapod1/pod/$id" org.peapod1.Pod GetApp s priv)" '"Privileged" b true' \
        "GetApp of the privileged app"
assert_contains "$(busctl call org.peapod1 "/org/peapod1/pod/$id" org.peapod1.Pod GetApp s plain)" '"Privileged" b false' \
        "GetApp of the plain app"
assert_eq auto "$(systemctl show -P DevicePolicy "peapod-${PFX}priv-priv.service")" "the privileged unit's DevicePolicy"
assert_eq "" "$(systemctl show -P DeviceAllow "peapod-${PFX}priv-priv.service")" "the privileged unit's DeviceAllow"
assert_eq closed "$(systemctl show -P DevicePolicy "peapod-${PFX}priv-plain.service")" "the plain unit's DevicePolicy"

say "a command entered in the privileged app has its privileges"
o=$($PEAPOD enter --app=priv "${PFX}priv" -- sh -c 'awk "/^CapEff:/ { print \$2 }" /proc/self/status; exec 3<>/dev/net/tun && echo opened')
assert_contains "$o" "$host_bnd" "the entered command's CapEff"
assert_contains "$o" "opened" "the entered command opens /dev/net/tun"

say "what would narrow a privileged app is refused, and so is the fly flavour"
err=$(must_fail $PEAPOD run -d --name "${PFX}bad" busybox --privileged --caps-remove=CAP_CHOWN -- true)
assert_contains "$err" "privileged and cannot also have capabilities" "--privileged --caps-remove"
err=$(must_fail $PEAPOD run -d --name "${PFX}bad" busybox --privileged --seccomp=default -- true)
assert_contains "$err" "seccomp" "--privileged --seccomp=default"
err=$(must_fail $PEAPOD run -d --name "${PFX}bad" busybox --privileged --device=/dev/net/tun -- true)
assert_contains "$err" "devices" "--privileged --device"
err=$(must_fail $PEAPOD run -d --name "${PFX}bad" --stage1=fly busybox --privileged -- true)
assert_contains "$err" "refuses privileged apps" "fly refuses a privileged app"
must_fail $PEAPOD status "${PFX}bad" >/dev/null
say ok
