#!/bin/bash
# Signatures on pulls: the shipped policy refuses unsigned images; simple
# signing signatures from a lookaside (file:// and http://) made with keys
# generated here; untrusted, replayed (other digest, other reference),
# expired and revoked signatures refused with their reason; prefix rules by
# longest match; --insecure-options=image; 'peapod trust' and its D-Bus face.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$(realpath "$0")")
command -v docker-registry >/dev/null && command -v skopeo >/dev/null && command -v gpg >/dev/null || exit 77

tmp=$(mktemp -d /var/tmp/trust.XXXXXX)
t0=$(date +%s)
export GNUPGHOME=$tmp/gnupg
HTTP_PID=
cleanup() {
        cleanup_pods
        stop_registry
        [ -z "$HTTP_PID" ] || { kill "$HTTP_PID" 2>/dev/null; wait "$HTTP_PID" 2>/dev/null || true; }
        for n in $($PEAPOD image list --format=json 2>/dev/null | jq -r '.[].names[]' | grep "^$REGISTRY/" || true); do
                $PEAPOD image rm "$n" >/dev/null 2>&1 || true
        done
        gpgconf --kill all 2>/dev/null || true
        rm -rf "$tmp" /etc/peapod/registries.conf /etc/peapod/policy.json /etc/peapod/keys
}
trap cleanup EXIT
trap 'echo "[$TEST_NAME] FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
mkdir -m 0700 "$GNUPGHOME"
start_registry "$tmp"
sigstore=$tmp/sigstore
websig=$tmp/websig
mkdir -p "$sigstore" "$websig"
hport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$websig" "$hport" >"$tmp/http.log" 2>&1 &
HTTP_PID=$!
mkdir -p /etc/peapod
cat >/etc/peapod/registries.conf <<EOC
{"default-lookaside": "file://$sigstore",
 "registries": [{"prefix": "$REGISTRY", "insecure": true},
                {"prefix": "$REGISTRY/web", "insecure": true, "lookaside": "http://127.0.0.1:$hport/"}]}
EOC
wait_for 10 python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$hport/', timeout=1)" || fail "http server did not start"

