/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unpacking one image layer.
 *
 * The archive is hostile until proven otherwise, so libarchive only parses:
 * every file system change is made here, relative to a directory fd of the
 * destination, one path component at a time. The rules that keep the layer
 * inside its directory:
 *
 *   - A name is split into components; absolute names, "..", empty names and
 *     names over PATH_MAX (or a component over NAME_MAX) are refused, "." and
 *     empty components ("a//b") are dropped. So every name is a plain
 *     relative path below dest.
 *   - The parent directory of an entry is opened with openat2(RESOLVE_BENEATH|
 *     RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV), or, when the kernel lacks it or
 *     the path does not exist yet, component by component with O_NOFOLLOW.
 *     Either way a symlink (or a non-directory) anywhere in the parent path
 *     refuses the layer: symlinks are stored, never followed.
 *   - The last component is only ever touched with *at() calls on that
 *     parent fd that do not follow it (O_EXCL|O_NOFOLLOW, AT_SYMLINK_NOFOLLOW,
 *     linkat() without AT_SYMLINK_FOLLOW, ...).
 *   - A hard link's target goes through the same checks, so it names an
 *     earlier entry of this layer: dest starts empty and nothing resolves
 *     outside it.
 *   - A directory is never replaced (by a file, link, whiteout): an entry
 *     that would is refused. Hence an opened directory fd always still
 *     matches its path, which is what makes caching the last parent fd safe.
 *
 * dest is created mode 0700 and gets its final mode only at the end, so no
 * other user can reach a half-unpacked tree (setuid binaries included). */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <locale.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs-util.h"
#include "io-util.h"
#include "storage-conf.h"
#include "string-util.h"
#include "unpack.h"

/* OCI image spec, "Whiteouts": ".wh.NAME" removes NAME of the layers below,
 * ".wh..wh..opq" hides all of its directory's contents from below. Other
 * ".wh..wh." names are AUFS bookkeeping and carry nothing for us. */
#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"

/* Read-ahead of the compressed input; libarchive hands out data blocks up to
 * this size straight from its buffer for uncompressed layers. */
#define UNPACK_READ_BLOCK (1024 * 1024)

/* How often the free space is looked at while a file's data is written. */
#define UNPACK_FREE_CHECK_BYTES (UINT64_C(16) << 20)

typedef struct DirFixup {
        char *path; /* relative to dest, "" for dest itself */
        mode_t mode;
        struct timespec times[2];
        size_t depth;
        size_t seq;
} DirFixup;

typedef struct Unpacker {
        struct archive *archive;
        UnpackOptions limits;
        int root_fd;
        /* The directory of the last entry; most entries of a tar share the
         * parent of the one before, so this saves the path walk. */
        char *cached_path;
        int cached_fd;
        DirFixup *dirs;
        size_t n_dirs, n_dirs_alloc;
        bool root_entry_seen;
        uint64_t declared_total;
        uint64_t unchecked; /* bytes written since the free space was last checked */
        UnpackStats stats;
        const char *current; /* the archive name of the entry at hand, for messages */
        PeapodError *err;
        /* With expected_diff_id: the decompressing reader that feeds the tar
         * reader, and the hash of what it fed. */
        struct archive *inner;
        DigestContext diff_id;
        uint64_t fed;
} Unpacker;

static void unpacker_done(Unpacker *u) {
        free(u->cached_path);
        u->cached_fd = safe_close(u->cached_fd);
        u->root_fd = safe_close(u->root_fd);
        for (size_t i = 0; i < u->n_dirs; i++)
                free(u->dirs[i].path);
        free(u->dirs);
        if (u->archive)
                archive_read_free(u->archive);
        if (u->inner)
                archive_read_free(u->inner);
        digest_context_done(&u->diff_id);
}

static void uselocale_restore(locale_t *old) {
        if (*old)
                (void) uselocale(*old);
}

static void freelocalep(locale_t *l) {
        if (*l)
                freelocale(*l);
}

/* Copy an untrusted name into buf, escaping everything but printable ASCII
 * (a name with a newline or a terminal escape must not forge log lines) and
 * shortening it with "..." when it does not fit. */
static void escape_name(const char *s, char *buf, size_t size) {
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                char tmp[5];
                size_t l;

                if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
                        tmp[0] = (char) *p;
                        l = 1;
                } else
                        l = (size_t) snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
                if (n + l + 4 >= size) {
                        memcpy(buf + n, "...", 3);
                        n += 3;
                        break;
                }
                memcpy(buf + n, tmp, l);
                n += l;
        }
        buf[n] = 0;
}

/* Record why the layer is refused as "ENTRY: reason" and return r. */
_printf_(3, 4) static int unpack_fail(Unpacker *u, int r, const char *format, ...) {
        char name[200], reason[sizeof(((PeapodError *) NULL)->message) - 200 - 2];
        va_list ap;

        if (!u->err || u->err->message[0])
                return r;
        va_start(ap, format);
        (void) vsnprintf(reason, sizeof(reason), format, ap);
        va_end(ap);
        if (u->current) {
                escape_name(u->current, name, sizeof(name));
                (void) snprintf(u->err->message, sizeof(u->err->message), "%s: %s", name[0] ? name : "(empty name)", reason);
        } else
                (void) snprintf(u->err->message, sizeof(u->err->message), "%s", reason);
        return r;
}

/* A limit of storage.conf was reached: the message is about the layer (or
 * the image), not the entry that happened to cross the line. */
#define limit_fail(u, r, ...)                                           \
        ({                                                              \
                (u)->current = NULL;                                    \
                unpack_fail((u), (r), __VA_ARGS__);                     \
        })

