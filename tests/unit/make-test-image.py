#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Write an OCI layout (tag "latest") of a two-layer test image:
#   layer 1: busybox, /bin/sh, /etc/hostname, /etc/gone, /etc/keep
#   layer 2: /etc/.wh.gone (a whiteout) and /etc/motd
# usage: make-test-image.py OUT [--bad-diff-id] [--big] [--salt=TEXT] [--user=SPEC]
#   --bad-diff-id  the config names a wrong diff_id for layer 2
#   --big          layer 1 also carries 8 MiB of random data (slow to pull)
#   --salt=TEXT    layer 1 also carries /etc/salt: layers no other image shares
#   --user=SPEC    the config's User is SPEC (not "0:0"), and layer 1 also
#                  carries /etc/passwd and /etc/group with user "app" (1000:1000)
#   --symlink=NAME:TARGET  layer 1 also carries symlink NAME -> TARGET (repeatable)
#   --file=SRC:DEST  layer 1 also carries host file SRC as DEST, mode 0755
#                  (repeatable; e.g. a hostile app from tests/hostile)
#   --workdir=DIR  the config's WorkingDir is DIR (not "/etc")
#   --many=N       layer 1 also carries N small files (1 KiB each) under
#                  /many: a layer tree slow to delete
import gzip, hashlib, io, json, os, sys, tarfile

out = sys.argv[1]
bad = "--bad-diff-id" in sys.argv
big = "--big" in sys.argv
salt = next((a[len("--salt="):] for a in sys.argv if a.startswith("--salt=")), None)
user = next((a[len("--user="):] for a in sys.argv if a.startswith("--user=")), None)
workdir = next((a[len("--workdir="):] for a in sys.argv if a.startswith("--workdir=")), "/etc")
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)

def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open(f"{out}/blobs/sha256/{d}", "wb") as f:
        f.write(data)
    return "sha256:" + d

def layer(entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, link in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            if link:
                ti.type, ti.linkname = tarfile.SYMTYPE, link
                t.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o755
                t.addfile(ti, io.BytesIO(data))
    raw = raw.getvalue()
    gz = gzip.compress(raw, mtime=0)
    return {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(gz), "size": len(gz)}, \
           "sha256:" + hashlib.sha256(raw).hexdigest()

bb = open("/bin/busybox", "rb").read()
e1 = [("bin/busybox", bb, None), ("bin/sh", None, "busybox"), ("etc/hostname", b"peapod\n", None),
      ("etc/gone", b"x\n", None), ("etc/keep", b"k\n", None)]
if big:
    e1.append(("big", os.urandom(8 << 20), None))
many = next((int(a[len("--many="):]) for a in sys.argv if a.startswith("--many=")), 0)
for i in range(many):
    e1.append((f"many/{i // 1000}/{i}", os.urandom(1024), None))
if salt is not None:
    e1.append(("etc/salt", salt.encode() + b"\n", None))
if user is not None:
    e1.append(("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n", None))
    e1.append(("etc/group", b"root:x:0:\napp:x:1000:\nstaff:x:50:app\n", None))
for a in sys.argv:
    if a.startswith("--symlink="):
        name, target = a[len("--symlink="):].split(":", 1)
        e1.append((name, None, target))
    elif a.startswith("--file="):
        src, dest = a[len("--file="):].split(":", 1)
        e1.append((dest.lstrip("/"), open(src, "rb").read(), None))
l1, d1 = layer(e1)
l2, d2 = layer([("etc/.wh.gone", b"", None), ("etc/motd", b"hello\n", None)])
if bad:
    d2 = "sha256:" + "0" * 64
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin", "FOO=bar"], "WorkingDir": workdir, "User": "0:0" if user is None else user,
                             "Labels": {"org.example.test": "yes"}},
                  "rootfs": {"type": "layers", "diff_ids": [d1, d2]}}).encode()
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(cfg), "size": len(cfg)},
                "layers": [l1, l2]}).encode()
idx = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
       "digest": blob(m), "size": len(m), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
json.dump(idx, open(f"{out}/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(f"{out}/oci-layout", "w"))
# For the test: what it must find after a pull.
print(json.dumps({"config": json.loads(m)["config"]["digest"], "manifest": idx["manifests"][0]["digest"],
                  "diff_ids": [d1, d2], "layers": [l1["digest"], l2["digest"]],
                  "layer_bytes": l1["size"] + l2["size"]}))