# key NAME [GPG OPTIONS]: a new key; prints its fingerprint, public key in $tmp/NAME.pub
key() {
        local name=$1; shift
        gpg --batch --quiet --passphrase '' "$@" --quick-gen-key "$name <$name@example.com>" ed25519 sign "${EXPIRE:-never}" 2>/dev/null
        local fpr
        fpr=$(gpg --with-colons --list-keys "<$name@example.com>" 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
        gpg --export --armor "$fpr" >"$tmp/$name.pub"
        echo "$fpr"
}
alice=$(key alice)
bob=$(key bob)
old=$(EXPIRE=1d key old --faked-system-time 20200101T000000)
rev=$(key rev)

# push NAME: an image of its own as $REGISTRY/NAME:latest; prints its manifest digest
push() {
        "$here/../unit/make-test-image.py" "$tmp/img-${1//\//-}" "--salt=$1" >/dev/null
        skopeo --insecure-policy copy -q --dest-tls-verify=false --digestfile "$tmp/digest" \
                "oci:$tmp/img-${1//\//-}:latest" "docker://$REGISTRY/$1:latest"
        cat "$tmp/digest"
}
# sig_dir NAME DIGEST [LOOKASIDE]: where the signatures of $REGISTRY/NAME@DIGEST live
sig_dir() { echo "${3:-$sigstore}/$1@sha256=${2#sha256:}"; }
blobs() { ls /var/lib/peapod/images/blobs/sha256 | wc -l; }
pull() { $PEAPOD image pull "$REGISTRY/$1:latest"; }

say "the shipped policy refuses unsigned images, and stores nothing of them"
# The demo image is accepted through the policy's own entry (peapodd
# imports it at start, through the policy).
assert_eq "insecureAcceptAnything" "$(jq -r '.scopes["localhost/busybox:latest"].type' /usr/share/peapod/policy.json)" "shipped policy"
$PEAPOD image inspect busybox >/dev/null
d_unsigned=$(push test/unsigned)
before=$(blobs)
err=$(must_fail pull test/unsigned)
assert_contains "$err" "no key is trusted" "unsigned image, no key at all"
assert_eq "$before" "$(blobs)" "a refused pull stores no blob"
must_fail $PEAPOD image inspect "$REGISTRY/test/unsigned:latest" >/dev/null

say "trust add: asks, refuses without a terminal, shows the fingerprint"
err=$(must_fail $PEAPOD trust add --prefix="$REGISTRY/test" "$tmp/alice.pub" </dev/null)
assert_contains "$err" "--yes" "no --yes without a terminal"
assert_contains "$err" "$alice" "the fingerprint is shown before asking"
err=$(must_fail $PEAPOD trust add --yes "$tmp/alice.pub")
assert_contains "$err" "--prefix" "neither --prefix nor --root"
echo junk >"$tmp/junk.pub"
err=$(must_fail $PEAPOD trust add --yes --root "$tmp/junk.pub")
assert_contains "$err" "key" "a file without a key"
err=$(must_fail setpriv --reuid=65534 --regid=65534 --clear-groups $PEAPOD trust add --yes --root "$tmp/alice.pub")
assert_contains "$err" "ermission denied" "non-root trust add"
# On a terminal it asks: anything but y is no.
if command -v script >/dev/null; then
        out=$(echo n | script -qec "$PEAPOD trust add --prefix=$REGISTRY/test $tmp/alice.pub" /dev/null 2>&1 || true)
        assert_contains "$out" "Trust this key? [y/N]" "asks on a terminal"
        assert_contains "$out" "Key not added" "answer n"
        test ! -e /etc/peapod/keys/prefix.d || fail "a key added after answering n"
        out=$(echo y | script -qec "$PEAPOD trust add --prefix=$REGISTRY/test $tmp/alice.pub" /dev/null 2>&1)
        assert_contains "$out" "$alice" "answer y"
        $PEAPOD trust rm "$alice"
fi
assert_eq "$alice" "$($PEAPOD trust add --yes --prefix="$REGISTRY/test" "$tmp/alice.pub" 2>/dev/null)" "trust add prints the fingerprint"
test -f "/etc/peapod/keys/prefix.d/${REGISTRY//\//,},test/$alice.gpg" || fail "key file in prefix.d"

say "unsigned refused with the reason; signed by a trusted key accepted"
err=$(must_fail pull test/unsigned)
assert_contains "$err" "no signature" "unsigned image"
d_signed=$(push test/signed)
$PEAPOD image sign --sign-by="$alice" --manifest-digest="$d_signed" --lookaside="$sigstore" "$REGISTRY/test/signed:latest" >"$tmp/path"
assert_eq "$(sig_dir test/signed "$d_signed")/signature-1" "$(cat "$tmp/path")" "image sign writes signature-1"
id=$(pull test/signed 2>/dev/null)
assert_contains "$id" sha256: "signed image pulled"
journal_wait "signed by $alice" -u peapodd --since="@$t0" || fail "peapodd did not log who signed"
# sign again from the store's own digest: signature-2 next to the first
$PEAPOD image sign --sign-by="$alice" --lookaside="file://$sigstore" "$REGISTRY/test/signed:latest" >"$tmp/path"
assert_eq "$(sig_dir test/signed "$d_signed")/signature-2" "$(cat "$tmp/path")" "second signature"

say "signed by another key, for another digest, for another reference: refused"
d_bob=$(push test/bob)
$PEAPOD image sign --sign-by="$bob" --manifest-digest="$d_bob" --lookaside="$sigstore" "$REGISTRY/test/bob:latest" >/dev/null
err=$(must_fail pull test/bob)
assert_contains "$err" "signed by untrusted key" "another key"
d_other=$(push test/other)
mkdir -p "$(sig_dir test/other "$d_other")"
$PEAPOD image sign --sign-by="$alice" --manifest-digest="$d_unsigned" --lookaside="$sigstore" "$REGISTRY/test/other:latest" >"$tmp/path"
cp "$(cat "$tmp/path")" "$(sig_dir test/other "$d_other")/signature-1"
err=$(must_fail pull test/other)
assert_contains "$err" "signature is for another image digest" "a signature replayed for another digest"
# The same content under another name: the same digest, the signature names the first.
skopeo --insecure-policy copy -q --src-tls-verify=false --dest-tls-verify=false --digestfile "$tmp/digest" \
        "docker://$REGISTRY/test/signed:latest" "docker://$REGISTRY/test/renamed:latest"
d_renamed=$(cat "$tmp/digest")
assert_eq "$d_signed" "$d_renamed" "same image, same digest"
mkdir -p "$(sig_dir test/renamed "$d_signed")"
cp "$(sig_dir test/signed "$d_signed")/signature-1" "$(sig_dir test/renamed "$d_signed")/signature-1"
err=$(must_fail pull test/renamed)
assert_contains "$err" "signature is for another reference" "a signature replayed for another reference"
must_fail $PEAPOD image inspect "$REGISTRY/test/renamed:latest" >/dev/null

say "expired and revoked keys"
$PEAPOD trust add --yes --prefix="$REGISTRY/test" "$tmp/old.pub" >/dev/null 2>"$tmp/warn"
assert_contains "$(cat "$tmp/warn")" "expired" "trust add warns about an expired key"
d_old=$(push test/old)
jq -n --arg r "$REGISTRY/test/old:latest" --arg d "$d_old" \
        '{critical: {type: "atomic container signature", image: {"docker-manifest-digest": $d}, identity: {"docker-reference": $r}}, optional: {}}' >"$tmp/payload"
mkdir -p "$(sig_dir test/old "$d_old")"
gpg --batch --quiet --faked-system-time 20200101T010000 -u "$old" --sign --output "$(sig_dir test/old "$d_old")/signature-1" "$tmp/payload" 2>/dev/null
err=$(must_fail pull test/old)
assert_contains "$err" "key expired" "signature of an expired key"
d_rev=$(push test/rev)
$PEAPOD trust add --yes --prefix="$REGISTRY/test" "$tmp/rev.pub" >/dev/null 2>&1
$PEAPOD image sign --sign-by="$rev" --manifest-digest="$d_rev" --lookaside="$sigstore" "$REGISTRY/test/rev:latest" >/dev/null
pull test/rev >/dev/null
$PEAPOD image rm "$REGISTRY/test/rev:latest"
sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$rev.rev" | gpg --batch --quiet --import 2>/dev/null
gpg --export --armor "$rev" >"$tmp/rev.pub"
$PEAPOD trust add --yes --prefix="$REGISTRY/test" "$tmp/rev.pub" >/dev/null 2>"$tmp/warn"
assert_contains "$(cat "$tmp/warn")" "revoked" "trust add warns about a revoked key"
err=$(must_fail pull test/rev)
assert_contains "$err" "key revoked" "signature of a key revoked since"

say "--insecure-options=image: accepted, with a warning"
t_insecure=$(date +%s)
$PEAPOD image pull -q --insecure-options=image "$REGISTRY/test/unsigned:latest" >/dev/null 2>"$tmp/warn"
assert_contains "$(cat "$tmp/warn")" "without checking its signature" "pull warns"
journal_wait "without checking its signature" -u peapodd --since="@$t_insecure" || fail "peapodd did not log the override"
d_run=$(push test/run)
err=$(must_fail $PEAPOD run -d --name "$PFX-refused" "$REGISTRY/test/run:latest" --exec=/bin/busybox -- true)
assert_contains "$err" "no signature" "run of an unsigned image"
$PEAPOD run -d --insecure-options=image --name "$PFX-run" "$REGISTRY/test/run:latest" --exec=/bin/busybox -- true >/dev/null 2>"$tmp/warn" || fail "run --insecure-options=image: $(cat "$tmp/warn")"
assert_contains "$(cat "$tmp/warn")" "without checking its signature" "run warns"
wait_for 20 sh -c "[ \"\$($PEAPOD status --format=json $PFX-run | jq -r .state)\" = exited ]" || fail "pod of the unsigned image did not run"
err=$(must_fail $PEAPOD image pull --insecure-options=tls "$REGISTRY/test/unsigned:latest")
assert_contains "$err" "insecure-options" "unknown insecure option"
# Over D-Bus: flag 1 of PullImage is the same override; 2 is unknown.
err=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager PullImage st "$REGISTRY/test/x:latest" 2)
assert_contains "$err" "flags" "unknown PullImage flag"