/* Count an inode about to be created. */
static int unpack_new_inode(Unpacker *u) {
        if (u->stats.inodes >= u->limits.max_inodes)
                return limit_fail(u, -E2BIG, "creates more than %" PRIu64 " inodes (limit storage.conf "
                                  STORAGE_KEY_MAX_LAYER_INODES ")", u->limits.max_inodes);
        u->stats.inodes++;
        return 0;
}

/* Would writing need more bytes eat into the free space to keep? */
static int unpack_check_free(Unpacker *u, uint64_t need) {
        uint64_t reserve = 0;
        char b[32];
        int r;

        u->unchecked = 0;
        r = storage_check_free_space(u->root_fd, u->limits.min_free_bytes, u->limits.min_free_percent, need, &reserve);
        if (r == -ENOSPC)
                return limit_fail(u, r, "would leave less than %s free in the image store (limit storage.conf "
                                  STORAGE_KEY_MIN_FREE_SPACE ")", storage_format_size(reserve, b));
        if (r < 0)
                return unpack_fail(u, r, "cannot check the free space: %s", strerror(-r));
        return 0;
}

/* Turn an archive name into a plain relative path below dest ("" is dest
 * itself), or refuse it. Why each rule: see the top of this file. A non-final
 * component may not be a whiteout name either: overlayfs would show such a
 * directory under its literal ".wh." name, which no image means. */
static int path_normalize(Unpacker *u, const char *name, const char *what, char **ret, size_t *ret_depth) {
        _cleanup_free_ char *out = NULL;
        size_t len, n = 0, last = 0, depth = 0;
        const char *p;

        if (isempty(name))
                return unpack_fail(u, -EINVAL, "empty %s", what);
        len = strlen(name);
        if (len >= PATH_MAX)
                return unpack_fail(u, -ENAMETOOLONG, "%s longer than %d bytes", what, PATH_MAX - 1);
        /* Docker strips a leading "/"; we refuse it: no image builder writes
         * one, and a name that means "/etc/x" to one tool and "dest/etc/x"
         * to another is how a scanner and the runtime end up disagreeing. */
        if (name[0] == '/')
                return unpack_fail(u, -EINVAL, "absolute %s", what);

        out = malloc(len + 1);
        if (!out)
                return unpack_fail(u, -ENOMEM, "out of memory");
        for (p = name; *p;) {
                size_t l = strcspn(p, "/");
                const char *next = p + l + (p[l] == '/');

                if (l == 0 || (l == 1 && p[0] == '.')) {
                        p = next;
                        continue;
                }
                if (l == 2 && p[0] == '.' && p[1] == '.')
                        return unpack_fail(u, -EINVAL, "\"..\" in %s", what);
                if (l > NAME_MAX)
                        return unpack_fail(u, -ENAMETOOLONG, "component of %s longer than %d bytes", what, NAME_MAX);
                if (n > 0 && n - last >= strlen(WHITEOUT_PREFIX) && memcmp(out + last, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
                        return unpack_fail(u, -EINVAL, "whiteout name used as a directory in %s", what);
                if (n > 0)
                        out[n++] = '/';
                last = n;
                memcpy(out + n, p, l);
                n += l;
                depth++;
                p = next;
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        if (ret_depth)
                *ret_depth = depth;
        return 0;
}

/* Split "a/b/c" into "a/b" and "c" in place ("" and "c" for "c"). */
static void path_split(char *path, const char **ret_parent, const char **ret_base) {
        char *slash = strrchr(path, '/');

        if (!slash) {
                *ret_parent = "";
                *ret_base = path;
                return;
        }
        *slash = 0;
        *ret_parent = path;
        *ret_base = slash + 1;
}

/* Explain why opening component comp below dfd failed: the messages matter,
 * the outcome (refusal) is the same. */
static int fail_component(Unpacker *u, int dfd, const char *comp, const char *path, int error) {
        struct stat st;

        if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (S_ISLNK(st.st_mode))
                        return unpack_fail(u, -ELOOP, "path goes through symlink \"%s\" (in \"%s\")", comp, path);
                if (!S_ISDIR(st.st_mode))
                        return unpack_fail(u, -ENOTDIR, "path goes through non-directory \"%s\" (in \"%s\")", comp, path);
        }
        return unpack_fail(u, -error, "cannot open directory \"%s\": %s", path, strerror(error));
}

/* Open the directory path (normalized, relative to dest) without following
 * any symlink and without leaving dest. With create, missing directories are
 * made (mode 0755, owned by us: what Docker does for directories a layer
 * implies but does not list). Returns a new fd in *ret_fd. */
static int open_dir_beneath(Unpacker *u, const char *path, bool create, int *ret_fd) {
        struct open_how how = {
                .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        _cleanup_free_ char *copy = NULL;
        _cleanup_close_ int cur = -EBADF;
        char *comp, *save = NULL;
        long fd;

        /* The fast path: one syscall, the kernel enforces the rules. Any
         * failure (missing directory, old kernel, seccomp, a symlink) falls
         * through to the walk below, which decides and explains. */
        fd = syscall(SYS_openat2, u->root_fd, path, &how, sizeof(how));
        if (fd >= 0) {
                *ret_fd = (int) fd;
                return 0;
        }

        copy = strdup(path);
        if (!copy)
                return unpack_fail(u, -ENOMEM, "out of memory");
        for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
                int dfd = cur >= 0 ? cur : u->root_fd, nfd;

                /* O_NOFOLLOW: a symlink component fails (ELOOP) instead of
                 * being followed, wherever it points. */
                nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0 && errno == ENOENT && create) {
                        /* Implied directories are inodes too: a layer of
                         * deep unique paths would otherwise make thousands
                         * per entry. */
                        int k = unpack_new_inode(u);
                        if (k < 0)
                                return k;
                        if (mkdirat(dfd, comp, 0755) < 0 && errno != EEXIST)
                                return unpack_fail(u, -errno, "cannot create directory \"%s\" (in \"%s\"): %m", comp, path);
                        nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        /* Not subject to the umask: implied directories are 0755. */
                        if (nfd >= 0 && fchmod(nfd, 0755) < 0) {
                                int q = -errno;
                                safe_close(nfd);
                                return unpack_fail(u, q, "cannot set mode of \"%s\": %s", path, strerror(-q));
                        }
                }
                if (nfd < 0)
                        return fail_component(u, dfd, comp, path, errno);
                safe_close(cur);
                cur = nfd;
        }
        if (cur < 0) /* path was "": callers handle dest itself */
                return unpack_fail(u, -EINVAL, "internal error: empty directory path");
        *ret_fd = TAKE_FD(cur);
        return 0;
}

/* The parent directory fd for an entry, borrowed (owned by the cache or
 * being the root fd). Replaces the cached directory on a miss. */
static int parent_fd(Unpacker *u, const char *parent, int *ret_fd) {
        _cleanup_free_ char *copy = NULL;
        int fd, r;

        if (isempty(parent)) {
                *ret_fd = u->root_fd;
                return 0;
        }
        if (u->cached_path && streq(u->cached_path, parent)) {
                *ret_fd = u->cached_fd;
                return 0;
        }
        copy = strdup(parent);
        if (!copy)
                return unpack_fail(u, -ENOMEM, "out of memory");
        r = open_dir_beneath(u, parent, /* create= */ true, &fd);
        if (r < 0)
                return r;
        safe_close(u->cached_fd);
        free(u->cached_path);
        u->cached_fd = fd;
        u->cached_path = TAKE_PTR(copy);
        *ret_fd = fd;
        return 0;
}

/* Make the cache point at a directory just made, taking ownership of fd:
 * the entries that follow a directory entry are usually its contents. */
static void cache_dir(Unpacker *u, const char *path, int fd) {
        char *copy = strdup(path);

        if (!copy) { /* only a missed optimisation */
                safe_close(fd);
                return;
        }
        safe_close(u->cached_fd);
        free(u->cached_path);
        u->cached_fd = fd;
        u->cached_path = copy;
}

/* An entry replaces what an earlier entry of the same layer put at that
 * name (tar semantics: the last one wins), except a directory: replacing one
 * would drop what is already in it, and it would break the rule that an
 * opened directory always matches its path. */
static int make_room(Unpacker *u, int pfd, const char *base) {
        struct stat st;

        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return unpack_fail(u, -errno, "cannot inspect existing entry: %m");
        if (S_ISDIR(st.st_mode))
                return unpack_fail(u, -EISDIR, "would replace a directory");
        if (unlinkat(pfd, base, 0) < 0)
                return unpack_fail(u, -errno, "cannot replace existing entry: %m");
        return 0;
}

/* uid_t is 32 bits and (uid_t) -1 means "leave unchanged" to chown(): a
 * larger id silently truncated could become 0, so out-of-range ids are
 * refused instead. */
static int entry_owner(Unpacker *u, struct archive_entry *e, uid_t *ret_uid, gid_t *ret_gid) {
        int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);

        if (uid < 0 || uid >= (int64_t) UINT32_MAX || gid < 0 || gid >= (int64_t) UINT32_MAX)
                return unpack_fail(u, -ERANGE, "owner %" PRIi64 ":%" PRIi64 " out of range", uid, gid);
        *ret_uid = (uid_t) uid;
        *ret_gid = (gid_t) gid;
        return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ret[2]) {
        ret[0] = ret[1] = (struct timespec) { .tv_nsec = UTIME_OMIT };
        if (archive_entry_mtime_is_set(e)) {
                long ns = archive_entry_mtime_nsec(e);
                ret[1] = (struct timespec) { .tv_sec = archive_entry_mtime(e), .tv_nsec = ns >= 0 && ns < 1000000000 ? ns : 0 };
                ret[0] = ret[1];
        }
        if (archive_entry_atime_is_set(e)) {
                long ns = archive_entry_atime_nsec(e);
                ret[0] = (struct timespec) { .tv_sec = archive_entry_atime(e), .tv_nsec = ns >= 0 && ns < 1000000000 ? ns : 0 };
        }
}

