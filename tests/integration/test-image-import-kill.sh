#!/bin/bash
# peapodd killed with SIGKILL in the middle of 'peapod image import' of a
# 300 MB archive: the CLI notices within 5 s and says so (it used to wait
# forever), and the restarted peapodd removes the partial blob (it used to
# stay until 'peapod image gc').
. "$(dirname "$0")/lib.sh"

STORE=/var/lib/peapod/images
dir=$(mktemp -d)
feeder=""
cli=""
cleanup() {
        touch "$dir/go"
        [ -z "$feeder" ] || kill "$feeder" 2>/dev/null || true
        [ -z "$cli" ] || kill "$cli" 2>/dev/null || true
        wait 2>/dev/null || true
        rm -rf "$dir"
        systemctl start peapodd.service 2>/dev/null || true
        $PEAPOD image rm "localhost/$PFX-big:latest" >/dev/null 2>&1 || true
        cleanup_pods
}
trap cleanup EXIT

temp_files() {
        find "$STORE/blobs/sha256" "$STORE/layers" -maxdepth 1 -name '.tmp-*' 2>/dev/null
}

# A docker-archive whose one layer holds 300 MB of incompressible data;
# layer.tar comes first in the archive, so its blob is written first.
python3 - "$dir/big.tar" "localhost/$PFX-big:latest" <<'EOF'
import hashlib, io, json, os, sys, tarfile
out, name = sys.argv[1], sys.argv[2]
size = 300 << 20
layer = out + ".layer"
with open(layer, "wb") as f, tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as t:
    ti = tarfile.TarInfo("big")
    ti.size = size
    class Random(io.RawIOBase):
        left = size
        def readable(self):
            return True
        def readinto(self, b):
            n = min(len(b), self.left)
            b[:n] = os.urandom(n)
            self.left -= n
            return n
    t.addfile(ti, io.BufferedReader(Random(), 1 << 20))
h = hashlib.sha256()
with open(layer, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": ["sha256:" + h.hexdigest()]}}).encode()
manifest = json.dumps([{"Config": "config.json", "RepoTags": [name], "Layers": ["layer.tar"]}]).encode()
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    t.add(layer, "layer.tar")
    for n, data in (("config.json", config), ("manifest.json", manifest)):
        ti = tarfile.TarInfo(n)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
os.unlink(layer)
EOF
[ "$(stat -c %s "$dir/big.tar")" -gt $((300 << 20)) ] || fail "test archive too small"

[ -z "$(temp_files)" ] || fail "temp files before the test: $(temp_files)"
# Through a fifo: the first 150 MB go at once, the rest only when the test
# says so, so that peapodd is surely in the middle of the blob when killed.
mkfifo "$dir/in"
$PEAPOD image import --insecure-options=image - <"$dir/in" >"$dir/out" 2>"$dir/err" &
cli=$!
{
        head -c 150000000 "$dir/big.tar"
        while [ ! -e "$dir/go" ]; do sleep 0.1; done
        tail -c +150000001 "$dir/big.tar"
} >"$dir/in" 2>/dev/null &
feeder=$!

wait_for 120 sh -c "find '$STORE/blobs/sha256' -maxdepth 1 -name '.tmp-*' -size +100M | grep -q ." ||
        fail "no partial blob grew: $(cat "$dir/err")"
daemon=$(systemctl show -P MainPID peapodd.service)
[ "$daemon" -gt 0 ] || fail "peapodd not running as a service"
kill -KILL "$daemon"
killed=$(date +%s%N)

# The CLI ends by itself, within 5 s, with an error that says what happened.
wait_for 5 sh -c "! kill -0 $cli 2>/dev/null" || fail "the CLI still waits 5 s after peapodd was killed"
took=$((($(date +%s%N) - killed) / 1000000))
rc=0
wait "$cli" || rc=$?
cli=""
[ "$rc" -ne 0 ] || fail "import succeeded although peapodd was killed"
err=$(cat "$dir/err")
assert_contains "$err" "peapodd exited while importing" "the CLI's message"
assert_contains "$err" "did not finish" "the CLI's message"
say "the CLI returned $took ms after the kill: $err"
touch "$dir/go"

# The partial blob is still there until a peapodd starts (Restart= or
# activation) and removes it before serving.
systemctl start peapodd.service
wait_for 30 sh -c "systemctl is-active peapodd.service | grep -qx active" || fail "peapodd did not come back"
[ -z "$(temp_files)" ] || fail "temp files left after restart: $(temp_files)"
journal_wait "partial blob(s)" -u peapodd.service --since "@$((killed / 1000000000))" ||
        fail "peapodd did not log the removal"
must_fail $PEAPOD image inspect "localhost/$PFX-big:latest" >/dev/null
# peapodd serves as before.
$PEAPOD image list >/dev/null