say "imports: the policy of the name the image gets"
$PEAPOD image export "$REGISTRY/test/signed:latest" "$tmp/signed.oci.tar" 2>/dev/null
err=$(must_fail $PEAPOD image import --name="localhost/$PFX-imported" "$tmp/signed.oci.tar")
assert_contains "$err" "no key is trusted" "import of an unsigned local name"
$PEAPOD image import -q --insecure-options=image --name="localhost/$PFX-imported" "$tmp/signed.oci.tar" 2>/dev/null
$PEAPOD image rm "localhost/$PFX-imported:latest"

say "prefix rules: the longest match wins, on path components"
d_open=$(push test/open/x)
d_closed=$(push test/open/closed/y)
d_openx=$(push test/openx)
cat >/etc/peapod/policy.json <<EOC
{"default": {"type": "reject"},
 "scopes": {"$REGISTRY/test": {"type": "signedBy"},
            "$REGISTRY/test/open": {"type": "insecureAcceptAnything"},
            "$REGISTRY/test/open/closed": {"type": "reject"},
            "$REGISTRY/web": {"type": "signedBy"},
            "$REGISTRY/bobs": {"type": "signedBy"}}}
EOC
pull test/open/x >/dev/null
err=$(must_fail pull test/open/closed/y)
assert_contains "$err" "rejected by policy" "longer reject scope"
err=$(must_fail pull test/openx)
assert_contains "$err" "no signature" "test/openx is not under test/open"
push other/z >/dev/null
err=$(must_fail pull other/z)
assert_contains "$err" "rejected by policy" "the default entry"
# Prefix keys: bob is trusted for bobs/ only.
$PEAPOD trust add --yes --prefix="$REGISTRY/bobs" "$tmp/bob.pub" >/dev/null 2>&1
d_bobs=$(push bobs/app)
$PEAPOD image sign --sign-by="$bob" --manifest-digest="$d_bobs" --lookaside="$sigstore" "$REGISTRY/bobs/app:latest" >/dev/null
pull bobs/app >/dev/null
err=$(must_fail pull test/bob)
assert_contains "$err" "signed by untrusted key" "bob's key is not trusted for test/"