/* Which extended attributes of an image we restore: user.* (the image's own
 * business) and security.capability (file capabilities: ping and friends
 * need them). Not trusted.*: overlayfs keeps its whiteout, opaque, redirect
 * and metacopy state there, so a layer carrying trusted.overlay.* could
 * forge them; the opaque marker is set by us from ".wh..wh..opq" only. Not
 * security.selinux or ACLs either: labelling and access policy belong to the
 * host. */
static bool xattr_wanted(const char *name) {
        return startswith(name, "user.") || streq(name, "security.capability");
}

static int apply_xattrs(Unpacker *u, struct archive_entry *e, int fd) {
        const char *name;
        const void *value;
        size_t size;

        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (!name || !xattr_wanted(name))
                        continue;
                if (fsetxattr(fd, name, value, size, 0) < 0) {
                        char n[100];

                        escape_name(name, n, sizeof(n));
                        return unpack_fail(u, -errno, "cannot set xattr %s: %m", n);
                }
        }
        return 0;
}

/* Owner, then mode (chown clears setuid/setgid bits, so it must come first),
 * then xattrs, then times, on an fd of the new inode. */
static int apply_metadata_fd(Unpacker *u, struct archive_entry *e, int fd, bool times) {
        struct timespec ts[2];
        uid_t uid = 0;
        gid_t gid = 0;
        int r;

        r = entry_owner(u, e, &uid, &gid);
        if (r < 0)
                return r;
        if (fchown(fd, uid, gid) < 0)
                return unpack_fail(u, -errno, "cannot set owner: %m");
        if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
                return unpack_fail(u, -errno, "cannot set mode: %m");
        r = apply_xattrs(u, e, fd);
        if (r < 0)
                return r;
        if (times) {
                entry_times(e, ts);
                if (futimens(fd, ts) < 0)
                        return unpack_fail(u, -errno, "cannot set times: %m");
        }
        return 0;
}

