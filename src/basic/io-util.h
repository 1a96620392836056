/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Writes all of [buf, buf+size) to fd, retrying after EINTR and partial
 * writes; at offset with pwrite() when offset >= 0 (the file position is
 * left alone then), at the file position otherwise. 0, or -errno; a write
 * of 0 bytes is -EIO, not a loop forever. On failure part of the data may
 * be written. A non-blocking fd that would block fails with -EAGAIN. */
int loop_write_at(int fd, const void *buf, size_t size, off_t offset);

static inline int loop_write(int fd, const void *buf, size_t size) {
        return loop_write_at(fd, buf, size, -1);
}

/* Reads exactly size bytes from fd into buf, retrying after EINTR and
 * partial reads: 0, -EIO when the file or pipe ended first, or -errno. */
int loop_read_exact(int fd, void *buf, size_t size);

/* The same on a socket, with send(MSG_NOSIGNAL): a peer that went away is
 * -EPIPE, never a SIGPIPE that would kill the writer. */
int loop_send(int fd, const void *buf, size_t size);