say "an http lookaside"
$PEAPOD trust add --yes --prefix="$REGISTRY/web" "$tmp/alice.pub" >/dev/null 2>&1
d_web=$(push web/app)
err=$(must_fail pull web/app)
assert_contains "$err" "no signature" "nothing on the web lookaside yet"
$PEAPOD image sign --sign-by="$alice" --manifest-digest="$d_web" --lookaside="$websig" "$REGISTRY/web/app:latest" >/dev/null
pull web/app >/dev/null
assert_contains "$(cat "$tmp/http.log")" "GET /web/app@sha256=${d_web#sha256:}/signature-1" "fetched over http"

say "trust list and rm, CLI and D-Bus"
list=$($PEAPOD trust list --format=json)
assert_eq "$REGISTRY/test" "$(echo "$list" | jq -r ".[] | select(.fingerprint == \"$alice\" and .prefix == \"$REGISTRY/test\") | .prefix")" "list: alice for test/"
assert_eq "alice <alice@example.com>" "$(echo "$list" | jq -r "[.[] | select(.fingerprint == \"$alice\")][0].uid")" "list: user id"
assert_contains "$($PEAPOD trust list)" "$alice" "list table"
bus=$(busctl --json=short call org.peapod1 /org/peapod1 org.peapod1.Manager ListTrustedKeys)
assert_contains "$bus" "$bob" "ListTrustedKeys"
# A root key over D-Bus: the key's bytes as ay.
fpr=$(busctl --json=short call org.peapod1 /org/peapod1 org.peapod1.Manager AddTrustedKey ayst \
        "$(stat -c %s "$tmp/bob.pub")" $(od -An -tu1 -v "$tmp/bob.pub") "" 1 | jq -r '.data[0]')
assert_eq "$bob" "$fpr" "AddTrustedKey answers the fingerprint"
test -f "/etc/peapod/keys/root.d/$bob.gpg" || fail "root key file"
err=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager AddTrustedKey ayst 3 1 2 3 "" 1)
assert_contains "$err" "key" "AddTrustedKey of junk"
err=$(must_fail busctl call org.peapod1 /org/peapod1 org.peapod1.Manager AddTrustedKey ayst 3 1 2 3 "$REGISTRY" 1)
assert_contains "$err" "prefix" "AddTrustedKey with both a prefix and the root flag"
busctl call org.peapod1 /org/peapod1 org.peapod1.Manager RemoveTrustedKey st "$bob" 0
assert_not_contains "$($PEAPOD trust list --format=json)" "$bob" "bob removed everywhere"
err=$(must_fail $PEAPOD trust rm "$bob")
assert_contains "$err" "No trusted key" "rm of a key that is gone"
err=$(must_fail $PEAPOD trust rm nothex)
assert_contains "$err" "fingerprint" "rm of a non-fingerprint"
$PEAPOD trust rm "$alice"
$PEAPOD image rm "$REGISTRY/test/signed:latest"
err=$(must_fail pull test/signed)
assert_contains "$err" "signed by untrusted key $alice" "alice's signature means nothing once she is removed"

# The installed description of org.peapod1.Manager is what the daemon serves.
live=$(busctl introspect --xml-interface org.peapod1 /org/peapod1 | "$here/../../tools/extract-interface" org.peapod1.Manager)
assert_eq "$(cat /usr/share/dbus-1/interfaces/org.peapod1.Manager.xml)" "$live" "installed org.peapod1.Manager.xml matches the daemon"
