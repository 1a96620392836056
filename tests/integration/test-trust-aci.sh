#!/bin/bash
# rkt's ACI images: 'peapod image import X.aci' checks X.aci.asc (a detached
# signature of the file) against the keys trusted for the ACI's name, and
# maps the ACI app (exec, user, group, environment, working directory) to
# the image config. Missing, foreign and bad signatures are refused with
# their reason and store nothing.
. "$(dirname "$0")/lib.sh"
command -v gpg >/dev/null || exit 77
bb=$(command -v busybox)
file -L "$bb" | grep -q 'statically linked' || exit 77

tmp=$(mktemp -d /var/tmp/trust-aci.XXXXXX)
export GNUPGHOME=$tmp/gnupg
name=example.com/peapod-test/hello
ref=$name:1.0
cleanup() {
        cleanup_pods
        $PEAPOD image rm "$ref" >/dev/null 2>&1 || true
        $PEAPOD image rm "localhost/$PFX-unsigned:latest" >/dev/null 2>&1 || true
        gpgconf --kill all 2>/dev/null || true
        rm -rf "$tmp" /etc/peapod/keys /etc/peapod/storage.conf
}
trap cleanup EXIT
trap 'echo "[$TEST_NAME] FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
mkdir -m 0700 "$GNUPGHOME"

