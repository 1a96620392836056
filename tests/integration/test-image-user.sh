#!/bin/bash
# The image config's User: the app runs as that user, names resolved in the
# app's own /etc/passwd and /etc/group; images without one still run as root.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$(realpath "$0")")
command -v docker-registry >/dev/null && command -v skopeo >/dev/null || exit 77

tmp=$(mktemp -d /var/tmp/image-user.XXXXXX)
cleanup() { cleanup_pods; stop_registry; rm -rf "$tmp" /etc/peapod/registries.conf /etc/peapod/policy.json; }
trap cleanup EXIT
start_registry "$tmp"
registry_allow_insecure
# Unsigned test images: trust is test-trust.sh's subject.
policy_accept_unsigned "$REGISTRY/test"

# push NAME USER: an image of make-test-image.py with that User.
push() {
        "$here/../unit/make-test-image.py" "$tmp/$1" "--user=$2" >/dev/null
        skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$tmp/$1:latest" "docker://$REGISTRY/test/$1:latest"
        $PEAPOD image pull -q "$REGISTRY/test/$1:latest" >/dev/null
}

# run_ids POD IMAGE: runs the image printing its ids and HOME, waits for
# the end and prints the logs.
run_ids() {
        $PEAPOD run -d --name "$PFX-$1" "$2" --exec=/bin/busybox -- \
                sh -c 'echo "uid=$(busybox id -u) gid=$(busybox id -g) groups=$(busybox id -G) home=$HOME"' >/dev/null
        wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-$1 | jq -r .state)\" = exited ]" || fail "pod $1 did not run"
        $PEAPOD logs "$PFX-$1" 2>&1
}

push named app
push numeric 1234:5678
push unknown nosuch

out=$(run_ids named "$REGISTRY/test/named:latest")
assert_contains "$out" "uid=1000 gid=1000" "User app: the passwd entry's uid and gid"
assert_contains "$out" "groups=1000 50" "User app: supplementary groups from the app's /etc/group"
assert_contains "$out" "home=/home/app" "User app: HOME from the app's /etc/passwd"
assert_eq 0 "$($PEAPOD status --format=json "$PFX-named" | jq -r '.apps[0].status')" "User app: exit status"

out=$(run_ids numeric "$REGISTRY/test/numeric:latest")
assert_contains "$out" "uid=1234 gid=5678 groups=5678 home=" "User 1234:5678: numeric ids, not in passwd"

# A name the image does not know is refused, never run as root.
$PEAPOD run -d --name "$PFX-unknown" "$REGISTRY/test/unknown:latest" --exec=/bin/busybox -- id -u >/dev/null
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-unknown | jq -r .state)\" = exited ]" || fail "pod unknown did not end"
assert_eq 125 "$($PEAPOD status --format=json "$PFX-unknown" | jq -r '.apps[0].status')" "unknown user: exit status"
assert_contains "$($PEAPOD logs "$PFX-unknown" 2>&1)" "Unknown user" "unknown user: the reason is logged"

# The embedded busybox image has no User: root, as before.
out=$(run_ids root busybox)
assert_contains "$out" "uid=0 gid=0" "image without User runs as root"
