/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Plants a socket where journald's stdout socket is on a host, in the app's
 * own root, hoping that whatever logs the app connects to it by that path:
 * the app helper's fallback stream to the system journal once journald@peapod
 * refused its stream (stage1/shared/stage1-journal.c) runs in the app's
 * mount namespace, and after the app's pivot_root() its root is the app's.
 *
 *   journal-trap PATH MARK
 *       binds a listening socket at PATH (its directories made), then
 *       leaves a child behind, detached from stdin/stdout/stderr, that
 *       accepts on it: for every connection it creates MARK and appends
 *       the first bytes it receives. Prints "planted PATH" and exits 0 once
 *       the socket listens; 1 if it could not be planted. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void mkdir_parents(const char *path) {
        char buf[sizeof(((struct sockaddr_un *) NULL)->sun_path)];

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
                *p = 0;
                (void) mkdir(buf, 0755);
                *p = '/';
        }
}

int main(int argc, char *argv[]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, null_fd;

        if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: journal-trap PATH MARK\n");
                return 1;
        }
        strcpy(sa.sun_path, argv[1]);
        mkdir_parents(argv[1]);
        (void) unlink(argv[1]);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
                printf("error=%s\n", strerror(errno));
                return 1;
        }
        fflush(stdout);
        switch (fork()) {
        case -1:
                printf("error=fork: %s\n", strerror(errno));
                return 1;
        case 0:
                /* The app's helper relays until every writer of its pipes is
                 * gone: the trap must not keep the app alive. */
                null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                for (int i = 0; i < 3; i++)
                        (void) dup2(null_fd, i);
                (void) setsid();
                for (;;) {
                        char got[256];
                        ssize_t n;
                        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC), mark;

                        if (c < 0)
                                continue;
                        n = read(c, got, sizeof(got));
                        mark = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                        if (mark >= 0) {
                                (void) !write(mark, "connected: ", 11);
                                if (n > 0)
                                        (void) !write(mark, got, (size_t) n);
                                (void) !write(mark, "\n", 1);
                                close(mark);
                        }
                        close(c);
                }
        default:
                printf("planted %s\n", argv[1]);
                return 0;
        }
}
