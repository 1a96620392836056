# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers for tests that need a registry on 127.0.0.1 (sourced, POSIX sh).
# The caller sets TMP (a scratch directory) and PIDS (background pids it
# kills on exit), and defines fail().

# registry_require: exit 77 (skip) unless the tools are there.
registry_require() {
        for tool in python3 docker-registry skopeo "$@"; do
                if ! command -v "$tool" >/dev/null; then
                        echo "$0: $tool missing, skipping" >&2
                        exit 77
                fi
        done
}

free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# registry_start [LEVEL]: Debian's docker-registry on a free port, storage
# and log in $TMP; sets RPORT. At level info the log has one line per
# request ("GET /v2/..."), which tests count. With REGISTRY_HTPASSWD set
# (a file of USER:BCRYPT lines) it asks for Basic authentication.
registry_start() {
        RPORT=$(free_port)
        mkdir -p "$TMP/registry"
        _auth=""
        [ -z "${REGISTRY_HTPASSWD:-}" ] || _auth="auth:
  htpasswd:
    realm: peapod-test
    path: $REGISTRY_HTPASSWD"
        cat >"$TMP/registry.yml" <<EOC
version: 0.1
log:
  level: ${1:-warn}
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $TMP/registry
http:
  addr: 127.0.0.1:$RPORT
$_auth
EOC
        docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 &
        PIDS="$PIDS $!"
        _i=0
        # Up once it answers /v2/, a 401 of an authenticating one included.
        until python3 -c "
import urllib.request as u, urllib.error as e
try: u.urlopen('http://127.0.0.1:$RPORT/v2/', timeout=1)
except e.HTTPError as x: exit(x.code != 401)" 2>/dev/null; do
                _i=$((_i + 1))
                [ $_i -lt 100 ] || { cat "$TMP/registry.log" >&2; fail "docker-registry did not start"; }
                sleep 0.1
        done
        printf '{"registries": [{"prefix": "127.0.0.1:%s", "insecure": true}]}\n' "$RPORT" >"$TMP/insecure.conf"
}

# registry_push OCI_DIR NAME: push an OCI layout's "latest" as 127.0.0.1:$RPORT/NAME.
registry_push() {
        skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$1:latest" \
                "docker://127.0.0.1:$RPORT/$2" || fail "skopeo copy to $2"
}
