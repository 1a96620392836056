#!/bin/bash
# The image verbs around pulls: tag, export and import (OCI and
# docker-archive), rm of names and of images pods use, gc, and
# 'run --pull'. An image of its own (layers no other image shares) comes
# from Debian's docker-registry on the lab's 127.0.0.1.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$(realpath "$0")")
command -v docker-registry >/dev/null && command -v skopeo >/dev/null || exit 77

tmp=$(mktemp -d /var/tmp/image-verbs.XXXXXX)
cleanup() {
        cleanup_pods
        stop_registry
        for n in "$PFX-bb:v1" "$PFX-oci" "$PFX-docker" "$PFX-stdin"; do
                $PEAPOD image rm "$n" >/dev/null 2>&1 || true
        done
        rm -rf "$tmp" /etc/peapod/registries.conf /etc/peapod/policy.json
}
trap cleanup EXIT
start_registry "$tmp"
registry_allow_insecure
# Unsigned test images: trust is test-trust.sh's subject (imports below
# say --insecure-options=image for the same reason).
policy_accept_unsigned "$REGISTRY"
asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
layers() { find /var/lib/peapod/images/layers -mindepth 1 -maxdepth 1 | wc -l; }

id=$($PEAPOD image inspect busybox | jq -r .Id)
assert_contains "$id" sha256: "busybox is in the store"

say "tag, then run by the new name"
$PEAPOD image tag busybox "$PFX-bb:v1"
assert_eq "$id" "$($PEAPOD image inspect "localhost/$PFX-bb:v1" | jq -r .Id)" "tag names the same image"
assert_contains "$($PEAPOD image list)" "localhost/$PFX-bb:v1" "image list shows the tag"
err=$(must_fail $PEAPOD image tag busybox "x@sha256:$(printf '%064d' 0)")
assert_contains "$err" "digest" "a digest reference is no name"
err=$(must_fail $PEAPOD image tag "$PFX-nope" "$PFX-x")
assert_contains "$err" "not found" "tag of a missing image"
$PEAPOD run -d --pull=never --name "$PFX-tagged" "$PFX-bb:v1" -- true >/dev/null
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-tagged | jq -r .state)\" = exited ]" || fail "pod of the tagged image did not run"
assert_eq 0 "$($PEAPOD status --format=json "$PFX-tagged" | jq -r '.apps[0].status')" "app of the tagged image"

say "export and import: OCI, docker-archive, stdin"
$PEAPOD image export busybox "$tmp/bb.oci.tar" 2>"$tmp/export.err"
# The sizes said are the archive's, as peapod prints sizes (1.0 MiB).
human() { awk -v n="$1" 'BEGIN { split("B KiB MiB GiB", u, " "); i = 1; while (n >= 1024 && i < 4) { n /= 1024; i++ }
                                 if (i == 1) printf "%d %s", n, u[i]; else printf "%.1f %s", n, u[i] }'; }
oci_size=$(human "$(stat -c %s "$tmp/bb.oci.tar")")
assert_contains "$(cat "$tmp/export.err")" "busybox: done ($oci_size)" "export's byte count"
# (grep -q on a pipe would stop reading early: tar's SIGPIPE under pipefail)
tar tf "$tmp/bb.oci.tar" >"$tmp/list" && grep -qx index.json "$tmp/list" || fail "OCI export without index.json"
$PEAPOD image export --format=docker-archive -q "$id" - >"$tmp/bb.docker.tar"
tar tf "$tmp/bb.docker.tar" >"$tmp/list" && grep -qx manifest.json "$tmp/list" || fail "docker-archive export without manifest.json"
assert_eq "$id" "$($PEAPOD image import --insecure-options=image --name="$PFX-oci" "$tmp/bb.oci.tar" 2>"$tmp/import.err")" "OCI import: same image id"
assert_contains "$(cat "$tmp/import.err")" "bb.oci.tar: done ($oci_size)" "import's byte count"
assert_not_contains "$(cat "$tmp/import.err")" "(0 B)" "import's byte count"
assert_eq "$id" "$($PEAPOD image import --insecure-options=image --name="$PFX-docker" "$tmp/bb.docker.tar" 2>/dev/null)" "docker-archive import: same image id"
assert_eq "$id" "$($PEAPOD image import --insecure-options=image -q --name="$PFX-stdin" - <"$tmp/bb.oci.tar" 2>/dev/null; $PEAPOD image inspect "$PFX-stdin" | jq -r .Id)" "import from stdin"
names=$($PEAPOD image inspect "$id" | jq -r '.Names[]')
for n in "localhost/$PFX-oci:latest" "localhost/$PFX-docker:latest" "localhost/$PFX-stdin:latest"; do
        assert_contains "$names" "$n" "imported name"
