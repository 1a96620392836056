/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "memfd-util.h"
#include "sealed-copy.h"
#include "string-util.h"

static bool same_file(const struct stat *a, const struct stat *b) {
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
               a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
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
        name = strrchr(path, '/');
        fd = memfd_exec_copy(src, &st, name ? name + 1 : path);
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