static int unpack_file(Unpacker *u, struct archive_entry *e, int pfd, const char *base, uint64_t size) {
        _cleanup_close_ int fd = -EBADF;
        uint64_t end = 0;
        int r;

        r = unpack_new_inode(u);
        if (r < 0)
                return r;
        /* Up front with what a large entry says it holds (a sparse file's
         * holes take no space), then again as the data comes. */
        if (size >= UNPACK_FREE_CHECK_BYTES || u->unchecked >= UNPACK_FREE_CHECK_BYTES) {
                r = unpack_check_free(u, archive_entry_sparse_count(e) > 0 ? 0 : size);
                if (r < 0)
                        return r;
        }
        /* O_EXCL|O_NOFOLLOW: we create a new inode or fail, never open what
         * is there (a symlink, a fifo, a file hard-linked elsewhere). */
        fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
                r = make_room(u, pfd, base);
                if (r < 0)
                        return r;
                fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        }
        if (fd < 0)
                return unpack_fail(u, -errno, "cannot create file: %m");

        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t off;

                r = archive_read_data_block(u->archive, &buf, &len, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        return unpack_fail(u, -EBADMSG, "%s", strna(archive_error_string(u->archive)));
                /* Blocks of a sparse file come with their offset; anything
                 * beyond the declared size (checked against the limits) is
                 * a broken archive. */
                if (off < 0 || (uint64_t) off > size || len > size - (uint64_t) off)
                        return unpack_fail(u, -EBADMSG, "data beyond the declared size");
                if (u->unchecked >= UNPACK_FREE_CHECK_BYTES) {
                        r = unpack_check_free(u, len);
                        if (r < 0)
                                return r;
                }
                r = loop_write_at(fd, buf, len, (off_t) off);
                if (r < 0)
                        return unpack_fail(u, r, "cannot write: %s", strerror(-r));
                u->unchecked += len;
                if ((uint64_t) off + len > end)
                        end = (uint64_t) off + len;
                u->stats.bytes += len;
        }
        /* A sparse file may end in a hole. */
        if (end < size && ftruncate(fd, (off_t) size) < 0)
                return unpack_fail(u, -errno, "cannot extend: %m");

        return apply_metadata_fd(u, e, fd, true);
}

static int record_dir(Unpacker *u, struct archive_entry *e, const char *path, size_t depth) {
        DirFixup *d;

        if (u->n_dirs == u->n_dirs_alloc) {
                size_t n = u->n_dirs_alloc ? u->n_dirs_alloc * 2 : 64;
                DirFixup *nd = reallocarray(u->dirs, n, sizeof(DirFixup));

                if (!nd)
                        return unpack_fail(u, -ENOMEM, "out of memory");
                u->dirs = nd;
                u->n_dirs_alloc = n;
        }
        d = &u->dirs[u->n_dirs];
        *d = (DirFixup) {
                .mode = archive_entry_perm(e) & 07777,
                .depth = depth,
                .seq = u->n_dirs,
        };
        entry_times(e, d->times);
        d->path = strdup(path);
        if (!d->path)
                return unpack_fail(u, -ENOMEM, "out of memory");
        u->n_dirs++;
        return 0;
}

/* A directory gets owner and xattrs now; mode and times at the end (a
 * read-only directory must still take its contents, and adding contents
 * changes its mtime). */
static int unpack_dir(Unpacker *u, struct archive_entry *e, int pfd, const char *path, const char *base, size_t depth) {
        _cleanup_close_ int fd = -EBADF;
        uid_t uid = 0;
        gid_t gid = 0;
        int r;

        r = entry_owner(u, e, &uid, &gid);
        if (r < 0)
                return r;
        if (pfd < 0) /* dest itself, the "./" entry */
                fd = fcntl(u->root_fd, F_DUPFD_CLOEXEC, 3);
        else {
                if (faccessat(pfd, base, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = unpack_new_inode(u);
                        if (r < 0)
                                return r;
                }
                if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
                        return unpack_fail(u, -errno, "cannot create directory: %m");
                fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOTDIR || errno == ELOOP)
                                return unpack_fail(u, -ENOTDIR, "would replace a non-directory with a directory");
                        return unpack_fail(u, -errno, "cannot open directory: %m");
                }
        }
        if (fd < 0)
                return unpack_fail(u, -errno, "cannot open directory: %m");
        if (fchown(fd, uid, gid) < 0)
                return unpack_fail(u, -errno, "cannot set owner: %m");
        r = apply_xattrs(u, e, fd);
        if (r < 0)
                return r;
        r = record_dir(u, e, path, depth);
        if (r < 0)
                return r;
        if (pfd >= 0)
                cache_dir(u, path, TAKE_FD(fd));
        return 0;
}

static int unpack_symlink(Unpacker *u, struct archive_entry *e, int pfd, const char *base) {
        const char *target = archive_entry_symlink(e);
        struct timespec ts[2];
        uid_t uid = 0;
        gid_t gid = 0;
        int r;

        /* The target is stored, never resolved here: where it points is the
         * business of whoever follows it later, inside the container. */
        if (isempty(target))
                return unpack_fail(u, -EINVAL, "symlink with an empty target");
        if (strlen(target) >= PATH_MAX)
                return unpack_fail(u, -ENAMETOOLONG, "symlink target longer than %d bytes", PATH_MAX - 1);
        r = entry_owner(u, e, &uid, &gid);
        if (r < 0)
                return r;
        r = unpack_new_inode(u);
        if (r < 0)
                return r;
        if (symlinkat(target, pfd, base) < 0) {
                if (errno != EEXIST)
                        return unpack_fail(u, -errno, "cannot create symlink: %m");
                r = make_room(u, pfd, base);
                if (r < 0)
                        return r;
                if (symlinkat(target, pfd, base) < 0)
                        return unpack_fail(u, -errno, "cannot create symlink: %m");
        }
        if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return unpack_fail(u, -errno, "cannot set owner: %m");
        entry_times(e, ts);
        if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return unpack_fail(u, -errno, "cannot set times: %m");
        return 0;
}

