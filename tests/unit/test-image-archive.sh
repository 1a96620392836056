#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Image archives: the built-in busybox OCI archive imports; exported as a
# docker-archive and imported again under another name it is the same image
# (config digest, diff_ids); exports are reproducible and skopeo reads them;
# broken archives are refused without leftovers.
# usage: test-image-archive.sh PATH/archive-tool PATH/pull-tool PATH/busybox.oci.tar
set -eu

TOOL=$1
PULL=$2
BUSYBOX=$3
[ "$(id -u)" = 0 ] || { echo "test-image-archive: needs root (layer trees keep owners), skipping" >&2; exit 77; }
command -v python3 >/dev/null || { echo "test-image-archive: python3 missing, skipping" >&2; exit 77; }

TMP=$(mktemp -d /tmp/test-image-archive.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
fail() {
        echo "FAIL: $*" >&2
        exit 1
}
no_temp_files() {
        left=$(find "$1/blobs" "$1/layers" -name '.tmp-*' | head -n1)
        [ -z "$left" ] || fail "temp file left behind: $left"
}
echo '{}' >"$TMP/empty.conf"

echo "== import the built-in busybox"
S="$TMP/store"
"$TOOL" import "$S" "$BUSYBOX" >"$TMP/out" || fail "import busybox.oci.tar"
cat "$TMP/out"
grep -qx "ref localhost/busybox:latest" "$TMP/out" || fail "busybox ref"
ID=$(sed -n 's/^id //p' "$TMP/out")
[ -n "$ID" ] || fail "no image id"
# "busybox" is localhost/busybox:latest once imported, without any registries.conf
"$PULL" --find --config "$TMP/empty.conf" "$S" busybox >"$TMP/find" || fail "find busybox by short name"
cat "$TMP/find"
grep -qx "id $ID" "$TMP/find" || fail "find: id"
grep -qx "name localhost/busybox:latest" "$TMP/find" || fail "find: name"
grep -qx "cmd sh" "$TMP/find" || fail "find: cmd"
LAYER=$(sed -n 's/^layer //p' "$TMP/find")
[ -x "$LAYER/bin/busybox" ] && [ -L "$LAYER/bin/sh" ] || fail "busybox tree"
[ "$(stat -c %a "$LAYER/tmp")" = 1777 ] || fail "tmp mode"
# importing again changes nothing
"$TOOL" import "$S" "$BUSYBOX" | grep -qx "id $ID" || fail "second import"
no_temp_files "$S"

echo "== export docker-archive, import under another name"
"$TOOL" export "$S" busybox "$TMP/docker.tar" docker-archive || fail "export docker-archive"
tar tf "$TMP/docker.tar" >"$TMP/list"
grep -qx manifest.json "$TMP/list" || fail "docker-archive without manifest.json"
"$TOOL" import "$S" "$TMP/docker.tar" localhost/bb2:v1 >"$TMP/out" || fail "import docker-archive"
cat "$TMP/out"
grep -qx "id $ID" "$TMP/out" || fail "docker-archive round trip changed the config digest"
grep -qx "ref localhost/bb2:v1" "$TMP/out" || fail "override name"
"$PULL" --find --config "$TMP/empty.conf" "$S" localhost/bb2:v1 >"$TMP/find2" || fail "find bb2"
# The same diff_ids give the same chain ids, so the same trees.
[ "$(sed -n 's/^layer //p' "$TMP/find2")" = "$LAYER" ] || fail "docker-archive round trip changed the diff_ids"
# The names the archive gives: our export wrote the full name.
S2="$TMP/store2"
"$TOOL" import "$S2" "$TMP/docker.tar" >"$TMP/out" || fail "import docker-archive into a new store"
grep -qx "ref localhost/busybox:latest" "$TMP/out" || fail "RepoTags name"
grep -qx "id $ID" "$TMP/out" || fail "docker-archive into a new store: id"
no_temp_files "$S2"
# A docker-style short RepoTag means docker.io.
mkdir "$TMP/d"
tar -xf "$TMP/docker.tar" -C "$TMP/d"
python3 - "$TMP/d/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m[0]["RepoTags"] = ["busybox:1.0"]
json.dump(m, open(sys.argv[1], "w"))
PY
tar -C "$TMP/d" -cf "$TMP/short.tar" .
"$TOOL" import "$TMP/store3" "$TMP/short.tar" | grep -qx "ref docker.io/library/busybox:1.0" || fail "short RepoTag"

echo "== export OCI"
"$TOOL" export "$S" "$ID" "$TMP/oci1.tar" oci || fail "export oci by id"
"$TOOL" export "$S" localhost/bb2:v1 "$TMP/oci2.tar" oci || fail "export oci"
"$TOOL" export "$S" localhost/bb2:v1 "$TMP/oci3.tar" oci || fail "export oci again"
cmp -s "$TMP/oci2.tar" "$TMP/oci3.tar" || fail "export is not reproducible"
# Exported by id: no name in it, so importing needs one.
if "$TOOL" import "$TMP/store4" "$TMP/oci1.tar" >"$TMP/out" 2>"$TMP/err"; then fail "nameless image imported"; fi
grep -qx "errno EINVAL" "$TMP/out" || fail "nameless: expected EINVAL"
"$TOOL" import "$TMP/store4" "$TMP/oci1.tar" localhost/x:y | grep -qx "id $ID" || fail "import nameless with a name"
"$TOOL" import "$TMP/store5" "$TMP/oci2.tar" | grep -qx "ref localhost/bb2:v1" || fail "OCI export keeps the name"
if command -v skopeo >/dev/null; then
        skopeo inspect "oci-archive:$TMP/oci2.tar" >/dev/null || fail "skopeo cannot read our OCI export"
        skopeo inspect "docker-archive:$TMP/docker.tar" >/dev/null || fail "skopeo cannot read our docker export"
        # and we read skopeo's
        skopeo --insecure-policy copy -q "oci-archive:$TMP/oci2.tar" "docker-archive:$TMP/skopeo.tar:localhost/sk:1" ||
                fail "skopeo copy"
        "$TOOL" import "$TMP/store6" "$TMP/skopeo.tar" >"$TMP/out" || fail "import skopeo's docker-archive"
        grep -qx "id $ID" "$TMP/out" || fail "skopeo's docker-archive: id"
fi

echo "== refused"
printf 'not a tar' >"$TMP/junk"
if "$TOOL" import "$TMP/store7" "$TMP/junk" >"$TMP/out" 2>&1; then fail "junk imported"; fi
tar -C "$TMP/d" -cf "$TMP/no-manifest.tar" --exclude=manifest.json .
if "$TOOL" import "$TMP/store7" "$TMP/no-manifest.tar" >"$TMP/out" 2>"$TMP/err"; then fail "archive without manifest imported"; fi
grep -qx "errno EMEDIUMTYPE" "$TMP/out" || fail "no manifest: expected EMEDIUMTYPE"
# A blob that does not hash to its name.
mkdir "$TMP/o"
tar -xf "$TMP/oci2.tar" -C "$TMP/o"
f=$(ls "$TMP"/o/blobs/sha256/* | head -n1)
chmod u+w "$f"
printf x >>"$f"
tar -C "$TMP/o" -cf "$TMP/corrupt.tar" .
if "$TOOL" import "$TMP/store8" "$TMP/corrupt.tar" >"$TMP/out" 2>"$TMP/err"; then fail "corrupt blob imported"; fi
cat "$TMP/err"
grep -qx "errno EBADMSG" "$TMP/out" || fail "corrupt: expected EBADMSG"
no_temp_files "$TMP/store8"
if "$TOOL" import "$TMP/store9" "$BUSYBOX" busybox >"$TMP/out" 2>&1; then fail "short override accepted"; fi

echo "== ACI limits"
# rkt's ACI: its rootfs becomes one layer, bounded while it is copied.
mkdir -p "$TMP/aci/rootfs/etc"
head -c 2097152 /dev/zero >"$TMP/aci/rootfs/zeros"
echo hello >"$TMP/aci/rootfs/etc/hello"
echo '{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/limits",
       "labels": [{"name": "version", "value": "1"}]}' >"$TMP/aci/manifest"
tar -C "$TMP/aci" -czf "$TMP/limits.aci" manifest rootfs
SA="$TMP/store10"
echo '{"max-layer-size": "1M"}' >"$TMP/storage.conf"
if "$TOOL" import-aci "$SA" "$TMP/limits.aci" "$TMP/storage.conf" >"$TMP/out" 2>"$TMP/err"; then fail "ACI over max-layer-size imported"; fi
cat "$TMP/err"
grep -qx "errno EFBIG" "$TMP/out" || fail "ACI size: expected EFBIG"
grep -q "ACI: rootfs unpacks to more than 1 MiB (limit storage.conf max-layer-size)" "$TMP/err" || fail "ACI size: message"
echo '{"max-layer-inodes": 2}' >"$TMP/storage.conf"
if "$TOOL" import-aci "$SA" "$TMP/limits.aci" "$TMP/storage.conf" >"$TMP/out" 2>"$TMP/err"; then fail "ACI over max-layer-inodes imported"; fi
grep -qx "errno E2BIG" "$TMP/out" || fail "ACI inodes: expected E2BIG"
no_temp_files "$SA"
[ -z "$(ls -A "$SA/layers")" ] || fail "ACI: layer trees left"
"$TOOL" import-aci "$SA" "$TMP/limits.aci" >"$TMP/out" || fail "ACI within the limits"
grep -qx "ref example.com/limits:1" "$TMP/out" || fail "ACI ref: $(cat "$TMP/out")"
echo OK
