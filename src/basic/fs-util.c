/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "io-util.h"
#include "string-util.h"

int write_file_atomic_full(const char *path, const void *data, size_t size, mode_t mode, WriteFileFlags flags) {
        _cleanup_free_ char *tmp = NULL, *dir_copy = NULL;
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        int r;

        if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        /* Exactly the mode asked for, before any byte is written: the umask
         * may have taken from it, and a temp file left by a killed writer
         * keeps its old mode through O_CREAT (a secret written 0600 must
         * never sit in a file others can read). */
        if (fchmod(fd, mode) < 0) {
                r = -errno;
                goto fail;
        }
        r = loop_write(fd, data, size);
        if (r < 0)
                goto fail;
        if ((flags & WRITE_FILE_SYNC_DATA) && fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        if (!(flags & WRITE_FILE_SYNC_DIR))
                return 0;
        dir_copy = strdup(path);
        if (!dir_copy)
                return -ENOMEM;
        dfd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        return 0;
fail:
        (void) unlink(tmp);
        return r;
}

int read_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, alloc = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n;

                if (alloc - len < 4096) {
                        size_t na = alloc ? alloc * 2 : 4096;
                        char *nb;

                        if (na > max_size + 1)
                                na = max_size + 1;
                        if (na <= len)
                                return -EFBIG;
                        nb = realloc(buf, na + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        alloc = na;
                }
                n = read(fd, buf + len, alloc - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max_size)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = len;
        return 0;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = NULL;
        size_t n;

        /* The leaf first: where it or its parent exists (nearly always),
         * one call. Each mkdir() takes its parent directory's lock, also
         * when the name exists; walking down from / made a dozen calls
         * per path, ~120 per pod's start and removal in peapodd's loop,
         * 195 ms of it during 50 pods' churn. */
        if (mkdir(path, mode) >= 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return -errno;
        p = strdup(path);
        if (!p)
                return -ENOMEM;
        n = strlen(p);
        /* Up to the deepest ancestor that exists or could be made... */
        for (;;) {
                char *s = strrchr(p, '/');

                if (!s || s == p)
                        break;
                *s = 0;
                if (mkdir(p, mode) >= 0 || errno == EEXIST)
                        break;
                if (errno != ENOENT)
                        return -errno;
        }
        /* ... then down again, each cut put back in turn. */
        for (char *e = p + strlen(p); e < p + n; e += strlen(e)) {
                *e = '/';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
        }
        return 0;
}

static int rm_rf_at(int dfd, dev_t dev) {
        _cleanup_close_ int fd = dfd;
        DIR *d;
        struct dirent *de;
        int r = 0;

        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        while ((de = readdir(d))) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && r == 0)
                                r = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        int sub, q;

                        if (st.st_dev != dev) {
                                if (r == 0)
                                        r = -EBUSY;
                                continue;
                        }
                        sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                if (r == 0)
                                        r = -errno;
                                continue;
                        }
                        q = rm_rf_at(sub, dev);
                        if (q < 0 && r == 0)
                                r = q;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                                r = -errno;
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        }
        closedir(d);
        return r;
}