static int unpack_hardlink(Unpacker *u, int pfd, const char *base, const char *target_name) {
        _cleanup_free_ char *target = NULL;
        _cleanup_close_ int owned = -EBADF;
        const char *tparent, *tbase;
        int tpfd, r;

        r = path_normalize(u, target_name, "link target", &target, NULL);
        if (r < 0)
                return r;
        if (isempty(target))
                return unpack_fail(u, -EINVAL, "hard link to the layer's root");
        path_split(target, &tparent, &tbase);
        /* The target's directory is resolved like any entry's (beneath dest,
         * no symlinks), but never created: the target must be an earlier
         * entry of this layer. */
        if (isempty(tparent))
                tpfd = u->root_fd;
        else if (u->cached_path && streq(u->cached_path, tparent))
                tpfd = u->cached_fd;
        else {
                r = open_dir_beneath(u, tparent, /* create= */ false, &owned);
                if (r < 0)
                        return r;
                tpfd = owned;
        }
        /* No AT_SYMLINK_FOLLOW: if the target is a symlink, the new name is
         * a second link to the symlink itself, never to what it points at. */
        if (linkat(tpfd, tbase, pfd, base, 0) < 0) {
                if (errno != EEXIST)
                        return unpack_fail(u, -errno, "cannot hard link to \"%s\": %m", target);
                r = make_room(u, pfd, base);
                if (r < 0)
                        return r;
                if (linkat(tpfd, tbase, pfd, base, 0) < 0)
                        return unpack_fail(u, -errno, "cannot hard link to \"%s\": %m", target);
        }
        return 0;
}

static int mknod_replacing(Unpacker *u, int pfd, const char *base, mode_t mode, dev_t dev) {
        int r;

        r = unpack_new_inode(u);
        if (r < 0)
                return r;
        if (mknodat(pfd, base, mode, dev) >= 0)
                return 0;
        if (errno != EEXIST)
                return unpack_fail(u, -errno, "cannot create node: %m");
        r = make_room(u, pfd, base);
        if (r < 0)
                return r;
        if (mknodat(pfd, base, mode, dev) < 0)
                return unpack_fail(u, -errno, "cannot create node: %m");
        return 0;
}

static int unpack_fifo(Unpacker *u, struct archive_entry *e, int pfd, const char *base) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = mknod_replacing(u, pfd, base, S_IFIFO | 0600, 0);
        if (r < 0)
                return r;
        /* Opening a fifo for reading without O_NONBLOCK would wait for a
         * writer; with it, open returns at once. O_NOFOLLOW because it is a
         * name, even if we just made it. */
        fd = openat(pfd, base, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return unpack_fail(u, -errno, "cannot open fifo: %m");
        return apply_metadata_fd(u, e, fd, true);
}

static int unpack_device(Unpacker *u, struct archive_entry *e, int pfd, const char *base, mode_t type) {
        struct timespec ts[2];
        uid_t uid = 0;
        gid_t gid = 0;
        int r;

        r = entry_owner(u, e, &uid, &gid);
        if (r < 0)
                return r;
        r = mknod_replacing(u, pfd, base, type | 0600, archive_entry_rdev(e));
        if (r < 0)
                return r;
        /* A device node is never opened (that would call into its driver), so
         * it is handled by name. fchmodat() has no working "don't follow"
         * here, but the name is the node we just made in a directory that
         * only we write to (dest is 0700 and ours while unpacking). No
         * xattrs on device nodes. */
        if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return unpack_fail(u, -errno, "cannot set owner: %m");
        if (fchmodat(pfd, base, archive_entry_perm(e) & 07777, 0) < 0)
                return unpack_fail(u, -errno, "cannot set mode: %m");
        entry_times(e, ts);
        if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return unpack_fail(u, -errno, "cannot set times: %m");
        return 0;
}

