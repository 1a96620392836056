/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage1_seal_self(): after it, the program runs from a sealed memfd that
 * nothing can write, is not dumpable, and kept its argv, environment and
 * inherited descriptors. Needs no privileges. */

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "macro.h"
#include "stage1-sealed.h"
#include "tests.h"

#define MARKER_FD 7

int main(int argc, char *argv[]) {
        _cleanup_close_ int fd = -EBADF, wfd = -EBADF;
        char exe[PATH_MAX] = "", comm[32] = "";
        ssize_t n;

        /* First run: leave something for the sealed copy to find. */
        if (!getenv("TEST_SEALED_MARKER")) {
                ASSERT_TRUE(stage1_running_sealed() == 0);
                ASSERT_TRUE(setenv("TEST_SEALED_MARKER", "1", 1) == 0);
                ASSERT_TRUE(dup2(STDERR_FILENO, MARKER_FD) == MARKER_FD);
        }
        ASSERT_OK(stage1_seal_self(argv));

        /* From here on we are the copy. */
        ASSERT_TRUE(argc == 2 && streq(argv[1], "an-argument"));
        ASSERT_TRUE(fcntl(MARKER_FD, F_GETFD) >= 0);
        ASSERT_TRUE(stage1_running_sealed() == 1);
        ASSERT_TRUE(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);

        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        ASSERT_TRUE(n > 0);
        printf("/proc/self/exe -> %s\n", exe);
        ASSERT_TRUE(strneq(exe, "/memfd:test-stage1-sealed", strlen("/memfd:test-stage1-sealed")));

        fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(read(fd, comm, sizeof(comm) - 1) > 0);
        fd = safe_close(fd);
        printf("comm: %s", comm);
        ASSERT_TRUE(strneq(comm, "test-stage1-sea", 15));

        /* What CVE-2019-5736 did to runc: write to the running binary. It
         * is executing (ETXTBSY), and sealed even if it were not. */
        wfd = open("/proc/self/exe", O_WRONLY | O_CLOEXEC);
        ASSERT_TRUE(wfd < 0 && errno == ETXTBSY);
        fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE((fcntl(fd, F_GET_SEALS) & STAGE1_SEALS) == STAGE1_SEALS);
        ASSERT_TRUE(ftruncate(fd, 0) < 0);
        ASSERT_TRUE(fcntl(fd, F_ADD_SEALS, 0) < 0 || (fcntl(fd, F_GET_SEALS) & F_SEAL_SEAL));

        /* Nothing but what we inherited on purpose crosses an exec. */
        stage1_cloexec_all();
        ASSERT_TRUE(fcntl(MARKER_FD, F_GETFD) & FD_CLOEXEC);
        printf("ok\n");
        return 0;
}