done
err=$(must_fail $PEAPOD image export --format=tar busybox "$tmp/x.tar")
assert_contains "$err" "docker-archive" "unknown export format"
err=$(must_fail $PEAPOD image export "$PFX-nope" "$tmp/x.tar")
assert_contains "$err" "$PFX-nope" "export of a missing image"
printf 'not an archive' >"$tmp/junk"
must_fail $PEAPOD image import "$tmp/junk" >/dev/null

say "rm of a name keeps the image while it has another"
$PEAPOD image rm "$PFX-oci" "$PFX-stdin"
must_fail $PEAPOD image inspect "localhost/$PFX-oci:latest" >/dev/null
assert_eq "$id" "$($PEAPOD image inspect "$PFX-docker" | jq -r .Id)" "image kept under its other names"
err=$(must_fail asnobody $PEAPOD image rm "$PFX-docker")
assert_contains "$err" "ermission denied" "non-root image rm"
err=$(must_fail asnobody $PEAPOD image tag busybox "$PFX-evil")
assert_contains "$err" "ermission denied" "non-root image tag"
err=$(must_fail asnobody $PEAPOD image gc)
assert_contains "$err" "ermission denied" "non-root image gc"
$PEAPOD image inspect "$PFX-docker" >/dev/null

say "run --pull"
facts=$("$here/../unit/make-test-image.py" "$tmp/oci" --salt="$PFX")
config=$(echo "$facts" | jq -r .config)
ref=$REGISTRY/test/verbs:latest
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$tmp/oci:latest" "docker://$ref"
err=$(must_fail $PEAPOD run -d --pull=never --name "$PFX-never" "$ref" -- true)
assert_contains "$err" "not found" "--pull=never with a missing image"
must_fail $PEAPOD status "$PFX-never" >/dev/null
err=$(must_fail $PEAPOD run -d --pull=sometimes busybox)
assert_contains "$err" "--pull" "bad --pull value"
before=$(layers)
$PEAPOD run -d --pull=missing --name "$PFX-used" "$ref" --exec=/bin/busybox -- sleep 300 >/dev/null 2>"$tmp/progress"
assert_contains "$(cat "$tmp/progress")" "$ref" "run shows the pull's progress"
assert_eq "$config" "$($PEAPOD image inspect "$ref" | jq -r .Id)" "run --pull=missing pulled the image"
assert_eq $((before + 2)) "$(layers)" "the image's two layers are unpacked"
assert_eq running "$(pod_state "$PFX-used")" "pod of the pulled image"
# Present now: missing pulls nothing.
$PEAPOD run -d --pull=missing --name "$PFX-again" "$ref" --exec=/bin/busybox -- true >/dev/null 2>"$tmp/progress2"
assert_eq "" "$(cat "$tmp/progress2")" "no pull for a present image"
# A pod that is created but not started uses the image too.
busctl call org.peapod1 /org/peapod1 org.peapod1.Manager CreatePod 'sa(sv)a(ssa(sv))' \
        "$PFX-later" 0 1 app "$ref" 1 Exec as 2 /bin/busybox true >/dev/null

say "rm of the last name of an image pods use"
err=$(must_fail $PEAPOD image rm "$ref")
assert_contains "$err" "used by" "refused while pods use it"
assert_contains "$err" "$PFX-used" "the refusal names the pods"
assert_contains "$err" "$PFX-later" "created pods count too"
$PEAPOD image inspect "$ref" >/dev/null
$PEAPOD image rm --force "$ref"
must_fail $PEAPOD image inspect "$ref" >/dev/null
assert_eq $((before + 2)) "$(layers)" "layers kept for the pods"
assert_eq running "$(pod_state "$PFX-used")" "pod keeps running"
$PEAPOD start "$PFX-later"
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-later | jq -r .state)\" = exited ]" || fail "pod of the untagged image did not start"
assert_eq 0 "$($PEAPOD status --format=json "$PFX-later" | jq -r '.apps[0].status')" "app of the untagged image"
$PEAPOD image gc >/dev/null
assert_eq $((before + 2)) "$(layers)" "gc keeps what pods use"

say "gc once the pods are gone"
$PEAPOD rm --force "$PFX-used" "$PFX-later" "$PFX-again"
out=$($PEAPOD image gc)
assert_contains "$out" freed "gc says what it freed"
assert_not_contains "$out" "0 B freed" "gc freed the image"
assert_eq "$before" "$(layers)" "the image's layers are gone"

say "rm by id removes every name, and the image goes at once"
$PEAPOD image pull -q "$ref"
$PEAPOD image tag "$ref" "$PFX-v:1"
assert_eq $((before + 2)) "$(layers)" "pulled again"
$PEAPOD image rm "$(echo "$config" | cut -c8-23)"
must_fail $PEAPOD image inspect "$ref" >/dev/null
must_fail $PEAPOD image inspect "localhost/$PFX-v:1" >/dev/null
assert_eq "$before" "$(layers)" "rm of the last name collects the layers"
$PEAPOD image rm "$PFX-docker" "$PFX-bb:v1"
assert_eq "$id" "$($PEAPOD image inspect busybox | jq -r .Id)" "busybox keeps its own name"
