#!/bin/bash
# Image bombs are refused by the storage.conf limits, and a refused image
# leaves the store exactly as it was: no layer tree, no blob, no temp file,
# no name. (Before the limits, a 4 MB gzip layer of zeros grew the store by
# 3.9 GB.)
. "$(dirname "$0")/lib.sh"

STORE=/var/lib/peapod/images
dir=$(mktemp -d)
cleanup() {
        rm -rf "$dir"
        rm -f /etc/peapod/storage.conf
        cleanup_pods
}
trap cleanup EXIT

# Everything in the store but the lock files (empty flock files that come
# and go): names, file sizes, and index.json's content.
snapshot() {
        (cd "$STORE" && find . -path ./locks -prune -o -type f -printf '%p %s\n' -o -printf '%p\n' | sort &&
                sha256sum index.json)
}
# make_image OUT NAME MODE: an OCI archive named NAME with one gzip layer;
# MODE "files" = 8 files of 32 MiB of zeros (256 MiB from a ~256 KiB layer,
# streamed: the test host never holds it), MODE "huge" = one entry that
# declares 17 GiB, its data cut after 1 MiB (refused at its header).
make_image() {
        python3 - "$@" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
out, name, mode = sys.argv[1:4]
layout = out + ".d"
os.makedirs(layout + "/blobs/sha256")
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open(f"{layout}/blobs/sha256/{d}", "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)
class Tee(io.RawIOBase):
    """Uncompressed tar in, hashed (the diff_id) and gzipped into a buffer."""
    def __init__(self):
        self.raw, self.h = io.BytesIO(), hashlib.sha256()
        self.gz = gzip.GzipFile(fileobj=self.raw, mode="wb", mtime=0, compresslevel=6)
    def writable(self):
        return True
    def write(self, b):
        self.h.update(b)
        self.gz.write(b)
        return len(b)
class Zeros(io.RawIOBase):
    def __init__(self, n):
        self.left = n
    def readable(self):
        return True
    def readinto(self, b):
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n
tee = Tee()
if mode == "files":
    with tarfile.open(fileobj=tee, mode="w|", format=tarfile.PAX_FORMAT) as t:
        for i in range(8):
            ti = tarfile.TarInfo(f"zeros{i}")
            ti.size = 32 << 20
            t.addfile(ti, io.BufferedReader(Zeros(ti.size), 1 << 20))
else:
    ti = tarfile.TarInfo("huge")
    ti.size = 17 << 30
    tee.write(ti.tobuf(tarfile.PAX_FORMAT))
    tee.write(bytes(1 << 20))
tee.gz.close()
layer, layer_size = blob(tee.raw.getvalue())
config, config_size = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                                       "rootfs": {"type": "layers", "diff_ids": ["sha256:" + tee.h.hexdigest()]}}).encode())
manifest, manifest_size = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": layer_size}]}).encode())
with open(layout + "/index.json", "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
               "digest": manifest, "size": manifest_size,
               "annotations": {"org.opencontainers.image.ref.name": name}}]}, f)
with open(layout + "/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with tarfile.open(out, "w") as t:
    for e in sorted(os.listdir(layout)):
        t.add(f"{layout}/{e}", e)
print(layer)
EOF
}
import_image() { $PEAPOD image import -q --insecure-options=image "$1"; }

# peapodd made the store when it started (the bus may not have started it yet).
$PEAPOD image list >/dev/null
layer=$(make_image "$dir/files.tar" "localhost/$PFX-files:latest" files)
[ "$(stat -c %s "$dir/files.tar")" -lt $((2 << 20)) ] || fail "the bomb is no bomb: $(stat -c %s "$dir/files.tar") bytes"
huge=$(make_image "$dir/huge.tar" "localhost/$PFX-huge:latest" huge)

say "256 MiB of zeros against max-layer-size 64M: refused after writing 64 MiB, nothing left"
mkdir -p /etc/peapod
echo '{"max-layer-size": "64M"}' >/etc/peapod/storage.conf
before=$(snapshot)
err=$(must_fail import_image "$dir/files.tar")
assert_contains "$err" "Layer $layer: unpacks to more than 64 MiB (limit storage.conf max-layer-size)" "the refusal"
assert_eq "$before" "$(snapshot)" "the store after the refused import"
must_fail $PEAPOD image inspect "localhost/$PFX-files:latest" >/dev/null

say "the same image within the limits imports (the limit refused it, nothing else)"
echo '{"max-layer-size": "1G", "max-layer-inodes": 100}' >/etc/peapod/storage.conf
import_image "$dir/files.tar" >/dev/null
$PEAPOD image inspect "localhost/$PFX-files:latest" >/dev/null
$PEAPOD image rm "localhost/$PFX-files:latest" >/dev/null
$PEAPOD image gc >/dev/null

say "too few inodes allowed: refused the same way"
echo '{"max-layer-inodes": 4}' >/etc/peapod/storage.conf
before=$(snapshot)
err=$(must_fail import_image "$dir/files.tar")
assert_contains "$err" "creates more than 4 inodes (limit storage.conf max-layer-inodes)" "the inode refusal"
assert_eq "$before" "$(snapshot)" "the store after the refused import"

say "a broken storage.conf refuses imports, with the reason"
echo '{"max-layer-size": 0}' >/etc/peapod/storage.conf
err=$(must_fail import_image "$dir/files.tar")
assert_contains "$err" "storage.conf" "broken storage.conf"
assert_eq "$before" "$(snapshot)" "the store after the refused import"

say "with the defaults: a layer declaring 17 GiB is refused at its header"
rm -f /etc/peapod/storage.conf
err=$(must_fail import_image "$dir/huge.tar")
assert_contains "$err" "Layer $huge: unpacks to more than 16 GiB (limit storage.conf max-layer-size)" "the default limit"
assert_eq "$before" "$(snapshot)" "the store after the refused import"
[ -z "$(find "$STORE/blobs/sha256" "$STORE/layers" -maxdepth 1 -name '.tmp-*')" ] || fail "temp files left"
