#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The registry client against real servers, all on 127.0.0.1:
#  1. Debian's docker-registry with a busybox image pushed by skopeo;
#  2. fault-registry.py, which drops connections, fails, lies and redirects.
# usage: test-registry.sh PATH/registry-get PATH/fault-registry.py PATH/lib-registry.sh PATH/make-test-image.py
set -eu

GET=$1
FAULT=$2
. "$3"
MKIMAGE=$4
registry_require openssl sha256sum
[ -x /bin/busybox ] || { echo "test-registry: /bin/busybox (busybox-static) missing, skipping" >&2; exit 77; }

TMP=$(mktemp -d /tmp/test-registry.XXXXXX)
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

# Every file in DIR other than manifest.json must hash to its own name.
verify_blobs() {
        n=0
        for f in "$1"/*; do
                b=$(basename "$f")
                [ "$b" = manifest.json ] && continue
                h=$(sha256sum "$f" | cut -d' ' -f1)
                [ "$h" = "$b" ] || fail "blob $b has sha256 $h"
                n=$((n + 1))
        done
        [ "$n" -ge "$2" ] || fail "expected $2 blobs in $1, found $n"
}

# ---------------------------------------------------------------- docker-registry
echo "== docker-registry"
registry_start

# An OCI layout of two layers: busybox, and a small one on top.
python3 "$MKIMAGE" "$TMP/oci" >/dev/null || fail "make-test-image.py"
registry_push "$TMP/oci" test/busybox:latest
"$GET" --config "$TMP/insecure.conf" "127.0.0.1:$RPORT/test/busybox:latest" "$TMP/pull1" >"$TMP/out" ||
        fail "pull from docker-registry"
cat "$TMP/out"
verify_blobs "$TMP/pull1" 3
# The same bytes we pushed (skopeo copies OCI blobs unchanged).
for f in "$TMP"/pull1/*; do
        b=$(basename "$f")
        [ "$b" = manifest.json ] && continue
        cmp -s "$f" "$TMP/oci/blobs/sha256/$b" || fail "pulled blob $b differs from the pushed one"
done
MDIGEST=$(sed -n 's/^manifest \([^ ]*\) .*/\1/p' "$TMP/out" | tail -n1)
[ "sha256:$(sha256sum "$TMP/pull1/manifest.json" | cut -d' ' -f1)" = "$MDIGEST" ] || fail "manifest digest"

# By digest.
"$GET" --config "$TMP/insecure.conf" --manifest-only "127.0.0.1:$RPORT/test/busybox@$MDIGEST" "$TMP/pull2" >/dev/null ||
        fail "pull by digest"
# A wrong digest: the registry says unknown.
if "$GET" --config "$TMP/insecure.conf" --manifest-only \
        "127.0.0.1:$RPORT/test/busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000" \
        "$TMP/pull3" 2>"$TMP/err"; then fail "unknown digest pulled"; fi
grep -q "manifest unknown" "$TMP/err" || { cat "$TMP/err"; fail "unknown digest message"; }
# Unknown tag: named in the message.
if "$GET" --config "$TMP/insecure.conf" "127.0.0.1:$RPORT/test/busybox:nope" "$TMP/pull3" 2>"$TMP/err"; then
        fail "unknown tag pulled"
fi
grep -q "manifest 127.0.0.1:$RPORT/test/busybox:nope: manifest unknown" "$TMP/err" || { cat "$TMP/err"; fail "unknown tag message"; }
# Short names: resolved by unqualified-search-registries, never silently elsewhere.
printf '{"unqualified-search-registries": ["127.0.0.1:%s"], "registries": [{"prefix": "127.0.0.1:%s", "insecure": true}]}\n' \
        "$RPORT" "$RPORT" >"$TMP/search.conf"
"$GET" --config "$TMP/search.conf" test/busybox "$TMP/pull4" >/dev/null || fail "short name with search registries"
verify_blobs "$TMP/pull4" 3
if "$GET" test/busybox "$TMP/pull5" 2>"$TMP/err"; then fail "short name resolved without configuration"; fi
grep -q "short name" "$TMP/err" || { cat "$TMP/err"; fail "short name message"; }
# Not marked insecure: HTTPS only, so this plain HTTP registry is unreachable.
if "$GET" "127.0.0.1:$RPORT/test/busybox" "$TMP/pull6" 2>"$TMP/err"; then fail "plain HTTP used for a secure registry"; fi
cat "$TMP/err"
grep -q "TLS handshake with 127.0.0.1:$RPORT failed.*must be marked insecure" "$TMP/err" || fail "secure registry over HTTP: message"
# Concurrency limited to one still works.
"$GET" --config "$TMP/insecure.conf" --connections 1 "127.0.0.1:$RPORT/test/busybox" "$TMP/pull7" >"$TMP/out" || fail "serial pull"
grep -q "max-concurrent 1" "$TMP/out" || fail "more than one transfer with --connections 1"

# ---------------------------------------------------------------- fault server
FPID=""
start_fault() {
        : >"$TMP/ports"
        python3 "$FAULT" "$@" >"$TMP/ports" 2>"$TMP/fault.log" &
        FPID=$!
        PIDS="$PIDS $FPID"
        i=0
        while [ ! -s "$TMP/ports" ]; do
                i=$((i + 1))
                [ $i -lt 100 ] || fail "fault server ($1) did not start"
                sleep 0.1
        done
        read -r PORT SPORT <"$TMP/ports"
        printf '{"registries": [{"prefix": "127.0.0.1:%s", "insecure": true}, {"prefix": "127.0.0.1:%s", "insecure": true}]}\n' \
                "$PORT" "$SPORT" >"$TMP/fault.conf"
}
stop_fault() {
        kill "$FPID" 2>/dev/null || true
        wait "$FPID" 2>/dev/null || true
}
# expect_ok MODE [registry-get options...]
expect_ok() {
        mode=$1
        shift
        echo "== fault: $mode (must succeed)"
        start_fault "$mode"
        rm -rf "$TMP/f"
        "$GET" --config "$TMP/fault.conf" "$@" "127.0.0.1:$PORT/test/fault:latest" "$TMP/f" >"$TMP/out" 2>"$TMP/err" ||
                { cat "$TMP/err" "$TMP/fault.log"; fail "$mode"; }
        verify_blobs "$TMP/f" 4
        grep -q LEAK "$TMP/fault.log" && fail "$mode: credentials sent to the redirect target"
        stop_fault
}
# expect_fail MODE MESSAGE [registry-get options...]
expect_fail() {
        mode=$1
        msg=$2
        shift 2
        echo "== fault: $mode (must fail: $msg)"
        start_fault "$mode"
        rm -rf "$TMP/f"
        if "$GET" --config "$TMP/fault.conf" "$@" "127.0.0.1:$PORT/test/fault:latest" "$TMP/f" >"$TMP/out" 2>"$TMP/err"; then
                cat "$TMP/out" "$TMP/fault.log"
                fail "$mode succeeded"
        fi
        cat "$TMP/err"
        grep -q -- "$msg" "$TMP/err" || { cat "$TMP/fault.log"; fail "$mode: message lacks '$msg'"; }
        stop_fault
}

printf '{"auths": {"127.0.0.1:PORT": {"auth": "%s"}}}\n' "$(printf user:secret | base64)" >"$TMP/auth.tmpl"
printf '{"auths": {"127.0.0.1:PORT": {"auth": "%s"}}}\n' "$(printf user:wrong | base64)" >"$TMP/badauth.tmpl"
auth_for() { sed "s/PORT/$PORT/" "$TMP/$1.tmpl" >"$TMP/$1.json"; echo "$TMP/$1.json"; }

expect_ok ok
grep -q "max-concurrent [2-9]" "$TMP/out" || { cat "$TMP/out"; fail "blobs were not fetched concurrently"; }

expect_ok index
grep -q "manifests/sha256:$(python3 -c 'print("1" * 64)')" "$TMP/fault.log" && fail "index: picked the arm64 manifest"
grep -q "application/vnd.oci.image.index.v1+json" "$TMP/out" || fail "index: no index fetched"

expect_ok drop
grep -q "dropping connection" "$TMP/fault.log" || fail "drop: nothing dropped"
grep -q "resume at" "$TMP/fault.log" || fail "drop: no Range resumption"

expect_ok drop-norange
grep -q "dropping connection" "$TMP/fault.log" || fail "drop-norange: nothing dropped"

expect_ok flaky
expect_fail flaky "HTTP 500" --tries 2

expect_fail baddigest "digest mismatch"
expect_fail slow "after 2 tries" --low-speed 1000:1 --tries 2
expect_fail notfound "manifest 127.0.0.1:[0-9]*/test/fault:latest: manifest unknown (MANIFEST_UNKNOWN"
expect_fail denied "access denied"
expect_fail bigmanifest "too large"
expect_fail bigmanifest-nolength "too large"
expect_fail badtype "unsupported media type 'text/html"
expect_fail wrongdigest-header "digest mismatch: registry says"

# Bearer: the token endpoint wants basic credentials from the auth file.
echo "== fault: bearer"
start_fault bearer
"$GET" --config "$TMP/fault.conf" --auth "$(auth_for auth)" "127.0.0.1:$PORT/test/fault" "$TMP/b1" >/dev/null 2>"$TMP/err" ||
        { cat "$TMP/err" "$TMP/fault.log"; fail "bearer with credentials"; }
verify_blobs "$TMP/b1" 4
# One token for the whole pull: fetched once, then reused by every request.
[ "$(grep -c 'GET /token' "$TMP/fault.log")" -eq 1 ] || { cat "$TMP/fault.log"; fail "token not cached"; }
if "$GET" --config "$TMP/fault.conf" "127.0.0.1:$PORT/test/fault" "$TMP/b2" 2>"$TMP/err"; then fail "bearer without credentials"; fi
cat "$TMP/err"
grep -q "authentication failed for 127.0.0.1:$PORT: credentials required" "$TMP/err" || fail "bearer without credentials: message"
if "$GET" --config "$TMP/fault.conf" --auth "$(auth_for badauth)" "127.0.0.1:$PORT/test/fault" "$TMP/b3" 2>"$TMP/err"; then
        fail "bearer with bad credentials"
fi
cat "$TMP/err"
grep -q "bad credentials" "$TMP/err" || fail "bearer with bad credentials: message"
# peapod login's check: a token for /v2/ with the credentials, or a refusal.
"$GET" --config "$TMP/fault.conf" --auth "$(auth_for auth)" --check-login "127.0.0.1:$PORT/x" "$TMP/l" >/dev/null 2>"$TMP/err" ||
        { cat "$TMP/err"; fail "login check, bearer"; }
if "$GET" --config "$TMP/fault.conf" --auth "$(auth_for badauth)" --check-login "127.0.0.1:$PORT/x" "$TMP/l" 2>"$TMP/err"; then
        fail "login check, bearer, bad credentials"
fi
grep -q "bad credentials" "$TMP/err" || { cat "$TMP/err"; fail "login check, bearer, bad credentials: message"; }
# A registry token (the CRI's registry_token) is the bearer itself: no
# token fetched, no credentials needed; a wrong one is a refusal, not a
# reason to ask the token endpoint.
tokens=$(grep -c 'GET /token' "$TMP/fault.log")
"$GET" --config "$TMP/fault.conf" --registry-token tok-6f1c2a "127.0.0.1:$PORT/test/fault" "$TMP/b4" >/dev/null 2>"$TMP/err" ||
        { cat "$TMP/err" "$TMP/fault.log"; fail "bearer with a registry token"; }
verify_blobs "$TMP/b4" 4
[ "$(grep -c 'GET /token' "$TMP/fault.log")" -eq "$tokens" ] || { cat "$TMP/fault.log"; fail "a token was fetched despite the registry token"; }
if "$GET" --config "$TMP/fault.conf" --auth "$(auth_for auth)" --registry-token wrong "127.0.0.1:$PORT/test/fault" "$TMP/b5" 2>"$TMP/err"; then
        fail "bearer with a wrong registry token"
fi
grep -q "the registry token was refused" "$TMP/err" || { cat "$TMP/err"; fail "wrong registry token: message"; }
[ "$(grep -c 'GET /token' "$TMP/fault.log")" -eq "$tokens" ] || { cat "$TMP/fault.log"; fail "a wrong registry token made us fetch one"; }
# An identity token (OAuth2 refresh token) is traded by a POST to the
# realm, without the auth file's credentials; a wrong one is a refusal.
"$GET" --config "$TMP/fault.conf" --auth "$(auth_for badauth)" --identity-token 'refresh-9b/+= x' "127.0.0.1:$PORT/test/fault" \
        "$TMP/b7" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" "$TMP/fault.log"; fail "bearer with an identity token"; }
verify_blobs "$TMP/b7" 4
grep -q "POST /token noauth grant=\['refresh_token'\]" "$TMP/fault.log" || { cat "$TMP/fault.log"; fail "no OAuth2 refresh grant"; }
! grep -q "LEAK\|BAD OAUTH" "$TMP/fault.log" || { cat "$TMP/fault.log"; fail "identity token: bad request or leak"; }
if "$GET" --config "$TMP/fault.conf" --identity-token wrong "127.0.0.1:$PORT/test/fault" "$TMP/b8" 2>"$TMP/err"; then
        fail "a wrong identity token was accepted"
fi
grep -q "the identity token was refused" "$TMP/err" || { cat "$TMP/err"; fail "wrong identity token: message"; }
# A token that would add a header line is refused before any request.
if "$GET" --config "$TMP/fault.conf" --registry-token "$(printf 'tok\r\nX-Injected: 1')" "127.0.0.1:$PORT/test/fault" "$TMP/b6" 2>"$TMP/err"; then
        fail "a registry token with a line break was used"
fi
stop_fault

echo "== fault: basic"
start_fault basic
"$GET" --config "$TMP/fault.conf" --auth "$(auth_for auth)" "127.0.0.1:$PORT/test/fault" "$TMP/c1" >/dev/null 2>"$TMP/err" ||
        { cat "$TMP/err"; fail "basic with credentials"; }
verify_blobs "$TMP/c1" 4
if "$GET" --config "$TMP/fault.conf" "127.0.0.1:$PORT/test/fault" "$TMP/c2" 2>"$TMP/err"; then fail "basic without credentials"; fi
cat "$TMP/err"
grep -q "authentication required" "$TMP/err" || fail "basic without credentials: message"
if "$GET" --config "$TMP/fault.conf" --auth "$(auth_for badauth)" "127.0.0.1:$PORT/test/fault" "$TMP/c3" 2>"$TMP/err"; then
        fail "basic with bad credentials"
fi
cat "$TMP/err"
grep -q "bad credentials" "$TMP/err" || fail "basic with bad credentials: message"
"$GET" --config "$TMP/fault.conf" --auth "$(auth_for auth)" --check-login "127.0.0.1:$PORT/x" "$TMP/l" >/dev/null 2>"$TMP/err" ||
        { cat "$TMP/err"; fail "login check, basic"; }
if "$GET" --config "$TMP/fault.conf" --auth "$(auth_for badauth)" --check-login "127.0.0.1:$PORT/x" "$TMP/l" 2>"$TMP/err"; then
        fail "login check, basic, bad credentials"
fi
grep -q "bad credentials" "$TMP/err" || { cat "$TMP/err"; fail "login check, basic, bad credentials: message"; }
stop_fault

# Redirects: followed; the bearer token goes to the registry's port only.
for mode in redirect redirect-path; do
        echo "== fault: $mode"
        start_fault $mode
        "$GET" --config "$TMP/fault.conf" --auth "$(auth_for auth)" "127.0.0.1:$PORT/test/fault" "$TMP/d" >/dev/null 2>"$TMP/err" ||
                { cat "$TMP/err" "$TMP/fault.log"; fail "$mode"; }
        verify_blobs "$TMP/d" 4
        grep -q LEAK "$TMP/fault.log" && fail "$mode: Authorization forwarded to the storage port"
        if [ $mode = redirect ]; then
                grep -q "^storage GET /storage/.* noauth" "$TMP/fault.log" || { cat "$TMP/fault.log"; fail "redirect: storage not used"; }
        fi
        stop_fault
        rm -rf "$TMP/d"
done

# TLS: verification on by default; our CA makes it pass; plain http not tried.
echo "== fault: TLS"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null || fail "openssl"
start_fault ok --tls "$TMP/cert.pem" "$TMP/key.pem"
if "$GET" "127.0.0.1:$PORT/test/fault" "$TMP/t1" 2>"$TMP/err"; then fail "TLS without our CA succeeded"; fi
cat "$TMP/err"
grep -q "TLS certificate verification failed for" "$TMP/err" || fail "TLS message"
grep -q "mark the registry insecure in registries.conf only if you trust the network" "$TMP/err" || fail "TLS advice"
"$GET" --ca "$TMP/cert.pem" "127.0.0.1:$PORT/test/fault" "$TMP/t2" >/dev/null 2>"$TMP/err" || { cat "$TMP/err"; fail "TLS with CA"; }
verify_blobs "$TMP/t2" 4
stop_fault

echo "== mirror"
start_fault ok
DEAD=$(free_port)
# The registry itself is down; its mirror serves the repository.
printf '{"registries": [{"prefix": "127.0.0.1:%s/test", "insecure": true, "mirrors": ["127.0.0.1:%s"]}, {"prefix": "127.0.0.1:%s", "insecure": true}]}\n' \
        "$DEAD" "$PORT" "$PORT" >"$TMP/mirror.conf"
"$GET" --config "$TMP/mirror.conf" "127.0.0.1:$DEAD/test/fault" "$TMP/m" >/dev/null 2>"$TMP/err" || { cat "$TMP/err"; fail "mirror"; }
verify_blobs "$TMP/m" 4
stop_fault

echo "== connection refused"
DEAD=$(free_port)
printf '{"registries": [{"prefix": "127.0.0.1:%s", "insecure": true}]}\n' "$DEAD" >"$TMP/dead.conf"
if "$GET" --config "$TMP/dead.conf" "127.0.0.1:$DEAD/test/x" "$TMP/x" 2>"$TMP/err"; then fail "refused connection succeeded"; fi
cat "$TMP/err"
grep -q "connection refused" "$TMP/err" || fail "connection refused message"

echo "test-registry: all passed"