# The ACI: busybox, a user "app" (1000:1000), /srv.
mkdir -p "$tmp/aci/rootfs/bin" "$tmp/aci/rootfs/etc" "$tmp/aci/rootfs/srv"
cp "$bb" "$tmp/aci/rootfs/bin/busybox"
ln -s busybox "$tmp/aci/rootfs/bin/sh"
printf 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/srv:/bin/sh\n' >"$tmp/aci/rootfs/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' >"$tmp/aci/rootfs/etc/group"
cat >"$tmp/aci/manifest" <<EOF2
{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "$name",
 "labels": [{"name": "version", "value": "1.0"}, {"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}],
 "app": {"exec": ["/bin/busybox", "sh", "-c", "echo id=\$(busybox id -u):\$(busybox id -g) greeting=\$GREETING pwd=\$(busybox pwd)"],
         "user": "app", "group": "app", "workingDirectory": "/srv",
         "environment": [{"name": "GREETING", "value": "hello from an ACI"}]}}
EOF2
tar -C "$tmp/aci" -czf "$tmp/hello.aci" manifest rootfs

gpg --batch --quiet --passphrase '' --quick-gen-key 'alice <alice@example.com>' ed25519 sign never 2>/dev/null
gpg --batch --quiet --passphrase '' --quick-gen-key 'bob <bob@example.com>' ed25519 sign never 2>/dev/null
alice=$(gpg --with-colons --list-keys '<alice@example.com>' 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
bob=$(gpg --with-colons --list-keys '<bob@example.com>' 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
gpg --export --armor "$alice" >"$tmp/alice.pub"
$PEAPOD trust add --yes --prefix=example.com/peapod-test "$tmp/alice.pub" >/dev/null 2>&1

# aci NAME: a copy of hello.aci as NAME.aci (the .asc is made per case)
aci() { cp "$tmp/hello.aci" "$tmp/$1.aci"; echo "$tmp/$1.aci"; }

say "no signature, another key's, a signature of another file: refused, nothing stored"
err=$(must_fail $PEAPOD image import "$(aci nosig)")
assert_contains "$err" "no signature" "ACI without .asc"
f=$(aci bobs); gpg --batch --quiet -u "$bob" --armor --detach-sign --output "$f.asc" "$f"
err=$(must_fail $PEAPOD image import "$f")
assert_contains "$err" "signed by untrusted key" "ACI signed by an untrusted key"
f=$(aci other); echo "other content" >"$tmp/other.txt"
gpg --batch --quiet -u "$alice" --armor --detach-sign --output "$f.asc" "$tmp/other.txt"
err=$(must_fail $PEAPOD image import "$f")
assert_contains "$err" "bad signature" "a signature of another file"
f=$(aci tampered); gpg --batch --quiet -u "$alice" --armor --detach-sign --output "$f.asc" "$f"
echo >>"$f"
err=$(must_fail $PEAPOD image import "$f")
assert_contains "$err" "bad signature" "an ACI changed after signing"
must_fail $PEAPOD image inspect "$ref" >/dev/null

say "a good signature: imported, the app mapped to the config"
f=$(aci good); gpg --batch --quiet -u "$alice" --armor --detach-sign --output "$f.asc" "$f"
id=$($PEAPOD image import "$f" 2>/dev/null)
assert_contains "$id" sha256: "import prints the id"
insp=$($PEAPOD image inspect "$ref")
assert_eq "$id" "$(echo "$insp" | jq -r .Id)" "stored as NAME:VERSION"
assert_eq /bin/busybox "$(echo "$insp" | jq -r '.Entrypoint[0]')" "exec -> Entrypoint"
assert_eq app:app "$(echo "$insp" | jq -r .User)" "user and group -> User"
assert_eq /srv "$(echo "$insp" | jq -r .WorkingDirectory)" "workingDirectory"
assert_contains "$(echo "$insp" | jq -r '.Environment[]')" "GREETING=hello from an ACI" "environment"
journal_wait "Accepted ACI $ref: signed by $alice" -u peapodd || fail "peapodd did not log the signer"

$PEAPOD run -d --name "$PFX-aci" "$ref" >/dev/null
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-aci | jq -r .state)\" = exited ]" || fail "pod of the ACI did not run"
out=$($PEAPOD logs "$PFX-aci" 2>&1)
assert_contains "$out" "id=1000:1000" "runs as the ACI's user and group"
assert_contains "$out" "greeting=hello from an ACI" "with the ACI's environment"
assert_contains "$out" "pwd=/srv" "in the ACI's working directory"
assert_eq 0 "$($PEAPOD status --format=json "$PFX-aci" | jq -r '.apps[0].status')" "exit status"

say "--insecure-options=image, and a signature for a non-ACI"
err=$($PEAPOD image import --insecure-options=image --name="$PFX-unsigned" "$(aci unsigned)" 2>&1 >/dev/null)
assert_contains "$err" "without checking its signature" "warning"
$PEAPOD image inspect "$PFX-unsigned" >/dev/null
$PEAPOD image export busybox "$tmp/bb.aci" 2>/dev/null
gpg --batch --quiet -u "$alice" --armor --detach-sign --output "$tmp/bb.aci.asc" "$tmp/bb.aci"
err=$(must_fail $PEAPOD image import --name="$PFX-x" "$tmp/bb.aci")
assert_contains "$err" "ACI images only" "a detached signature for an OCI archive"

say "storage.conf bounds ACIs too: refused while the rootfs is copied, nothing stored"
blobs() { ls /var/lib/peapod/images/blobs/sha256 | wc -l; }
before=$(blobs)
echo '{"max-layer-size": "1M"}' >/etc/peapod/storage.conf
err=$(must_fail $PEAPOD image import --insecure-options=image --name="$PFX-big" "$(aci big)")
assert_contains "$err" "ACI: rootfs unpacks to more than 1 MiB (limit storage.conf max-layer-size)" "ACI over max-layer-size"
echo '{"max-layer-inodes": 3}' >/etc/peapod/storage.conf
err=$(must_fail $PEAPOD image import --insecure-options=image --name="$PFX-big" "$(aci many)")
assert_contains "$err" "ACI: rootfs has more than 3 files (limit storage.conf max-layer-inodes)" "ACI over max-layer-inodes"
assert_eq "$before" "$(blobs)" "blobs after the refused ACIs"
[ -z "$(find /var/lib/peapod/images/blobs/sha256 -name '.tmp-*')" ] || fail "temp files left"
must_fail $PEAPOD image inspect "localhost/$PFX-big:latest" >/dev/null
rm -f /etc/peapod/storage.conf
