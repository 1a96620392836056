/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

#include "memfd-util.h"

/* A sealed in-memory copy of a program (memfd_exec_copy()), made once and
 * executed many times (SpawnOptions.exec_fd). A stage1 helper that finds
 * itself running from a copy sealed against writes, growth, shrinking and
 * unsealing skips its
 * own copy-and-re-exec (stage1/shared/stage1-sealed.h, which stays the
 * judge: a copy without those seals is copied again by the helper). One
 * copy serves every pod: nothing can change it, and a pod that reads it
 * reads what the package ships.
 *
 * The file is looked at on every use; a copy is made anew when it is
 * another file or has changed (an upgrade replaces it), so a pod never
 * runs an older helper than a direct exec would. */

/* Zeroed or SEALED_COPY_NULL: no copy yet. */
typedef struct SealedCopy {
        char *path;      /* NULL: no copy */
        int fd;
        struct stat st;  /* of the file the copy was made from */
} SealedCopy;

#define SEALED_COPY_NULL ((SealedCopy) { .fd = -EBADF })

/* The fd of the copy of path (owned by c; valid until the next call or
 * sealed_copy_done()), made or made anew as needed. c holds one program:
 * another path replaces it. -errno (not logged) when no copy can be made
 * (no such file, memfds not executable here): the caller runs the file. */
int sealed_copy_get(SealedCopy *c, const char *path);

void sealed_copy_done(SealedCopy *c);
