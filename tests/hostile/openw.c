/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tries to open host kernel files for writing, and never writes (meant for
 * fly pods, which see the host's /proc and /sys): whether an open for
 * writing succeeds is what decides whether a write could, and a write to
 * /proc/sysrq-trigger or kernel.core_pattern would act on the host that
 * runs the test.
 *
 *   openw PATH...
 *       open(PATH, O_WRONLY) each, then close; prints "PATH open=OK" or
 *       "PATH open=<errno name>" (EROFS, EACCES, ENOENT, ...) per line.
 *       Exit 2 when any open succeeded, 0 when all were refused, 1 on a
 *       usage error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        int ret = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: openw PATH...\n");
                return 1;
        }
        for (int i = 1; i < argc; i++) {
                /* O_NOCTTY: never a controlling terminal; no O_CREAT or
                 * O_TRUNC: nothing changes, even where the open succeeds. */
                int fd = open(argv[i], O_WRONLY | O_NOCTTY | O_CLOEXEC);

                if (fd < 0) {
                        const char *name = strerrorname_np(errno);
                        printf("%s open=%s\n", argv[i], name ?: "unknown");
                        continue;
                }
                close(fd);
                printf("%s open=OK\n", argv[i]);
                ret = 2;
        }
        return ret;
}
