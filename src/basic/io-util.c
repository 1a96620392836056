/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io-util.h"

typedef enum IoKind {
        IO_WRITE,       /* write(), or pwrite() at offset >= 0 */
        IO_SEND,        /* send(MSG_NOSIGNAL) */
        IO_READ,        /* read() */
} IoKind;

/* The one all-or-nothing loop over partial reads and writes. buf is only
 * read from, except for IO_READ. */
static int loop_io(int fd, void *buf, size_t size, off_t offset, IoKind kind) {
        char *p = buf;

        while (size > 0) {
                ssize_t k = kind == IO_SEND ? send(fd, p, size, MSG_NOSIGNAL)
                            : kind == IO_READ ? read(fd, p, size)
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
        return loop_io(fd, (void *) buf, size, offset, IO_WRITE);
}

int loop_send(int fd, const void *buf, size_t size) {
        return loop_io(fd, (void *) buf, size, -1, IO_SEND);
}

int loop_read_exact(int fd, void *buf, size_t size) {
        return loop_io(fd, buf, size, -1, IO_READ);
}
