/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "memfd-util.h"
#include "stage1-sealed.h"

extern char **environ;

int stage1_running_sealed(void) {
        _cleanup_close_ int fd = -EBADF;
        int seals;

        fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* EINVAL on anything that is not a memfd: a host file never has
         * seals, and a tmpfs file not made by memfd_create() has only
         * F_SEAL_SEAL. */
        seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0)
                return 0;
        return (seals & STAGE1_SEALS) == STAGE1_SEALS;
}

/* Returns a sealed memfd holding a copy of our own executable. */
static int sealed_copy_of_self(const char *name) {
        _cleanup_close_ int self = -EBADF;
        struct stat st;

        self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return -errno;
        if (fstat(self, &st) < 0)
                return -errno;
        return memfd_exec_copy(self, &st, name);
}

int stage1_seal_self(char *argv[]) {
        _cleanup_close_ int mfd = -EBADF;
        int r;

        r = stage1_running_sealed();
        if (r < 0)
                return log_error_errno(r, "Failed to open /proc/self/exe: %m");
        if (r == 0) {
                /* Still in the host's namespaces, running the host's file:
                 * seen only by the host and by fly apps, and holding every
                 * capability, which keeps those out of our /proc entries
                 * already. Non-dumpable too, until the exec below. */
                (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
                mfd = sealed_copy_of_self(program_invocation_short_name);
                if (mfd < 0)
                        return log_error_errno(mfd, "Failed to make a sealed copy of this program, refusing to run from the host's file: %m");
                /* Same argv and environment; returns only on failure. */
                fexecve(mfd, argv, environ);
                return log_error_errno(errno, "Failed to execute the sealed copy of this program: %m");
        }

        /* Inherited across fork(), kept across our own setresuid() (an id
         * change only ever lowers it), reset by the kernel at the exec of
         * the pod's command, which is then its own binary. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return log_error_errno(errno, "Failed to make this process non-dumpable: %m");
        /* fexecve() named us after the fd ("3"); ps and the journal show
         * the helper's name as before. */
        (void) prctl(PR_SET_NAME, program_invocation_short_name, 0, 0, 0);
        return 0;
}

void stage1_cloexec_all(void) {
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) >= 0)
                return;
        /* Before Linux 5.11: one by one, up to the limit of descriptors. */
        for (long fd = 3, max = sysconf(_SC_OPEN_MAX); fd < max; fd++) {
                int flags = fcntl((int) fd, F_GETFD);

                if (flags >= 0 && !(flags & FD_CLOEXEC))
                        (void) fcntl((int) fd, F_SETFD, flags | FD_CLOEXEC);
        }
}

static bool children_in_pod;

void stage1_children_in_pod(void) {
        children_in_pod = true;
}

int stage1_helper_main(int argc, char *argv[], int (*run)(int argc, char *argv[]), int sealed_exit) {
        int r;

        if (stage1_seal_self(argv) < 0)
                return sealed_exit;
        r = run(argc, argv);
        if (children_in_pod) {
                fflush(NULL);
                _exit(r);
        }
        return r;
}
