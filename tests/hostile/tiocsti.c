/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Types into whatever terminal it can reach: TIOCSTI pushes bytes into a
 * terminal's input queue, where the shell that reads that terminal next
 * takes them as typed (the kernel allows it without privileges while
 * dev.tty.legacy_tiocsti=1). Tries fds 0-2 and /dev/tty, after trying to
 * make fd 0 its controlling terminal. Prints one line per attempt and
 * exits 0. Usage: tiocsti [TEXT] (default "INJECTED-BY-POD"). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void inject(int fd, const char *what, const char *text) {
        int r = 0;

        for (const char *c = text; *c && r == 0; c++)
                r = ioctl(fd, TIOCSTI, c);
        printf("tiocsti %s: %s\n", what, r == 0 ? "pushed" : strerrorname_np(errno));
}

int main(int argc, char *argv[]) {
        char text[256];
        int fd;

        snprintf(text, sizeof(text), "%s\n", argc > 1 ? argv[1] : "INJECTED-BY-POD");
        /* A terminal that is nobody's controlling terminal yet can be
         * taken; one that is someone else's needs CAP_SYS_ADMIN. */
        if (setsid() < 0 || ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
                printf("tiocsctty: %s\n", strerrorname_np(errno));
        else
                printf("tiocsctty: taken\n");
        fflush(stdout);
        for (int i = 0; i < 3; i++) {
                char what[8];

                snprintf(what, sizeof(what), "fd%d", i);
                inject(i, what, text);
        }
        fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                printf("tiocsti /dev/tty: %s\n", strerrorname_np(errno));
        else
                inject(fd, "/dev/tty", text);
        return 0;
}
