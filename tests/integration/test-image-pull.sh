#!/bin/bash
# Images from a real registry: Debian's docker-registry on the lab's
# 127.0.0.1, an image pushed with skopeo, pulled by peapod over D-Bus.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$(realpath "$0")")
command -v docker-registry >/dev/null && command -v skopeo >/dev/null || exit 77

tmp=$(mktemp -d /var/tmp/image-pull.XXXXXX)
cleanup() { cleanup_pods; stop_registry; rm -rf "$tmp" /etc/peapod/registries.conf /etc/peapod/policy.json; }
trap cleanup EXIT
start_registry "$tmp"
port=${REGISTRY#127.0.0.1:}

facts=$("$here/../unit/make-test-image.py" "$tmp/oci")
config=$(echo "$facts" | jq -r .config)
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$tmp/oci:latest" "docker://127.0.0.1:$port/test/bb:latest"
ref=127.0.0.1:$port/test/bb:latest

# Not configured as insecure: plain HTTP is refused, with a reason.
err=$(must_fail $PEAPOD image pull "$ref")
assert_contains "$err" "insecure" "unconfigured plain-HTTP registry refused"

registry_allow_insecure
# Unsigned test images: trust is test-trust.sh's subject.
policy_accept_unsigned "$REGISTRY/test"

out=$($PEAPOD image pull "$ref" 2>"$tmp/progress")
assert_eq "$config" "$out" "pull prints the image id (config digest)"
assert_contains "$(cat "$tmp/progress")" "$ref" "progress lines name the image"

list=$($PEAPOD image list --format=json)
assert_eq "$config" "$(echo "$list" | jq -r ".[] | select(.names | index(\"$ref\")) | .id")" "image list"
insp=$($PEAPOD image inspect "$ref")
assert_eq '["/bin/sh"]' "$(echo "$insp" | jq -c .Cmd)" "inspect Cmd"
assert_eq /etc "$(echo "$insp" | jq -r .WorkingDirectory)" "inspect WorkingDirectory"
assert_eq yes "$(echo "$insp" | jq -r '.Labels["org.example.test"]')" "inspect Labels"
assert_eq 2 "$(echo "$insp" | jq '.Layers | length')" "inspect Layers"
short=$(echo "$config" | cut -c8-19)
assert_eq "$config" "$($PEAPOD image inspect "$short" | jq -r .Id)" "inspect by id prefix"

# A second pull finds everything in place.
assert_eq "$config" "$($PEAPOD image pull -q "$ref"; $PEAPOD image inspect "$ref" | jq -r .Id)" "second pull"

# A pod runs from the pulled image: the upper layer's file is there, the
# whiteout hides the lower layer's, the image's environment and working
# directory apply.
$PEAPOD run -d --name "$PFX-pulled" "$ref" --exec=/bin/busybox -- sh -c 'busybox cat /etc/motd; busybox ls /etc; echo "FOO=$FOO"; busybox pwd' >/dev/null
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-pulled | jq -r .state)\" = exited ]" || fail "pod from the pulled image did not run"
out=$($PEAPOD logs "$PFX-pulled" 2>&1)
assert_contains "$out" hello "file of the upper layer"
assert_contains "$out" keep "file of the lower layer"
assert_not_contains "$out" gone "file deleted by a whiteout"
assert_contains "$out" FOO=bar "image environment"
assert_contains "$out" /etc "image working directory"
assert_eq 0 "$($PEAPOD status --format=json "$PFX-pulled" | jq -r '.apps[0].status')" "app exit status"

# Errors: unknown tag, non-root caller.
err=$(must_fail $PEAPOD image pull "127.0.0.1:$port/test/bb:nope")
assert_contains "$err" "manifest unknown" "unknown tag"
err=$(must_fail setpriv --reuid=65534 --regid=65534 --clear-groups $PEAPOD image pull "$ref")
assert_contains "$err" "ermission denied" "non-root pull"

# The installed description of org.peapod1.Image is what the daemon serves.
live=$(busctl introspect --xml-interface org.peapod1 "/org/peapod1/image/${config#sha256:}" | "$here/../../tools/extract-interface" org.peapod1.Image)
assert_eq "$(cat /usr/share/dbus-1/interfaces/org.peapod1.Image.xml)" "$live" "installed org.peapod1.Image.xml matches the daemon"
