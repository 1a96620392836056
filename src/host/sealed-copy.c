/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "macro.h"
#include "sealed-copy.h"
#include "string-util.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* A helper is a few hundred KiB; anything far larger is not one. */
#define SEALED_COPY_MAX (64U * 1024 * 1024)

static bool same_file(const struct stat *a, const struct stat *b) {
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
               a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int copy_sealed(int src, const struct stat *st, const char *name) {
        _cleanup_close_ int mfd = -EBADF;
        off_t copied = 0;

        /* MFD_EXEC: since Linux 6.3, vm.memfd_noexec=1 makes memfds
         * non-executable unless asked for; older kernels refuse the flag. */
        mfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (mfd < 0 && errno == EINVAL)
                mfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return -errno;
        while (copied < st->st_size) {
                ssize_t n = sendfile(mfd, src, NULL, (size_t) (st->st_size - copied));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO; /* shrank under us */
                copied += n;
        }
        if (fcntl(mfd, F_ADD_SEALS, SEALED_COPY_SEALS) < 0)
                return -errno;
        return TAKE_FD(mfd);
}

int sealed_copy_get(SealedCopy *c, const char *path) {
        _cleanup_close_ int src = -EBADF;
        struct stat st;
        const char *name;
        char *p;
        int fd;

        if (stat(path, &st) < 0)
                return -errno;
        if (c->path && streq_ptr(c->path, path) && same_file(&c->st, &st))
                return c->fd;

        src = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (src < 0)
                return -errno;
        /* What is copied is what was opened, whatever the path names now. */
        if (fstat(src, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t) st.st_size > SEALED_COPY_MAX)
                return -EBADF;
        name = strrchr(path, '/');
        fd = copy_sealed(src, &st, name ? name + 1 : path);
        if (fd < 0)
                return fd;
        p = strdup(path);
        if (!p) {
                safe_close(fd);
                return -ENOMEM;
        }
        sealed_copy_done(c);
        *c = (SealedCopy) { .path = p, .fd = fd, .st = st };
        return c->fd;
}

void sealed_copy_done(SealedCopy *c) {
        /* Only a copy's fd: a zeroed SealedCopy holds none (not fd 0). */
        if (c->path)
                safe_close(c->fd);
        free(c->path);
        *c = SEALED_COPY_NULL;
}
