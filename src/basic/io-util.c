/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io-util.h"

/* The one write-all loop: with send(MSG_NOSIGNAL) on a socket (as_send),
 * else pwrite() at offset or write(). */
static int loop_io(int fd, const void *buf, size_t size, off_t offset, bool as_send) {
        const char *p = buf;

        while (size > 0) {
                ssize_t k = as_send ? send(fd, p, size, MSG_NOSIGNAL)
                            : offset >= 0 ? pwrite(fd, p, size, offset) : write(fd, p, size);

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

int loop_write_at(int fd, const void *buf, size_t size, off_t offset) {
        return loop_io(fd, buf, size, offset, false);
}

int loop_send(int fd, const void *buf, size_t size) {
        return loop_io(fd, buf, size, -1, true);
}
