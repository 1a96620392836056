#!/bin/bash
# peapod-cri's streaming server, driven by a WebSocket client
# (tests/cri/streamt.py, Debian's python3-websocket) with the URLs that the
# gRPC Exec and PortForward calls answer: exec with and without a terminal
# (output, exit codes 0, 3, 137 and 127 on the error channel, stdin, resize,
# every channel protocol) and over SPDY/3.1 (tests/cri/streamt.py has its
# own SPDY client: zlib with the SPDY/3 dictionary, one stream per channel), a command killed when its client vanishes,
# port-forward to an httpd that listens on the pod's own loopback (once and
# 25 at once over WebSocket; once and 50 connections in one session over
# SPDY), and 100 half-closed connections at once to a server on the host's
# loopback through a pod on the host's network; abuse (bad, reused and expired tokens, garbage frames,
# oversized requests, stuck clients next to served ones). Afterwards
# peapod-cri holds as many fds as before and no exec is left.
. "$(dirname "$0")/lib.sh"
STREAMT="$(dirname "$(realpath "$0")")/../cri/streamt.py"
cri_init
python3 -c 'import websocket' 2>/dev/null || fail "python3-websocket is missing (tools/install-deps)"

$PEAPOD run -d --name "$PFX-s" busybox --app-name=web -- \
        sh -c 'mkdir -p /www && echo hello-pf >/www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www' >/dev/null
wait_for 20 sh -c "[ \"\$($PEAPOD app status --format=json $PFX-s web | jq .pid)\" -gt 0 ]" || fail "app has no pid"
pod=$(pod_id "$PFX-s")
app=$($PEAPOD app status --format=json "$PFX-s" web | jq -r .id)
cid="$pod$app"
[ ${#cid} = 64 ] || fail "container id $cid is not 64 digits"

cri_start --streaming-token-timeout=1
assert_contains "$(cat "$T/log")" "streams on 127.0.0.1 port" "the log names the streaming address"
# One warm-up call, so that the bus connection is counted in the baseline.
"$STREAMT" "$CRI_SOCK" exec-hang "$cid" >/dev/null 2>&1 || true
wait_for 20 sh -c "[ \$(pgrep -c -f '^peapod-stage1-exec ') = 0 ]" ||
        fail "the command outlived its vanished client"
fds_before=$(ls /proc/$CRI_PID/fd | wc -l)

"$STREAMT" "$CRI_SOCK" exec "$cid" || fail "exec checks failed: $(tail -5 "$T/log")"
"$STREAMT" "$CRI_SOCK" spdy "$cid" || fail "SPDY exec checks failed: $(tail -5 "$T/log")"
# ... and with spdystream, the SPDY library of Kubernetes' own clients
# (tests/cri/spdyclient, built here from Debian's golang-github-docker-spdystream-dev).
(cd "$(dirname "$STREAMT")/spdyclient" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$T/gocache" \
        go build -o "$T/spdyclient" .) || fail "building the spdystream client failed (golang-go, golang-github-docker-spdystream-dev: tools/install-deps)"
url=$("$STREAMT" "$CRI_SOCK" exec-url "$cid" sh -c 'cat; echo err >&2; exit 3')
out=$("$T/spdyclient" "$url" "through spdystream") || fail "spdystream client: $out"
assert_contains "$out" 'stdout="through spdystream"' "stdout through spdystream"
assert_contains "$out" 'stderr="err\n"' "stderr through spdystream"
assert_contains "$out" 'NonZeroExitCode' "exit status through spdystream"
assert_contains "$out" '{\"reason\":\"ExitCode\",\"message\":\"3\"}' "exit code through spdystream"
"$STREAMT" "$CRI_SOCK" exec-hang "$cid" || fail "exec-hang failed"
wait_for 20 sh -c "[ \$(pgrep -c -f '^peapod-stage1-exec ') = 0 ]" ||
        fail "the command outlived its vanished client"

# The httpd listens on the pod's loopback only: port-forward reaches it
# from the pod's network namespace, the host cannot.
if wget -q -T 2 -O - http://127.0.0.1:8080/ 2>/dev/null | grep -q hello-pf; then
        fail "the pod's loopback httpd answers on the host: the pod shares the host's network"
fi
"$STREAMT" "$CRI_SOCK" portforward "$pod" 8080 || fail "port-forward checks failed: $(tail -5 "$T/log")"
"$STREAMT" "$CRI_SOCK" spdy-portforward "$pod" 8080 || fail "SPDY port-forward checks failed: $(tail -5 "$T/log")"
# A pod on the host's network: port-forward enters the host's namespace.
# There a server with a listen backlog for 100 connections at once (busybox
# httpd's is 9) takes 100 half-closed connections through one session.
$PEAPOD run -d --net=host --name "$PFX-h" busybox -- sleep 100000 >/dev/null
host_running() { [ "$(pod_state "$PFX-h")" = running ]; }
wait_for 20 host_running || fail "host-network pod not running"
python3 -c '
import http.server, socketserver
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"hello-host\n")
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    request_queue_size = 512
    daemon_threads = True
S(("127.0.0.1", 18081), H).serve_forever()
' &
SERVER=$!
at_exit 'kill "$SERVER" 2>/dev/null'
wait_for 10 sh -c 'wget -q -O - http://127.0.0.1:18081/ | grep -q hello-host' || fail "the host's test server does not answer"
"$STREAMT" "$CRI_SOCK" spdy-portforward-many "$(pod_id "$PFX-h")" 18081 100 ||
        fail "100 half-closed port-forwards to a host-network pod: $(tail -5 "$T/log")"
"$STREAMT" "$CRI_SOCK" abuse "$cid" || fail "abuse checks failed: $(tail -5 "$T/log")"
kill -0 "$CRI_PID" || fail "peapod-cri died: $(tail -5 "$T/log")"

# Nothing left behind: every command of a gone client was killed, and
# peapod-cri holds what it held before.
wait_for 30 sh -c "[ \$(pgrep -c -f '^peapod-stage1-exec ') = 0 ]" ||
        fail "execs left: $(pgrep -a -f '^peapod-stage1-exec ')"
wait_for 30 sh -c "[ \$(ls /proc/$CRI_PID/fd | wc -l) = $fds_before ]" ||
        fail "peapod-cri holds $(ls /proc/$CRI_PID/fd | wc -l) fds, $fds_before before: $(ls -l /proc/$CRI_PID/fd)"
# A clean exit (under ASan, CRI=build-asan/...: no leak report either).
cri_stop
say "ok"
