/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <fcntl.h>
#include <sys/stat.h>

/* The seals of an executable copy (a stage1 helper's: stage1-sealed.h,
 * src/host/sealed-copy.h): no write, no size change, no unsealing. */
#define MEMFD_EXEC_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* A memfd named name (close-on-exec, executable) holding a copy of the
 * program open at src, whose fstat() is st, sealed with MEMFD_EXEC_SEALS.
 * -EBADF for anything but a regular file of up to 64 MiB (a helper is a
 * few hundred KiB), -EIO if it shrank meanwhile, else -errno. */
int memfd_exec_copy(int src, const struct stat *st, const char *name);
