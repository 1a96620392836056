/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <unistd.h>

#include "io-util.h"

int loop_write_at(int fd, const void *buf, size_t size, off_t offset) {
        const char *p = buf;

        while (size > 0) {
                ssize_t k = offset >= 0 ? pwrite(fd, p, size, offset) : write(fd, p, size);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                size -= (size_t) k;
                if (offset >= 0)
                        offset += k;
        }
        return 0;
}
