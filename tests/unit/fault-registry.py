#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A registry (distribution v2, pull side) that misbehaves on purpose.

    fault-registry.py MODE [--tls CERT KEY]

Listens on 127.0.0.1, port 0 (and a second "storage" port for redirects),
prints "PORT STORAGE_PORT" on one line to stdout, then serves until killed.
Every request is logged to stderr as one line; the test greps the log.

The image: one config blob and three 256 KiB layers of deterministic
pseudo-random bytes, under any repository name, tag or digest.

Modes:
  ok             serve everything (layers in small timed chunks)
  drop           the first GET of layer 0 breaks off half way; Range is honoured
  drop-norange   the same, but Range is ignored (200 and the whole blob again)
  flaky          every path answers 500 twice, then works
  baddigest      layer 0 has one byte changed
  slow           layer 0 trickles at ~200 bytes/s
  bearer         /v2/ needs a Bearer token from /token, which needs Basic user:secret
  redirect       bearer, and blobs are 307 to the storage port (which refuses
                 any Authorization header: it must not be forwarded there)
  redirect-path  bearer, and blobs are 307 to /storage/ on the same port
  basic          /v2/ needs Basic user:secret
  notfound       manifests and blobs are unknown
  denied         403 for everything
  bigmanifest    a 5 MiB manifest with Content-Length
  bigmanifest-nolength  the same without Content-Length (ends at close)
  badtype        the manifest comes as text/html
  wrongdigest-header  Docker-Content-Digest disagrees with the manifest
  index          tags name an OCI index (arm64 first, then amd64); the
                 manifest is served by digest only