int rm_rf(const char *path) {
        struct stat st;
        int fd, r;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlink(path) < 0 ? -errno : 0;
        r = path_is_mount_point(path);
        if (r > 0)
                return -EBUSY;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = rm_rf_at(fd, st.st_dev);
        if (r < 0)
                return r;
        if (rmdir(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* A path is a mount point if it and its parent differ in mount id (statx). */
int path_is_mount_point(const char *path) {
        struct statx a, b;
        _cleanup_free_ char *parent = NULL;

        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID | STATX_TYPE, &a) < 0)
                return -errno;
        /* A file (a bind-mounted one, say) has no "..": its directory. */
        if (S_ISDIR(a.stx_mode) || !strrchr(path, '/')) {
                if (asprintf(&parent, "%s/..", path) < 0)
                        return -ENOMEM;
        } else {
                parent = strndup(path, (size_t) (strrchr(path, '/') - path));
                if (!parent)
                        return -ENOMEM;
                if (!parent[0]) {
                        free(parent);
                        parent = strdup("/");
                        if (!parent)
                                return -ENOMEM;
                }
        }
        if (statx(AT_FDCWD, parent, 0, STATX_MNT_ID, &b) < 0)
                return -errno;
        if ((a.stx_mask & STATX_MNT_ID) && (b.stx_mask & STATX_MNT_ID))
                return a.stx_mnt_id != b.stx_mnt_id;
        return a.stx_dev_major != b.stx_dev_major || a.stx_dev_minor != b.stx_dev_minor;
}

bool mount_target_is_valid(const char *s) {
        size_t n;

        if (isempty(s) || s[0] != '/')
                return false;
        n = strlen(s);
        if (n >= PATH_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return false;
        /* Each component between slashes: not empty (but a lone "/" or a
         * trailing one is fine), not "." and not "..". */
        for (const char *p = s + 1; *p;) {
                size_t l = strcspn(p, "/");

                if (l == 0 && p[0] == '/')
                        return false;
                if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p += l;
                if (*p == '/')
                        p++;
        }
        return true;
}

/* The file systems the stage1 helper mounts itself in every app. A volume
 * on them would cover what the helper masked or made read-only there
 * (/proc/sys, /proc/sysrq-trigger, /sys/firmware, ...). */
static const char *const app_reserved_targets[] = { "/proc", "/sys" };

static bool path_has_long_component(const char *s) {
        for (const char *p = s; *p;) {
                size_t l = strcspn(p, "/");

                if (l > NAME_MAX)
                        return true;
                p += l + strspn(p + l, "/");
        }
        return false;
}

int app_mount_target_check(const char *s, const char **ret_reason) {
        const char *reason = NULL;

        if (!mount_target_is_valid(s) || strchr(s, ':') || streq(s, "/"))
                reason = "an absolute path other than / without '..', '.' or ':'";
        else if (path_has_long_component(s))
                /* The helper looks the target up one component at a time. */
                reason = "a path component is longer than 255 bytes";
        else
                for (size_t i = 0; i < ELEMENTSOF(app_reserved_targets) && !reason; i++) {
                        const char *rest = startswith(s, app_reserved_targets[i]);

                        if (rest && (*rest == 0 || *rest == '/'))
                                reason = "/proc and /sys belong to the pod, no volume is mounted at or below them";
                }
        if (ret_reason)
                *ret_reason = reason;
        return reason ? -EINVAL : 0;
}

int app_mount_propagation_check(VolumePropagation p, bool no_new_privs, bool privileged, const char **ret_reason) {
        const char *reason = NULL;
        int r = -EPERM;

        if (p == VOLUME_PROPAGATION_RSLAVE && !no_new_privs && !privileged)
                reason = "propagation rslave needs no_new_privs (NoNewPrivileges) or a privileged app: a setuid or "
                         "file-capability binary the host mounts below the source would keep its power in the app "
                         "without it";
        else if (p == VOLUME_PROPAGATION_RSHARED && !privileged)
                reason = "propagation rshared (bidirectional) needs a privileged app: what the app mounts below its "
                         "target appears on the host below the source, which is the host's root's power (kubelet "
                         "allows Bidirectional for privileged containers only)";
        else if (p < 0 || p >= _VOLUME_PROPAGATION_MAX) {
                reason = "unknown propagation (private, rslave or rshared)";
                r = -EINVAL;
        }
        if (ret_reason)
                *ret_reason = reason;
        return reason ? r : 0;
}

int app_protected_path_check(const char *s, const char **ret_reason) {
        const char *reason = NULL;

        if (!mount_target_is_valid(s) || streq(s, "/"))
                reason = "an absolute path other than / without '..' or '.'";
        else if (path_has_long_component(s))
                reason = "a path component is longer than 255 bytes";
        if (ret_reason)
                *ret_reason = reason;
        return reason ? -EINVAL : 0;
}

/* What the helper makes in every app's /dev itself: a device bound over
 * one of them, or below, would replace the pod's ptys, the app's stdio or
 * the pseudo devices every program expects there. */
static const char *const app_reserved_dev_names[] = {
        "pts", "shm", "fd", "stdin", "stdout", "stderr", "ptmx", "null", "zero", "full", "random", "urandom", "tty",
};

int app_device_check(const char *host, const char *container, const char *permissions, const char **ret_reason) {
        const char *reason = NULL, *rest = NULL;

        if (!mount_target_is_valid(host) || strchr(host, ':') || endswith(host, "/"))
                reason = "the host path must be absolute, without '..', '.', ':' or a trailing '/'";
        else if (!mount_target_is_valid(container) || strchr(container, ':') || endswith(container, "/") ||
                 !(rest = startswith(container, "/dev/")) || isempty(rest))
                reason = "the container path must be below /dev, without '..', '.', ':' or a trailing '/'";
        else if (path_has_long_component(container))
                reason = "a path component is longer than 255 bytes";
        else if (isempty(permissions) || strlen(permissions) > 3 ||
                 strspn(permissions, "rwm") != strlen(permissions) ||
                 (strchr(permissions, 'r') != strrchr(permissions, 'r')) ||
                 (strchr(permissions, 'w') != strrchr(permissions, 'w')) ||
                 (strchr(permissions, 'm') != strrchr(permissions, 'm')))
                reason = "permissions must be some of 'r', 'w' and 'm', each once";
        else
                for (size_t i = 0; i < ELEMENTSOF(app_reserved_dev_names) && !reason; i++) {
                        const char *after = rest ? startswith(rest, app_reserved_dev_names[i]) : NULL;

                        if (after && (*after == 0 || *after == '/'))
                                reason = "the helper's own /dev entries (pts, shm, fd, ptmx, the stdio links, null, zero, full, "
                                         "random, urandom, tty) cannot be replaced";
                }
        if (ret_reason)
                *ret_reason = reason;
        return reason ? -EINVAL : 0;
}

bool app_workdir_is_valid(const char *s) {
        return !isempty(s) && s[0] == '/' && strlen(s) < PATH_MAX;
}
