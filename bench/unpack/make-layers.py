#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""make-layers.py OUTDIR: three layers (~100 MB unpacked in all) of a
made-up image, deterministic (fixed seed, fixed times), written as
layer{1,2,3}.tar plus .tar.gz and .tar.zst (when the zstd program exists).

layer1: a "base OS": ~60 MB in ~7000 files, mostly text of mixed sizes,
        directories, symlinks, hard links, a few setuid binaries.
layer2: "runtime": ~30 MB, a few big random (incompressible) files and
        ~1000 small ones.
layer3: "app": ~10 MB, ~2000 small files, whiteouts and an opaque dir."""
import gzip
import io
import os
import random
import shutil
import subprocess
import sys
import tarfile

OUT = sys.argv[1]
rng = random.Random(20240601)
WORDS = [("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))).encode()
         for _ in range(5000)]
MTIME = 1700000000


def text(size):
    out, n = [], 0
    while n < size:
        line = b" ".join(rng.choices(WORDS, k=rng.randint(3, 14))) + b"\n"
        out.append(line)
        n += len(line)
    return b"".join(out)[:size]


def size_mixed(mean):
    return max(0, min(int(rng.lognormvariate(0, 1.2) * mean), 2 * 1024 * 1024))


class Layer:
    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)
        self.dirs = set()

    def _dirs(self, path):
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.dirs:
                self.dirs.add(d)
                ti = tarfile.TarInfo(d + "/")
                ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, MTIME
                self.tar.addfile(ti)

    def file(self, path, data, mode=0o644, uid=0, gid=0):
        self._dirs(path)
        ti = tarfile.TarInfo(path)
        ti.size, ti.mode, ti.mtime, ti.uid, ti.gid = len(data), mode, MTIME, uid, gid
        self.tar.addfile(ti, io.BytesIO(data))

    def link(self, path, target, type):
        self._dirs(path)
        ti = tarfile.TarInfo(path)
        ti.type, ti.linkname, ti.mtime = type, target, MTIME
        self.tar.addfile(ti)

    def write(self, name):
        self.tar.close()
        data = self.buf.getvalue()
        with open(os.path.join(OUT, name + ".tar"), "wb") as f:
            f.write(data)
        with open(os.path.join(OUT, name + ".tar.gz"), "wb") as f:
            f.write(gzip.compress(data, compresslevel=6, mtime=0))
        if shutil.which("zstd"):
            subprocess.run(["zstd", "-q", "-f", "-3", os.path.join(OUT, name + ".tar"),
                            "-o", os.path.join(OUT, name + ".tar.zst")], check=True)
        return len(data)


def fill(layer, prefix, total, mean, ndirs, binary_share=0.1):
    """Files of mixed sizes spread over ndirs directories, written one
    directory after the other, as a tar made from a directory walk is."""
    files, n = [], 0
    while n < total:
        size = size_mixed(mean)
        files.append((rng.randrange(ndirs), size))
        n += size
    files.sort(key=lambda f: f[0])
    for i, (d, size) in enumerate(files):
        data = rng.randbytes(size) if rng.random() < binary_share else text(size)
        path = "%s/d%03d/f%05d%s" % (prefix, d, i, rng.choice([".txt", ".conf", ".so", ".py", ""]))
        layer.file(path, data, mode=rng.choice([0o644, 0o644, 0o755, 0o600]))
        if i % 50 == 0:
            layer.link(path + ".lnk", os.path.basename(path), tarfile.SYMTYPE)
        if i % 97 == 0:
            layer.link(path + ".hard", path, tarfile.LNKTYPE)
    return len(files)


l1 = Layer()
c1 = fill(l1, "usr/share", 56 << 20, 6000, 300)
for b in ("su", "passwd", "mount"):
    l1.file("usr/bin/" + b, rng.randbytes(60000), mode=0o4755)
l1.file("etc/os-release", b"ID=bench\n")
s1 = l1.write("layer1")

l2 = Layer()
for i in range(5):
    l2.file("opt/runtime/lib%d.so" % i, rng.randbytes(4 << 20), mode=0o755)
c2 = fill(l2, "opt/runtime/share", 10 << 20, 8000, 50, binary_share=0.3)
s2 = l2.write("layer2")

l3 = Layer()
c3 = fill(l3, "app", 10 << 20, 4000, 40)
for i in range(20):
    l3.file("usr/share/d%03d/.wh.f%05d.txt" % (i, i * 7), b"")
l3.file("opt/runtime/share/d001/.wh..wh..opq", b"")
s3 = l3.write("layer3")
print("layers: %d + %d + %d files, %.0f MB uncompressed" % (c1, c2, c3, (s1 + s2 + s3) / 1e6))
