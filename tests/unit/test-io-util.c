/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io-util.h"
#include "macro.h"
#include "tests.h"

int main(void) {
        static char big[1 << 20];
        char buf[16] = {};
        int p[2], fd;

        /* loop_send() on a socket whose peer is gone: -EPIPE, and no
         * SIGPIPE (still at its default here, which would end the test). */
        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p));
        ASSERT_OK(loop_send(p[0], "hello", 5));
        ASSERT_TRUE(read(p[1], buf, sizeof(buf)) == 5);
        ASSERT_TRUE(memcmp(buf, "hello", 5) == 0);
        safe_close(p[1]);
        ASSERT_ERR(loop_send(p[0], "a", 1), EPIPE);
        safe_close(p[0]);
        memset(buf, 0, sizeof(buf));

        /* EPIPE below, as a value. */
        (void) signal(SIGPIPE, SIG_IGN);
        /* More than a pipe holds at once on a non-blocking pipe: -EAGAIN,
         * not a loop forever and not success. */
        memset(big, 'x', sizeof(big));
        ASSERT_OK(pipe2(p, O_CLOEXEC | O_NONBLOCK));
        ASSERT_ERR(loop_write(p[1], big, sizeof(big)), EAGAIN);
        safe_close(p[0]);
        ASSERT_ERR(loop_write(p[1], "a", 1), EPIPE);
        safe_close(p[1]);

        fd = memfd_create("test-io-util", MFD_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(loop_write(fd, "hello world", 11));
        ASSERT_OK(loop_write(fd, "", 0));
        /* At an offset: the file position stays where it was. */
        ASSERT_OK(loop_write_at(fd, "W", 1, 6));
        ASSERT_TRUE(lseek(fd, 0, SEEK_CUR) == 11);
        ASSERT_TRUE(pread(fd, buf, sizeof(buf), 0) == 11);
        ASSERT_STREQ(buf, "hello World");
        ASSERT_ERR(loop_write(-1, "a", 1), EBADF);
        safe_close(fd);

        /* loop_read_exact(): across partial reads, and -EIO when the pipe
         * ends first. */
        memset(buf, 0, sizeof(buf));
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        ASSERT_OK(loop_write(p[1], "par", 3));
        ASSERT_OK(loop_write(p[1], "tial", 4));
        ASSERT_OK(loop_read_exact(p[0], buf, 7));
        ASSERT_STREQ(buf, "partial");
        ASSERT_OK(loop_write(p[1], "ab", 2));
        safe_close(p[1]);
        ASSERT_ERR(loop_read_exact(p[0], buf, 3), EIO);
        safe_close(p[0]);
        ASSERT_ERR(loop_read_exact(-1, buf, 1), EBADF);
        return 0;
}
