#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# image_pull() against Debian's docker-registry on 127.0.0.1: a two-layer
# image with a whiteout, pulled into temp stores: refs, blobs, layer trees,
# a second pull that fetches nothing, two concurrent pulls that fetch each
# blob once, a cancelled pull that leaves nothing behind, a layer whose
# diff_id is wrong.
# usage: test-pull.sh PATH/pull-tool PATH/make-test-image.py PATH/lib-registry.sh
set -eu

PULL=$1
MKIMAGE=$2
. "$3"

[ "$(id -u)" = 0 ] || { echo "test-pull: needs root (layer trees keep owners and whiteouts), skipping" >&2; exit 77; }
registry_require sha256sum
[ -x /bin/busybox ] || { echo "test-pull: /bin/busybox missing, skipping" >&2; exit 77; }

TMP=$(mktemp -d /tmp/test-pull.XXXXXX)
PIDS=""
cleanup() {
        for p in $PIDS; do
                kill "$p" 2>/dev/null || true
                wait "$p" 2>/dev/null || true
        done
        rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

json() { # json FILE EXPR
        python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"
}

registry_start info
python3 "$MKIMAGE" "$TMP/oci" >"$TMP/image.json"
registry_push "$TMP/oci" test/wh:latest
python3 "$MKIMAGE" "$TMP/oci-bad" --bad-diff-id >/dev/null
registry_push "$TMP/oci-bad" test/bad:latest
python3 "$MKIMAGE" "$TMP/oci-big" --big >/dev/null
registry_push "$TMP/oci-big" test/big:latest

REF="127.0.0.1:$RPORT/test/wh:latest"
CONFIG=$(json "$TMP/image.json" 'd["config"]')
MANIFEST=$(json "$TMP/image.json" 'd["manifest"]')
D1=$(json "$TMP/image.json" 'd["diff_ids"][0]')
D2=$(json "$TMP/image.json" 'd["diff_ids"][1]')
LAYER_BYTES=$(json "$TMP/image.json" 'd["layer_bytes"]')
CHAIN0=${D1#sha256:}
CHAIN1=$(printf '%s %s' "$D1" "$D2" | sha256sum | cut -d' ' -f1)

no_temp_files() { # STORE
        left=$(find "$1/blobs" "$1/layers" -name '.tmp-*' | head -n1)
        [ -z "$left" ] || fail "temp file left behind: $left"
}

# ---------------------------------------------------------------- first pull
echo "== pull"
S="$TMP/store1"
"$PULL" --config "$TMP/insecure.conf" "$S" "$REF" >"$TMP/out" || fail "pull"
cat "$TMP/out"
grep -qx "id $CONFIG" "$TMP/out" || fail "image id is not the config digest $CONFIG"
grep -qx "fetched $LAYER_BYTES" "$TMP/out" || fail "expected $LAYER_BYTES layer bytes fetched"
[ "$(json "$S/index.json" '[m["digest"] for m in d["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "'"$REF"'"][0]')" = "$MANIFEST" ] ||
        fail "ref $REF does not point at $MANIFEST"
for b in "$S"/blobs/sha256/*; do
        [ "$(sha256sum "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || fail "blob $b is corrupt"
done
[ -f "$S/blobs/sha256/${CONFIG#sha256:}" ] || fail "config blob missing"
[ -x "$S/layers/$CHAIN0/bin/busybox" ] || fail "layer 0 tree missing"
[ -f "$S/layers/$CHAIN0/etc/gone" ] || fail "layer 0 lacks etc/gone"
[ -c "$S/layers/$CHAIN1/etc/gone" ] || fail "layer 1 lacks the whiteout etc/gone"
[ "$(stat -c '%t:%T %u:%g' "$S/layers/$CHAIN1/etc/gone")" = "0:0 0:0" ] || fail "whiteout is not a 0/0 char device owned by 0:0"
[ "$(cat "$S/layers/$CHAIN1/etc/motd")" = hello ] || fail "layer 1 lacks etc/motd"
[ "$(ls -A "$S/layers" | wc -l)" = 2 ] || fail "expected exactly two layer trees: $(ls -A "$S/layers")"
no_temp_files "$S"

# ---------------------------------------------------------------- image_find_in_store
echo "== find"
"$PULL" --find --config "$TMP/insecure.conf" "$S" "$REF" >"$TMP/find" || fail "find by reference"
cat "$TMP/find"
[ "$(grep '^layer ' "$TMP/find" | sed -n 1p)" = "layer $S/layers/$CHAIN1" ] || fail "top layer is not first"
[ "$(grep '^layer ' "$TMP/find" | sed -n 2p)" = "layer $S/layers/$CHAIN0" ] || fail "bottom layer is not second"
[ "$(grep -c '^layer ' "$TMP/find")" = 2 ] || fail "expected 2 lower dirs"
grep -qx "id $CONFIG" "$TMP/find" || fail "find: id"
grep -qx "cmd /bin/sh" "$TMP/find" || fail "find: cmd"
grep -qx "env FOO=bar" "$TMP/find" || fail "find: env"
grep -qx "workdir /etc" "$TMP/find" || fail "find: workdir"
grep -qx "user 0:0" "$TMP/find" || fail "find: user"
# by id, id prefix, short name through the search registries
C=${CONFIG#sha256:}
"$PULL" --find --config "$TMP/insecure.conf" "$S" "$CONFIG" | grep -qx "id $CONFIG" || fail "find by id"
"$PULL" --find --config "$TMP/insecure.conf" "$S" "$(printf %.12s "$C")" | grep -qx "id $CONFIG" || fail "find by id prefix"
if "$PULL" --find --config "$TMP/insecure.conf" "$S" "$(printf %.11s "$C")" >/dev/null 2>&1; then fail "11-digit prefix accepted"; fi
if "$PULL" --find --config "$TMP/insecure.conf" "$S" test/wh >/dev/null 2>&1; then fail "short name found without search registries"; fi

# ---------------------------------------------------------------- again: nothing to fetch
echo "== pull again"
"$PULL" --config "$TMP/insecure.conf" "$S" "$REF" >"$TMP/out" || fail "second pull"
grep -qx "fetched 0" "$TMP/out" || { cat "$TMP/out"; fail "second pull fetched bytes"; }
grep -qx "id $CONFIG" "$TMP/out" || fail "second pull: image id"

# ---------------------------------------------------------------- short name via search registries
printf '{"unqualified-search-registries": ["127.0.0.1:%s"], "registries": [{"prefix": "127.0.0.1:%s", "insecure": true}]}\n' \
        "$RPORT" "$RPORT" >"$TMP/search.conf"
"$PULL" --config "$TMP/search.conf" "$S" test/wh >"$TMP/out" || fail "short name pull"
grep -qx "fetched 0" "$TMP/out" || fail "short name pull fetched bytes"
"$PULL" --find --config "$TMP/search.conf" "$S" test/wh | grep -qx "id $CONFIG" || fail "find a short name via search registries"
# --insecure-options: plain HTTP without a registries.conf entry
"$PULL" --config /nonexistent --insecure "$S" "$REF" >/dev/null || fail "pull with the insecure override"
# Not insecure: HTTPS only, which this registry does not speak.
if "$PULL" --config /nonexistent "$TMP/store-x" "$REF" >"$TMP/out" 2>"$TMP/err"; then fail "plain HTTP used without insecure"; fi
# localhost/ is local only
if "$PULL" --config "$TMP/insecure.conf" "$TMP/store-x" localhost/nothing:latest >"$TMP/out" 2>"$TMP/err"; then
        fail "localhost/ pulled"
fi
grep -q "errno ENOENT" "$TMP/out" || fail "localhost/: expected ENOENT"
grep -q "local image" "$TMP/err" || { cat "$TMP/err"; fail "localhost/: message"; }

# ---------------------------------------------------------------- concurrent pulls
echo "== two pulls at once"
S2="$TMP/store2"
BIG="127.0.0.1:$RPORT/test/big:latest"
: >"$TMP/registry.log.mark"
before=$(wc -l <"$TMP/registry.log")
"$PULL" --config "$TMP/insecure.conf" "$S2" "$BIG" >"$TMP/c1" 2>&1 &
p1=$!
"$PULL" --config "$TMP/insecure.conf" "$S2" "$BIG" >"$TMP/c2" 2>&1 &
p2=$!
wait $p1 || { cat "$TMP/c1"; fail "concurrent pull 1"; }
wait $p2 || { cat "$TMP/c2"; fail "concurrent pull 2"; }
f1=$(sed -n 's/^fetched //p' "$TMP/c1")
f2=$(sed -n 's/^fetched //p' "$TMP/c2")
BIG_BYTES=$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1] + "/blobs/sha256/" + json.load(open(sys.argv[1] + "/index.json"))["manifests"][0]["digest"][7:]))
print(sum(l["size"] for l in m["layers"]))' "$TMP/oci-big")
echo "fetched $f1 + $f2, layers $BIG_BYTES"
[ $((f1 + f2)) = "$BIG_BYTES" ] || fail "two concurrent pulls fetched $f1 + $f2 bytes, the layers have $BIG_BYTES"
# The registry's access log: each layer blob answered with 200 once.
tail -n +"$((before + 1))" "$TMP/registry.log" >"$TMP/log2"
for l in $(python3 -c '
import json, sys
m = json.load(open(sys.argv[1] + "/blobs/sha256/" + json.load(open(sys.argv[1] + "/index.json"))["manifests"][0]["digest"][7:]))
print(" ".join(l["digest"] for l in m["layers"]))' "$TMP/oci-big"); do
        n=$(grep -c "\"GET /v2/test/big/blobs/$l HTTP/1.1\" 200" "$TMP/log2" || true)
        [ "$n" = 1 ] || { grep "blobs/" "$TMP/log2" >&2; fail "blob $l fetched $n times"; }
done
no_temp_files "$S2"
[ "$(ls -A "$S2/layers" | wc -l)" = 2 ] || fail "concurrent pulls: expected two layer trees"

# ---------------------------------------------------------------- cancel
echo "== cancel"
S3="$TMP/store3"
if "$PULL" --config "$TMP/insecure.conf" --cancel "$S3" "$BIG" >"$TMP/out" 2>"$TMP/err"; then fail "cancelled pull succeeded"; fi
cat "$TMP/err"
grep -qx "errno ECANCELED" "$TMP/out" || { cat "$TMP/out"; fail "cancel: expected ECANCELED"; }
no_temp_files "$S3"
[ -z "$(ls -A "$S3/layers")" ] || fail "cancelled pull left layer trees"
[ "$(json "$S3/index.json" 'len(d["manifests"])')" = 0 ] || fail "cancelled pull set a ref"
# The same store pulls fine afterwards.
"$PULL" --config "$TMP/insecure.conf" "$S3" "$BIG" >/dev/null || fail "pull after cancel"

# ---------------------------------------------------------------- wrong diff_id
echo "== bad diff_id"
S4="$TMP/store4"
if "$PULL" --config "$TMP/insecure.conf" "$S4" "127.0.0.1:$RPORT/test/bad:latest" >"$TMP/out" 2>"$TMP/err"; then
        fail "layer with a wrong diff_id accepted"
fi
cat "$TMP/err"
grep -qx "errno EBADMSG" "$TMP/out" || fail "bad diff_id: expected EBADMSG"
grep -q "diff_id" "$TMP/err" || fail "bad diff_id: message"
no_temp_files "$S4"
# Layer 0 is fine and may stay; layer 1 must not exist under any name.
[ "$(ls -A "$S4/layers" | wc -l)" -le 1 ] || fail "bad diff_id: a tree of the refused layer exists"
[ "$(json "$S4/index.json" 'len(d["manifests"])')" = 0 ] || fail "bad diff_id: ref set"

# ---------------------------------------------------------------- limits
# storage.conf applies to pulls: the big image's 8 MiB layer is over a 4M
# max-layer-size; refused, named, no temp file, no ref, no tree of it.
echo "== limits"
S5="$TMP/store5"
echo '{"max-layer-size": "4M"}' >"$TMP/storage.conf"
if "$PULL" --config "$TMP/insecure.conf" --storage-conf "$TMP/storage.conf" "$S5" "$BIG" >"$TMP/out" 2>"$TMP/err"; then
        fail "layer over max-layer-size accepted"
fi
cat "$TMP/err"
grep -qx "errno EFBIG" "$TMP/out" || fail "limits: expected EFBIG"
grep -q "unpacks to more than 4 MiB (limit storage.conf max-layer-size)" "$TMP/err" || fail "limits: message"
no_temp_files "$S5"
[ "$(ls -A "$S5/layers" | wc -l)" -le 1 ] || fail "limits: a tree of the refused layer exists"
[ "$(json "$S5/index.json" 'len(d["manifests"])')" = 0 ] || fail "limits: ref set"
echo '{"max-image-size": "6M"}' >"$TMP/storage.conf"
if "$PULL" --config "$TMP/insecure.conf" --storage-conf "$TMP/storage.conf" "$TMP/store6" "$BIG" >"$TMP/out" 2>"$TMP/err"; then
        fail "image over max-image-size accepted"
fi
grep -q "the image unpacks to more than 6 MiB (limit storage.conf max-image-size)" "$TMP/err" || { cat "$TMP/err"; fail "limits: image message"; }

echo "OK"
