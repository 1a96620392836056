/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/sendfile.h>

#include "macro.h"
#include "memfd-util.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define MEMFD_EXEC_COPY_MAX (64U * 1024 * 1024)

int memfd_exec_copy(int src, const struct stat *st, const char *name) {
        _cleanup_close_ int mfd = -EBADF;
        off_t copied = 0;

        if (!S_ISREG(st->st_mode) || st->st_size <= 0 || (uint64_t) st->st_size > MEMFD_EXEC_COPY_MAX)
                return -EBADF;
        /* MFD_EXEC: since Linux 6.3, vm.memfd_noexec=1 makes memfds
         * non-executable unless asked for; older kernels refuse the flag
         * (EINVAL) and every memfd is executable there. */
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
        if (fcntl(mfd, F_ADD_SEALS, MEMFD_EXEC_SEALS) < 0)
                return -errno;
        return TAKE_FD(mfd);
}
