/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sealed copies of a program (sealed-copy.h), made once and executed from
 * (SpawnOptions.exec_fd): the copy is the file's content under every seal,
 * kept while the file stays the same and made anew when it is replaced or
 * changed, and what a spawn with it runs is the copy, not the file. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "sealed-copy.h"
#include "string-util.h"
#include "strv.h"
#include "subprocess.h"
#include "tests.h"

static char dir[] = "/tmp/test-sealed-copy.XXXXXX";

static void write_file(const char *path, const char *text) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(write(fd, text, strlen(text)) == (ssize_t) strlen(text));
}

static void assert_copy_holds(int fd, const char *text) {
        char buf[256] = {};
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

        ASSERT_TRUE(n == (ssize_t) strlen(text));
        ASSERT_STREQ(buf, text);
}

TEST(copy) {
        SealedCopy c = SEALED_COPY_NULL;
        char path[sizeof(dir) + 16], other[sizeof(dir) + 16];
        struct stat st;
        int fd, fd2;

        snprintf(path, sizeof(path), "%s/prog", dir);
        snprintf(other, sizeof(other), "%s/prog.new", dir);
        write_file(path, "one");
        fd = sealed_copy_get(&c, path);
        ASSERT_OK(fd);
        assert_copy_holds(fd, "one");
        /* Every seal: no write, no size change, no unsealing. */
        ASSERT_TRUE((fcntl(fd, F_GET_SEALS) & MEMFD_EXEC_SEALS) == MEMFD_EXEC_SEALS);
        ASSERT_TRUE(pwrite(fd, "x", 1, 0) < 0 && errno == EPERM);
        ASSERT_TRUE(ftruncate(fd, 1) < 0 && errno == EPERM);
        ASSERT_TRUE(fcntl(fd, F_ADD_SEALS, 0) < 0 && errno == EPERM);
        ASSERT_TRUE(fstat(fd, &st) >= 0 && (st.st_mode & 0111));

        /* The same file: the same copy. */
        ASSERT_TRUE(sealed_copy_get(&c, path) == fd);

        /* Replaced, as an upgrade does: a new copy of the new file. */
        write_file(other, "two!");
        ASSERT_TRUE(rename(other, path) >= 0);
        fd2 = sealed_copy_get(&c, path);
        ASSERT_OK(fd2);
        assert_copy_holds(fd2, "two!");
        ASSERT_TRUE(fcntl(fd, F_GETFD) < 0); /* the old one is closed */

        /* Changed in place, same size: a new copy too (mtime, ctime). */
        {
                struct timespec later[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = st.st_mtim.tv_sec + 10 } };

                write_file(path, "tw0!");
                ASSERT_TRUE(utimensat(AT_FDCWD, path, later, 0) >= 0);
        }
        fd = sealed_copy_get(&c, path);
        ASSERT_OK(fd);
        assert_copy_holds(fd, "tw0!");

        /* Gone: an error, and the copy held stays as it was. */
        ASSERT_TRUE(unlink(path) >= 0);
        ASSERT_ERR(sealed_copy_get(&c, path), ENOENT);
        assert_copy_holds(c.fd, "tw0!");

        /* Not a regular file. */
        ASSERT_ERR(sealed_copy_get(&c, dir), EBADF);

        sealed_copy_done(&c);
        ASSERT_TRUE(c.path == NULL && c.fd < 0);
        /* A zeroed one holds nothing: done closes no fd 0. */
        {
                _cleanup_close_ int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                int saved = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);

                ASSERT_TRUE(null >= 0 && dup2(null, STDIN_FILENO) == STDIN_FILENO);
                c = (SealedCopy) {};
                sealed_copy_done(&c);
                ASSERT_TRUE(fcntl(STDIN_FILENO, F_GETFD) >= 0);
                if (saved >= 0) {
                        (void) dup2(saved, STDIN_FILENO);
                        safe_close(saved);
                }
        }
}

TEST(spawn) {
        SealedCopy c = SEALED_COPY_NULL;
        SpawnResult res = {};
        int fd;

        /* A spawn with exec_fd runs the copy: its /proc/self/exe is the
         * memfd, not /bin/sh. */
        fd = sealed_copy_get(&c, "/bin/sh");
        ASSERT_OK(fd);
        ASSERT_OK(spawn_run(&(SpawnOptions) {
                                    .path = "/bin/sh",
                                    .exec_fd = fd,
                                    .argv = STRV_MAKE("sh", "-c", "readlink /proc/$$/exe"),
                                    .env = STRV_MAKE("PATH=/usr/bin:/bin"),
                                    .out_max = 200,
                            },
                            &res));
        ASSERT_TRUE(res.code == CLD_EXITED && res.status == 0);
        ASSERT_TRUE(startswith(res.out, "/memfd:sh"));
        spawn_result_done(&res);
        /* The copy is ours still, for the next spawn. */
        ASSERT_TRUE(fcntl(fd, F_GETFD) >= 0);
        sealed_copy_done(&c);
}

int main(void) {
        ASSERT_TRUE(mkdtemp(dir));
        test_copy();
        test_spawn();
        (void) rmdir(dir);
        return 0;
}