static int unpack_whiteout(Unpacker *u, int pfd, const char *base) {
        const char *name;

        if (streq(base, WHITEOUT_OPAQUE)) {
                /* pfd is an O_RDONLY directory fd (the cache never holds
                 * O_PATH fds), so fsetxattr() works on it. */
                if (fsetxattr(pfd, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
                        return unpack_fail(u, -errno, "cannot mark directory opaque: %m");
                return 0;
        }
        if (startswith(base, WHITEOUT_META_PREFIX))
                return 0;
        name = base + strlen(WHITEOUT_PREFIX);
        if (isempty(name) || streq(name, ".") || streq(name, ".."))
                return unpack_fail(u, -EINVAL, "whiteout of an invalid name");
        /* overlayfs' whiteout: a character device 0/0, made even when device
         * nodes are not allowed (it cannot reach any driver). */
        return mknod_replacing(u, pfd, name, S_IFCHR | 0000, makedev(0, 0));
}

/* The entry's declared size, counted against the layer's, the entry's and
 * the image's limits: the declared size counts even for entries whose data
 * we skip (libarchive still has to decompress it). */
static int unpack_entry_account(Unpacker *u, struct archive_entry *e, uint64_t *ret_size) {
        uint64_t size = 0;

        if (archive_entry_size_is_set(e)) {
                int64_t s = archive_entry_size(e);

                if (s < 0)
                        return unpack_fail(u, -EBADMSG, "negative size");
                size = (uint64_t) s;
        }
        /* The layer's limit first: it is the one an operator can change. */
        if (size > u->limits.max_total_size - u->declared_total) {
                char b[32];

                return limit_fail(u, -EFBIG, "unpacks to more than %s (limit storage.conf " STORAGE_KEY_MAX_LAYER_SIZE ")",
                                  storage_format_size(u->limits.max_total_size, b));
        }
        if (size > u->limits.max_entry_size)
                return unpack_fail(u, -EFBIG, "size %" PRIu64 " over the limit of %" PRIu64, size, u->limits.max_entry_size);
        u->declared_total += size;
        if (u->limits.budget && size > 0) {
                uint64_t before = atomic_fetch_add(&u->limits.budget->used, size);
                char b[32];

                /* Counted even when refused: the other layers of the
                 * image then stop too. */
                if (before > u->limits.budget->max_size || size > u->limits.budget->max_size - before)
                        return limit_fail(u, -EFBIG, "the image unpacks to more than %s (limit storage.conf "
                                          STORAGE_KEY_MAX_IMAGE_SIZE ")", storage_format_size(u->limits.budget->max_size, b));
        }
        *ret_size = size;
        return 0;
}

static int unpack_entry(Unpacker *u, struct archive_entry *e) {
        _cleanup_free_ char *path = NULL;
        const char *parent, *base, *hardlink;
        uint64_t size = 0;
        size_t depth;
        mode_t type;
        int pfd = -EBADF, r;

        u->current = archive_entry_pathname(e);
        if (!u->current)
                return unpack_fail(u, -EINVAL, "entry without a usable name");

        /* Limits first, before anything is created or any data read. */
        r = unpack_entry_account(u, e, &size);
        if (r < 0)
                return r;

        r = path_normalize(u, u->current, "name", &path, &depth);
        if (r < 0)
                return r;
        hardlink = archive_entry_hardlink(e);
        type = archive_entry_filetype(e);

        if (isempty(path)) {
                /* "./": dest itself. Only its metadata can be set. */
                if (hardlink || type != AE_IFDIR)
                        return unpack_fail(u, -EINVAL, "the layer's root is not a directory");
                u->root_entry_seen = true;
                return unpack_dir(u, e, -EBADF, path, NULL, 0);
        }

        path_split(path, &parent, &base);
        r = parent_fd(u, parent, &pfd);
        if (r < 0)
                return r;
        /* Whiteouts go by name whatever their type says (Docker writes empty
         * regular files). */
        if (startswith(base, WHITEOUT_PREFIX))
                return unpack_whiteout(u, pfd, base);
        if (hardlink)
                return unpack_hardlink(u, pfd, base, hardlink);

        switch (type) {
        case AE_IFREG:
                return unpack_file(u, e, pfd, base, size);
        case AE_IFDIR:
                /* path_split() cut path in two; make it whole again. */
                if (base != path)
                        path[base - path - 1] = '/';
                return unpack_dir(u, e, pfd, path, base, depth);
        case AE_IFLNK:
                return unpack_symlink(u, e, pfd, base);
        case AE_IFIFO:
                return unpack_fifo(u, e, pfd, base);
        case AE_IFCHR:
        case AE_IFBLK:
                if (!u->limits.allow_devices)
                        return unpack_fail(u, -EPERM, "device nodes are not allowed");
                return unpack_device(u, e, pfd, base, type);
        default:
                return unpack_fail(u, -EBADMSG, "unsupported entry type 0%o", (unsigned) type);
        }
}

static int dir_fixup_compare(const void *a, const void *b) {
        const DirFixup *x = a, *y = b;

        /* Deepest first, so that no directory is made read-only (or
         * untraversable) before its subdirectories are done; among equals,
         * archive order, so that the last entry for a path wins. */
        if (x->depth != y->depth)
                return x->depth > y->depth ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int fixup_dirs(Unpacker *u) {
        if (u->n_dirs > 0)
                qsort(u->dirs, u->n_dirs, sizeof(DirFixup), dir_fixup_compare);
        for (size_t i = 0; i < u->n_dirs; i++) {
                DirFixup *d = &u->dirs[i];
                _cleanup_close_ int owned = -EBADF;
                int fd, r;

                u->current = d->path;
                if (isempty(d->path))
                        fd = u->root_fd;
                else {
                        r = open_dir_beneath(u, d->path, /* create= */ false, &owned);
                        if (r < 0)
                                return r;
                        fd = owned;
                }
                if (fchmod(fd, d->mode) < 0)
                        return unpack_fail(u, -errno, "cannot set mode: %m");
                if (futimens(fd, d->times) < 0)
                        return unpack_fail(u, -errno, "cannot set times: %m");
        }
        u->current = NULL;
        /* Without a "./" entry, dest gets the mode of an implied directory. */
        if (!u->root_entry_seen && fchmod(u->root_fd, 0755) < 0)
                return unpack_fail(u, -errno, "cannot set mode of the layer directory: %m");
        return 0;
}

/* The tar reader's input when the diff_id is checked: the decompressed
 * stream, hashed on its way through. */
static la_ssize_t unpack_feed(struct archive *a, void *userdata, const void **ret_buf) {
        Unpacker *u = userdata;
        la_int64_t offset;
        size_t size;
        int r;

        r = archive_read_data_block(u->inner, ret_buf, &size, &offset);
        if (r == ARCHIVE_EOF)
                return 0;
        if (r != ARCHIVE_OK) {
                archive_set_error(a, EIO, "cannot decompress layer: %s", strna(archive_error_string(u->inner)));
                return -1;
        }
        if (offset < 0 || (uint64_t) offset != u->fed) {
                archive_set_error(a, EIO, "cannot decompress layer: unexpected hole");
                return -1;
        }
        if (digest_context_update(&u->diff_id, *ret_buf, size) < 0) {
                archive_set_error(a, ENOMEM, "cannot hash layer");
                return -1;
        }
        u->fed += size;
        return (la_ssize_t) size;
}

/* Decompress with one reader (gzip, zstd or none; the "raw" format passes
 * the bytes on as they are) and parse tar with another that has no
 * decompressors of its own, so a stream compressed twice is no tar to it. */
static int unpack_open_verified(Unpacker *u, int fd) {
        struct archive_entry *entry;
        int r;

        u->inner = archive_read_new();
        if (!u->inner)
                return unpack_fail(u, -ENOMEM, "out of memory");
        if (archive_read_support_filter_gzip(u->inner) != ARCHIVE_OK ||
            archive_read_support_filter_zstd(u->inner) != ARCHIVE_OK ||
            archive_read_support_format_raw(u->inner) != ARCHIVE_OK)
                return unpack_fail(u, -EOPNOTSUPP, "libarchive lacks built-in gzip, zstd or raw support");
        if (archive_read_open_fd(u->inner, fd, UNPACK_READ_BLOCK) != ARCHIVE_OK)
                return unpack_fail(u, -EBADMSG, "cannot read layer: %s", strna(archive_error_string(u->inner)));
        r = archive_read_next_header(u->inner, &entry);
        if (r != ARCHIVE_OK)
                return unpack_fail(u, -EBADMSG, "cannot read layer: %s",
                                   r == ARCHIVE_EOF ? "empty" : strna(archive_error_string(u->inner)));
        /* One compression layer, as OCI media types have: gzip in gzip
         * only multiplies a decompression bomb. */
        if (archive_filter_count(u->inner) > 2)
                return unpack_fail(u, -EBADMSG, "layer compressed more than once");
        r = digest_context_init(&u->diff_id, DIGEST_SHA256);
        if (r < 0)
                return unpack_fail(u, r, "cannot hash layer");
        if (archive_read_support_format_tar(u->archive) != ARCHIVE_OK)
                return unpack_fail(u, -EOPNOTSUPP, "libarchive lacks tar support");
        if (archive_read_open(u->archive, u, NULL, unpack_feed, NULL) != ARCHIVE_OK)
                return unpack_fail(u, -EBADMSG, "cannot read layer: %s", strna(archive_error_string(u->archive)));
        return 0;
}

/* After the tar reader stopped at the end marker: hash what follows it
 * (the second zero block, padding to the record size), then compare. */
static int unpack_check_diff_id(Unpacker *u) {
        char a[DIGEST_STRING_MAX], b[DIGEST_STRING_MAX];
        const void *buf;
        Digest got;
        int r;

        while ((r = unpack_feed(u->archive, u, &buf)) > 0)
                ;
        if (r < 0)
                return unpack_fail(u, -EBADMSG, "%s", strna(archive_error_string(u->archive)));
        r = digest_context_final(&u->diff_id, &got);
        if (r < 0)
                return unpack_fail(u, r, "cannot hash layer");
        if (!digest_equal(&got, u->limits.expected_diff_id))
                return unpack_fail(u, -EBADMSG, "diff_id is %s, the image config says %s", digest_to_string(&got, a),
                                   digest_to_string(u->limits.expected_diff_id, b));
        return 0;
}

static int unpack_archive(Unpacker *u, int fd) {
        int64_t entry_end = 0;
        int r;

        u->archive = archive_read_new();
        if (!u->archive)
                return unpack_fail(u, -ENOMEM, "out of memory");
        if (u->limits.expected_diff_id) {
                r = unpack_open_verified(u, fd);
                if (r < 0)
                        return r;
        } else {
                /* Built-in decompressors only: with ARCHIVE_WARN libarchive
                 * would run an external gzip/zstd program, which a library
                 * must not fork. Only what OCI layers use: tar (ustar, pax,
                 * GNU), plain, gzip or zstd. */
                if (archive_read_support_filter_gzip(u->archive) != ARCHIVE_OK ||
                    archive_read_support_filter_zstd(u->archive) != ARCHIVE_OK)
                        return unpack_fail(u, -EOPNOTSUPP, "libarchive lacks built-in gzip or zstd support");
                if (archive_read_support_format_tar(u->archive) != ARCHIVE_OK)
                        return unpack_fail(u, -EOPNOTSUPP, "libarchive lacks tar support");
                if (archive_read_open_fd(u->archive, fd, UNPACK_READ_BLOCK) != ARCHIVE_OK)
                        return unpack_fail(u, -EBADMSG, "cannot read layer: %s", strna(archive_error_string(u->archive)));
        }

        for (;;) {
                struct archive_entry *e;

                u->current = NULL;
                r = archive_read_next_header(u->archive, &e);
                if (r == ARCHIVE_EOF)
                        break;
                /* ARCHIVE_WARN from the tar reader means something was
                 * ignored or only half understood (a malformed pax record,
                 * too many special headers, a name that is not UTF-8 in a
                 * pax header not marked hdrcharset=BINARY, which the pax
                 * format forbids): what we would unpack is not what another
                 * reader sees, so refuse. ARCHIVE_RETRY is a header with a
                 * bad checksum. */
                if (r != ARCHIVE_OK) {
                        u->current = NULL;
                        return unpack_fail(u, -EBADMSG, "%s%s", strna(archive_error_string(u->archive)),
                                           u->stats.entries == 0 ? "" : " (after the last good entry)");
                }
                /* One compression layer, as OCI media types have: gzip in
                 * gzip only multiplies a decompression bomb. */
                if (archive_filter_count(u->archive) > 2)
                        return unpack_fail(u, -EBADMSG, "layer compressed more than once");
                if (u->stats.entries >= u->limits.max_entries)
                        return limit_fail(u, -E2BIG, "more than %" PRIu64 " entries", u->limits.max_entries);

                r = unpack_entry(u, e);
                if (r < 0)
                        return r;
                /* Consume the rest of the entry and its padding, so that the
                 * position below is exactly where the next header starts. */
                if (archive_read_data_skip(u->archive) != ARCHIVE_OK)
                        return unpack_fail(u, -EBADMSG, "%s", strna(archive_error_string(u->archive)));
                entry_end = archive_filter_bytes(u->archive, 0);
                u->stats.entries++;
        }

        /* libarchive accepts a tar that simply stops after an entry ("some
         * writers omit the block of nulls"). Such a stream cannot be told
         * from a layer cut at a 512-byte boundary, so we insist on the
         * end-of-archive marker: at least one zero block after the last
         * entry (every tar writer in use writes two; one is enough to know
         * the writer meant to stop there). */
        u->current = NULL;
        if (archive_filter_bytes(u->archive, 0) < entry_end + 512)
                return unpack_fail(u, -EBADMSG, "truncated layer: no end-of-archive marker");
        if (u->limits.expected_diff_id)
                return unpack_check_diff_id(u);
        return 0;
}

int layer_unpack(int fd, const char *dest, const UnpackOptions *opts, UnpackStats *ret_stats, PeapodError *err) {
        _cleanup_(unpacker_done) Unpacker u = {
                .root_fd = -EBADF,
                .cached_fd = -EBADF,
                .err = err,
        };
        _cleanup_(freelocalep) locale_t c_locale = (locale_t) 0;
        _cleanup_(uselocale_restore) locale_t old_locale = (locale_t) 0;
        int r;

        if (fd < 0 || isempty(dest))
                return unpack_fail(&u, -EINVAL, "invalid arguments");

        if (opts)
                u.limits = *opts;
        if (u.limits.max_entry_size == 0)
                u.limits.max_entry_size = UNPACK_MAX_ENTRY_SIZE_DEFAULT;
        if (u.limits.max_total_size == 0)
                u.limits.max_total_size = UNPACK_MAX_TOTAL_SIZE_DEFAULT;
        if (u.limits.max_entries == 0)
                u.limits.max_entries = UNPACK_MAX_ENTRIES_DEFAULT;
        if (u.limits.max_inodes == 0)
                u.limits.max_inodes = UNPACK_MAX_INODES_DEFAULT;

        /* libarchive converts pax names (UTF-8 by definition) to the
         * charset of the current locale, with a warning when it cannot.
         * Under C.UTF-8 valid UTF-8 passes through untouched and nothing
         * else does, whatever locale the caller runs in; set it for this
         * thread, for this call. Without C.UTF-8 (glibc < 2.35 without the
         * locale installed) "C" stands in, and pax names outside ASCII are
         * then refused. */
        c_locale = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t) 0);
        if (!c_locale)
                c_locale = newlocale(LC_ALL_MASK, "C", (locale_t) 0);
        if (!c_locale)
                return unpack_fail(&u, -ENOMEM, "cannot create a locale");
        old_locale = uselocale(c_locale);
        if (!old_locale)
                return unpack_fail(&u, -EINVAL, "cannot switch locale");

        if (mkdir(dest, 0700) < 0)
                return unpack_fail(&u, -errno, "cannot create %s: %m", dest);
        u.root_fd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (u.root_fd < 0)
                r = unpack_fail(&u, -errno, "cannot open %s: %m", dest);
        else {
                r = unpack_check_free(&u, 0);
                if (r >= 0)
                        r = unpack_archive(&u, fd);
                if (r >= 0)
                        r = fixup_dirs(&u);
        }
        if (r < 0) {
                /* rm_rf() does not follow symlinks and stays on dest's file
                 * system, so whatever the layer made cannot steer it. */
                u.cached_fd = safe_close(u.cached_fd);
                u.root_fd = safe_close(u.root_fd);
                (void) rm_rf(dest);
                return r;
        }
        if (ret_stats)
                *ret_stats = u.stats;
        return 0;
}

static void archive_read_freep(struct archive **a) {
        if (*a)
                (void) archive_read_free(*a);
}

int layer_decompress(int fd, int (*write)(const void *data, size_t size, void *userdata), void *userdata,
                     PeapodError *err) {
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        struct archive_entry *entry;
        uint64_t done = 0;
        int r;

        if (fd < 0 || !write)
                return -EINVAL;
        a = archive_read_new();
        if (!a)
                return -ENOMEM;
        /* The same decompressors as unpack_archive(), and the "raw" format:
         * the decompressed bytes as they are, whatever they contain. */
        if (archive_read_support_filter_gzip(a) != ARCHIVE_OK || archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
            archive_read_support_format_raw(a) != ARCHIVE_OK)
                return peapod_error_set(err, -EOPNOTSUPP, "libarchive lacks built-in gzip, zstd or raw support");
        if (archive_read_open_fd(a, fd, UNPACK_READ_BLOCK) != ARCHIVE_OK)
                return peapod_error_set(err, -EBADMSG, "cannot read layer: %s", strna(archive_error_string(a)));
        r = archive_read_next_header(a, &entry);
        if (r == ARCHIVE_EOF)
                return peapod_error_set(err, -EBADMSG, "empty layer");
        if (r != ARCHIVE_OK)
                return peapod_error_set(err, -EBADMSG, "cannot read layer: %s", strna(archive_error_string(a)));
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t offset;

                r = archive_read_data_block(a, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        return peapod_error_set(err, -EBADMSG, "cannot decompress layer: %s", strna(archive_error_string(a)));
                if (offset < 0 || (uint64_t) offset != done)
                        return peapod_error_set(err, -EBADMSG, "cannot decompress layer: unexpected hole");
                r = write(buf, size, userdata);
                if (r < 0)
                        return r;
                done += size;
        }
        return 0;
}