"""

import base64
import hashlib
import json
import random
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[1]
TLS = sys.argv[2:5] if len(sys.argv) >= 5 and sys.argv[2] == "--tls" else None

USER, PASSWORD, TOKEN = "user", "secret", "tok-6f1c2a"
# An OAuth2 refresh token ("identitytoken") that POST /token trades for TOKEN.
REFRESH = "refresh-9b/+= x"
LAYER_SIZE = 256 * 1024

def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


rng = random.Random(4711)
layers = [bytes(rng.getrandbits(8) for _ in range(LAYER_SIZE)) for _ in range(3)]
# One diff_id per layer, so that a whole pull (peapodd's) gets as far as
# downloading them; the layers are no tars, so it fails at unpacking.
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": [digest(b) for b in layers]},
                     "config": {"Cmd": ["/bin/sh"]}}).encode()


blobs = {digest(b): b for b in layers + [config]}
manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": digest(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": digest(b), "size": len(b)} for b in layers],
}, indent=2).encode()

index = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "1" * 64,
                   "size": 10, "platform": {"os": "linux", "architecture": "arm64"}},
                  {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(manifest),
                   "size": len(manifest), "platform": {"os": "linux", "architecture": "amd64"}}],
}).encode()

counts = {}
counts_lock = threading.Lock()
served_first_drop = threading.Event()
ports = {}


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def count(key):
    with counts_lock:
        counts[key] = counts.get(key, 0) + 1
        return counts[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    storage = False

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", ctype="application/json", headers=None, length=True):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message, headers=None):
        body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
        self.reply(status, body, headers=headers)

    def authorized(self, repo):
        auth = self.headers.get("Authorization", "")
        if MODE == "basic":
            if auth == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode():
                return True
            self.error(401, "UNAUTHORIZED", "authentication required",
                       {"WWW-Authenticate": 'Basic realm="fault registry"'})
            return False
        if MODE in ("bearer", "redirect", "redirect-path"):
            if auth == "Bearer " + TOKEN:
                return True
            scheme = "https" if TLS else "http"
            self.error(401, "UNAUTHORIZED", "authentication required",
                       {"WWW-Authenticate": f'Bearer realm="{scheme}://127.0.0.1:{ports["main"]}/token",'
                                            f'service="fault,registry",scope="repository:{repo}:pull"'})
            return False
        return True

    def do_POST(self):
        """The OAuth2 side of /token: grant_type=refresh_token with REFRESH."""
        import urllib.parse
        n = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(), keep_blank_values=True)
        log(f"main POST {self.path} {'auth' if 'Authorization' in self.headers else 'noauth'} "
            f"grant={form.get('grant_type')} client={form.get('client_id')}")
        if self.path != "/token":
            return self.reply(404, b"{}")
        if "Authorization" in self.headers:
            log("LEAK: credentials sent with a refresh token")
        if form.get("grant_type") != ["refresh_token"] or form.get("service") != ["fault,registry"] or \
                not form.get("scope", [""])[0].startswith("repository:") or not form.get("client_id"):
            log("BAD OAUTH REQUEST " + repr(form))
            return self.reply(400, b'{"error": "invalid_request"}')
        if form.get("refresh_token") != [REFRESH]:
            return self.reply(401, b'{"error": "invalid_grant"}')
        return self.reply(200, json.dumps({"access_token": TOKEN, "expires_in": 300}).encode())

    def do_GET(self):
        auth = "auth" if "Authorization" in self.headers else "noauth"
        rng_hdr = self.headers.get("Range")
        log(f"{'storage' if self.storage else 'main'} GET {self.path} {auth} range={rng_hdr}")
        path = self.path.split("?")[0]

        if self.storage or path.startswith("/storage/"):
            if self.storage and "Authorization" in self.headers:
                log("LEAK: Authorization header sent to the storage host")
                return self.reply(400, b'{"error": "credentials leaked"}')
            d = path.rsplit("/", 1)[-1]
            return self.send_blob(d, rng_hdr)

        if path == "/token":
            want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.reply(401, b'{"details": "bad credentials"}',
                                  headers={"WWW-Authenticate": 'Basic realm="token"'})
            if "scope=repository%3A" not in self.path or "service=fault%2Cregistry" not in self.path:
                log("BAD TOKEN REQUEST " + self.path)
                return self.reply(400, b"{}")
            return self.reply(200, json.dumps({"token": TOKEN, "expires_in": 300}).encode())

        if not path.startswith("/v2/"):
            return self.reply(404, b"{}")
        if path == "/v2/":
            return self.reply(200, b"{}") if self.authorized("") else None
        if MODE == "flaky" and count(path) <= 2:
            return self.error(500, "UNKNOWN", "transient failure")
        if MODE == "denied":
            return self.error(403, "DENIED", "requested access to the resource is denied")

        parts = path[len("/v2/"):].split("/")
        if len(parts) < 3 or parts[-2] not in ("manifests", "blobs"):
            return self.reply(404, b"{}")
        repo, kind, ref = "/".join(parts[:-2]), parts[-2], parts[-1]
        if not self.authorized(repo):
            return
        if MODE == "notfound":
            if kind == "manifests":
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")

        if kind == "manifests":
            body, ctype, hdrs = manifest, "application/vnd.oci.image.manifest.v1+json", {}
            if MODE == "index" and ref != digest(manifest):
                if ref.startswith("sha256:"):
                    return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
                body, ctype = index, "application/vnd.oci.image.index.v1+json"
            hdrs["Docker-Content-Digest"] = digest(body)
            if MODE.startswith("bigmanifest"):
                body = b" " * (5 * 1024 * 1024)
                hdrs = {}
            if MODE == "badtype":
                ctype = "text/html; charset=utf-8"
            if MODE == "wrongdigest-header":
                hdrs["Docker-Content-Digest"] = digest(b"something else")
            return self.reply(200, body, ctype, hdrs, length=(MODE != "bigmanifest-nolength"))

        if MODE in ("redirect", "redirect-path"):
            scheme = "https" if TLS else "http"
            port = ports["storage"] if MODE == "redirect" else ports["main"]
            return self.reply(307, b"", headers={"Location": f"{scheme}://127.0.0.1:{port}/storage/{ref}?sig=abc"})
        return self.send_blob(ref, rng_hdr)

    def send_blob(self, d, rng_hdr):
        if d not in blobs:
            return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        data = blobs[d]
        first_layer = d == digest(layers[0])
        if MODE == "baddigest" and first_layer:
            data = bytes([data[0] ^ 1]) + data[1:]
        start = 0
        if rng_hdr and MODE != "drop-norange" and rng_hdr.startswith("bytes=") and rng_hdr.endswith("-"):
            start = int(rng_hdr[len("bytes="):-1])
            log(f"resume at {start}")
        if start:
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        body = data[start:]
        try:
            if MODE in ("drop", "drop-norange") and first_layer and not served_first_drop.is_set():
                served_first_drop.set()
                self.wfile.write(body[:len(body) // 2])
                self.wfile.flush()
                log("dropping connection")
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if MODE == "slow" and first_layer:
                for i in range(0, len(body), 20):
                    self.wfile.write(body[i:i + 20])
                    self.wfile.flush()
                    time.sleep(0.1)
                return
            # Small timed chunks, so that concurrent transfers overlap visibly.
            for i in range(0, len(body), 32 * 1024):
                self.wfile.write(body[i:i + 32 * 1024])
                self.wfile.flush()
                time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            log("client went away")
            self.close_connection = True


class StorageHandler(Handler):
    storage = True


def serve(handler, key):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    if TLS:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(TLS[1], TLS[2])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    ports[key] = srv.server_address[1]
    return srv


main = serve(Handler, "main")
storage = serve(StorageHandler, "storage")
threading.Thread(target=storage.serve_forever, daemon=True).start()
print(ports["main"], ports["storage"], flush=True)
main.serve_forever()
