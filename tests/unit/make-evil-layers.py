#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write the layers test-unpack feeds to layer_unpack().

usage: make-evil-layers.py OUTDIR SENTINEL

OUTDIR gets good.tar (+ .gz, .zst when the zstd program exists), the
"contained" layers that must unpack without escaping, and one evil-*.tar per
malicious case. SENTINEL is the absolute path of a directory outside the
destination that absolute names and symlinks aim at; the test checks it is
untouched after every case. Everything is deterministic (no time, fixed seed).
"""
import gzip
import io
import os
import random
import shutil
import struct
import subprocess
import sys
import tarfile

OUT, SENTINEL = sys.argv[1], sys.argv[2]
MTIME = 1234567890
rng = random.Random(4242)


def info(name, type=tarfile.REGTYPE, size=0, mode=0o644, uid=0, gid=0, mtime=MTIME, **kw):
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.mode, ti.uid, ti.gid, ti.mtime = type, size, mode, uid, gid, mtime
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


class Layer:
    def __init__(self, fmt=tarfile.PAX_FORMAT):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=fmt,
                                encoding="utf-8", errors="surrogateescape")

    def file(self, name, data=b"", **kw):
        self.tar.addfile(info(name, size=len(data), **kw), io.BytesIO(data))
        return self

    def dir(self, name, mode=0o755, **kw):
        self.tar.addfile(info(name, tarfile.DIRTYPE, mode=mode, **kw))
        return self

    def symlink(self, name, target, **kw):
        self.tar.addfile(info(name, tarfile.SYMTYPE, linkname=target, mode=0o777, **kw))
        return self

    def hardlink(self, name, target, **kw):
        self.tar.addfile(info(name, tarfile.LNKTYPE, linkname=target, **kw))
        return self

    def node(self, name, type, major=0, minor=0, mode=0o644):
        self.tar.addfile(info(name, type, mode=mode, devmajor=major, devminor=minor))
        return self

    def raw(self, data):
        """Append raw bytes (a hand-made header) at the current position."""
        self.tar.fileobj.write(data)
        self.tar.offset += len(data)
        return self

    def bytes(self):
        self.tar.close()
        return self.buf.getvalue()


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def header(ti, fmt=tarfile.PAX_FORMAT):
    return ti.tobuf(fmt, "utf-8", "surrogateescape")


def pax_record(key, value):
    """One pax record "LEN KEY=VALUE\\n" (LEN counts itself)."""
    body = b" " + key + b"=" + value + b"\n"
    n = len(body) + 1
    while len(str(n).encode()) + len(body) != n:
        n += 1
    return str(n).encode() + body


def pax_header(records, name=b"././@PaxHeader"):
    data = b"".join(records)
    ti = tarfile.TarInfo(name.decode())
    ti.type, ti.size, ti.mtime = tarfile.XHDTYPE, len(data), MTIME
    hdr = ti.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")
    return hdr + data + b"\0" * (-len(data) % 512)


END = b"\0" * 1024

# --- the good layer ---------------------------------------------------------
# security.capability v2: magic|effective, permitted = CAP_NET_RAW (13)
CAP = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)
big = bytes(rng.getrandbits(8) for _ in range(3 * 1024 * 1024 + 123))
good = Layer()
good.dir("./", mode=0o751)
good.dir("etc/", mtime=1000000000)
good.file("etc/hello", b"hello world\n", uid=1000, gid=1001)
good.dir("bin/", mode=0o755)
good.file("bin/su", b"#!/bin/true\n", mode=0o4755)
good.file("bin/sgid", b"sgid\n", mode=0o2711, gid=42)
good.symlink("bin/link", "../etc/hello", uid=7, gid=8)
good.symlink("abs", "/etc/passwd")
good.symlink("esc", "../../sentinel/outside")
good.hardlink("bin/hard", "etc/hello")
xattr = info("xattr", size=3)
xattr.pax_headers = {
    "SCHILY.xattr.user.foo": "bar",
    "SCHILY.xattr.trusted.overlay.opaque": "y",
    "SCHILY.xattr.security.capability": CAP.decode("latin-1"),
}
good.tar.addfile(xattr, io.BytesIO(b"cap"))
good.node("fifo", tarfile.FIFOTYPE, mode=0o640)
good.dir("ro/", mode=0o555, mtime=1000000001)
good.file("ro/file", b"inside a read-only directory\n")
good.file(".wh.gone")
good.dir("opq/")
good.file("opq/.wh..wh..opq")
good.file("opq/kept", b"kept\n")
good.file(".wh..wh.plnk")
good.file("utf8/caf\u00e9", b"utf8\n")
good.file("dup", b"one\n")
good.file("dup", b"two\n")
good.file("implied/deep/file", b"deep\n")
good.file("./dot/./slash//file", b"normalised\n")
good.file("empty")
good.file("big", big, mode=0o600)
good_bytes = good.bytes()
write("good.tar", good_bytes)
write("good.tar.gz", gzip.compress(good_bytes, mtime=0))
if shutil.which("zstd"):
    write("good.tar.zst", subprocess.run(["zstd", "-q", "-c", "-3"], input=good_bytes,
                                         stdout=subprocess.PIPE, check=True).stdout)
with open(os.path.join(OUT, "good.sha"), "w") as f:
    import hashlib
    f.write(hashlib.sha256(big).hexdigest() + "\n")

# A layer whose end marker is a single zero block: accepted (see unpack.c).
ti = info("one", size=2)
write("contained-one-zero-block.tar", header(ti) + b"x\n" + b"\0" * 510 + b"\0" * 512)
# The empty layer Docker writes: two zero blocks, nothing else.
write("contained-empty-layer.tar.gz", gzip.compress(END, mtime=0))
# A NUL inside a pax path: libarchive cuts the name at the NUL, so this is
# just "x", checked like any other name: unpacked, inside dest.
ti = info("ignored", size=0)
write("contained-nul-in-pax-path.tar",
      pax_header([pax_record(b"path", b"x\0/../../pwned")]) + header(ti, tarfile.USTAR_FORMAT) + END)

# --- the malicious layers -----------------------------------------------------
rel_sentinel = SENTINEL.lstrip("/")
evil = {}
evil["dotdot"] = Layer().file("../pwned", b"x")
evil["dotdot-nested"] = Layer().dir("a/").file("a/../../pwned", b"x")
evil["dotdot-deep"] = Layer().file("a/b/../../../../sentinel/pwned", b"x")
evil["absolute"] = Layer().file(SENTINEL + "/pwned", b"x")
evil["absolute-dir"] = Layer().dir(SENTINEL + "/pwned/")
evil["symlink-then-write"] = Layer().symlink("a", SENTINEL).file("a/pwned", b"x")
evil["symlink-root-then-write"] = Layer().symlink("a", "/").file("a/" + rel_sentinel + "/pwned", b"x")
evil["symlink-relative-then-write"] = Layer().symlink("a", "../../sentinel").file("a/pwned", b"x")
evil["symlink-chain"] = Layer().symlink("a", "b").symlink("b", "..").file("a/pwned", b"x")
evil["symlink-then-mkdir"] = Layer().symlink("a", SENTINEL).dir("a/pwned/")
evil["symlink-then-dir-entry"] = Layer().symlink("a", SENTINEL).dir("a/")
evil["symlink-then-whiteout"] = Layer().symlink("a", SENTINEL).file("a/.wh.outside")
evil["symlink-then-opaque"] = Layer().symlink("a", SENTINEL).file("a/.wh..wh..opq")
evil["symlink-then-hardlink-into"] = Layer().file("f", b"x").symlink("a", SENTINEL).hardlink("a/pwned", "f")
evil["hardlink-etc-passwd"] = Layer().hardlink("p", "/etc/passwd")
evil["hardlink-absolute-sentinel"] = Layer().hardlink("p", SENTINEL + "/outside")
evil["hardlink-dotdot"] = Layer().hardlink("p", "../../sentinel/outside")
evil["hardlink-through-symlink"] = Layer().symlink("a", SENTINEL).hardlink("p", "a/outside")
evil["hardlink-missing"] = Layer().hardlink("p", "nothing-here")
evil["hardlink-to-dir"] = Layer().dir("d/").hardlink("p", "d")
evil["char-device"] = Layer().node("null", tarfile.CHRTYPE, 1, 3)
evil["block-device"] = Layer().node("sda", tarfile.BLKTYPE, 8, 0)
evil["file-over-dir"] = Layer().dir("d/").file("d/content", b"x").file("d", b"x")
evil["symlink-over-dir"] = Layer().dir("d/").file("d/content", b"x").symlink("d", SENTINEL)
evil["whiteout-over-dir"] = Layer().dir("d/").file("d/content", b"x").file(".wh.d")
evil["dir-over-file"] = Layer().file("f", b"x").dir("f/")
evil["under-a-file"] = Layer().file("f", b"x").file("f/x", b"x")
evil["whiteout-dotdot"] = Layer().file(".wh...")
evil["whiteout-dot"] = Layer().file(".wh..")
evil["whiteout-empty"] = Layer().file(".wh.")
evil["whiteout-escape"] = Layer().file("../.wh.outside")
evil["whiteout-as-dir"] = Layer().file(".wh.x/y", b"x")
evil["empty-name"] = Layer().raw(header(info("", size=0), tarfile.USTAR_FORMAT))
evil["overlong-name"] = Layer().file("a/" * 2100 + "f", b"x")
evil["overlong-component"] = Layer().file("n" * 300, b"x")
evil["uid-out-of-range"] = Layer().file("f", b"x", uid=1 << 32)
evil["uid-minus-one"] = Layer().file("f", b"x", uid=(1 << 32) - 1)
# 1 TB declared; the test sets max_entry_size to 1 GiB. No data follows.
evil["huge-size"] = Layer().raw(header(info("huge", size=1 << 40)))
evil["huge-whiteout"] = Layer().raw(header(info(".wh.huge", size=1 << 40)))
evil["total-over-limit"] = Layer().file("a", b"a" * (1 << 20)).file("b", b"b" * (1 << 20)).file("c", b"c" * (1 << 20))
many = Layer()
for i in range(50):
    many.file("f%02d" % i, b"x")
evil["too-many-entries"] = many

for name, layer in evil.items():
    write("evil-%s.tar" % name, layer.bytes())

# --- layers over the storage.conf limits (test-unpack sets small ones) ----
# A zip bomb: 64 MiB of zeros in a ~64 KiB gzip.
bomb = Layer()
bomb.tar.addfile(info("zeros", size=64 << 20), io.BytesIO(bytes(64 << 20)))
write("limit-zip-bomb.tar.gz", gzip.compress(bomb.bytes(), mtime=0, compresslevel=9))
# Few entries, many inodes: the directories their paths imply.
deep = Layer()
for i in range(5):
    deep.file("d%d/a/b/c/d/e/f/g/file" % i, b"x")
write("limit-implied-dirs.tar", deep.bytes())
# Hard links make no inode; as many separate files do.
links, files = Layer().file("f", b"x"), Layer()
for i in range(40):
    links.hardlink("h%02d" % i, "f")
    files.file("f%02d" % i, b"x")
write("limit-hardlinks.tar", links.bytes())
write("limit-files.tar", files.bytes())
# A sparse file (pax, GNU sparse 1.0): 8 MiB declared, 4 KiB of data, the
# rest a hole. It counts with its declared size.
sparse_map = b"1\n0\n4096\n"
sparse_map += b"\0" * (-len(sparse_map) % 512)
sparse_data = bytes(rng.getrandbits(8) for _ in range(4096))
ti = info("GNUSparseFile.0/sparse", size=len(sparse_map) + len(sparse_data))
write("limit-sparse.tar",
      pax_header([pax_record(b"GNU.sparse.major", b"1"), pax_record(b"GNU.sparse.minor", b"0"),
                  pax_record(b"GNU.sparse.name", b"sparse"), pax_record(b"GNU.sparse.realsize", b"8388608")]) +
      header(ti, tarfile.USTAR_FORMAT) + sparse_map + sparse_data + END)

# Byte-level damage to good layers.
small = Layer().dir("d/").file("d/file", bytes(rng.getrandbits(8) for _ in range(100000))).bytes()
write("evil-truncated-mid-file.tar", small[:512 * 3 + 40000])
write("evil-truncated-mid-header.tar", small[:512 + 100])
end = 512 * 2 + 100000 + (-100000 % 512)   # dir header, file header, data, padding
assert small[end:end + 1024] == END and small[end - 512:end] != b"\0" * 512
write("evil-missing-end-blocks.tar", small[:end])
write("evil-truncated-gzip.tar.gz", gzip.compress(small, mtime=0)[:5000])
gz = gzip.compress(small, mtime=0)
write("evil-truncated-gzip-late.tar.gz", gz[:len(gz) * 9 // 10])
if shutil.which("zstd"):
    zs = subprocess.run(["zstd", "-q", "-c"], input=small, stdout=subprocess.PIPE, check=True).stdout
    write("evil-truncated-zstd.tar.zst", zs[:len(zs) * 9 // 10])
write("evil-gzip-of-gzip.tar.gz.gz", gzip.compress(gzip.compress(small, mtime=0), mtime=0))
write("evil-garbage.tar", bytes(rng.getrandbits(8) for _ in range(4096)))
write("evil-empty-input.tar", b"")
bad = bytearray(small)
bad[512 + 10] ^= 0x55  # a name byte of the second header: its checksum no longer matches
write("evil-bad-checksum.tar", bytes(bad))
# A pax header with a malformed record: libarchive ignores it (ARCHIVE_WARN)
# and would use the ustar name instead; a reader that honours it would not.
write("evil-malformed-pax.tar",
      pax_header([b"999 path=elsewhere\n"]) + header(info("f", size=0), tarfile.USTAR_FORMAT) + END)
# A pax path that is not UTF-8 without hdrcharset=BINARY: against the pax
# spec; libarchive warns, we refuse.
write("evil-pax-path-not-utf8.tar",
      pax_header([pax_record(b"path", b"bad\xffname")]) + header(info("f", size=0), tarfile.USTAR_FORMAT) + END)
# The same bytes declared binary are fine (see contained-binary-pax-path).
write("contained-binary-pax-path.tar",
      pax_header([pax_record(b"hdrcharset", b"BINARY"), pax_record(b"path", b"bin\xffname")]) +
      header(info("f", size=0), tarfile.USTAR_FORMAT) + END)
# A GNU long name (the 'L' header) that climbs out.
ti = info("././@LongLink", type=tarfile.GNUTYPE_LONGNAME)
longname = b"a/../../pwned\0"
ti.size = len(longname)
write("evil-gnu-longname-dotdot.tar",
      header(ti, tarfile.GNU_FORMAT) + longname + b"\0" * (-len(longname) % 512) +
      header(info("harmless", size=0), tarfile.GNU_FORMAT) + END)
