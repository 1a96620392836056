/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Walks out of a chroot (meant for fly pods, whose apps are only chrooted
 * with the host's tree mounted beneath).
 *
 *   chrootout PATH
 *       chroot()s into a new subdirectory while keeping its working
 *       directory outside it, climbs with chdir("..") and chroot()s there,
 *       then looks for PATH (a file only the host has). Prints
 *       "chroot=OK|EPERM|<errno>" and, after a successful chroot,
 *       "escaped=yes|no". Exit 2 when PATH was found, 0 otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        char dir[] = "/tmp/chrootout.XXXXXX";

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc != 2) {
                fprintf(stderr, "usage: chrootout PATH\n");
                return 1;
        }
        (void) mkdir("/tmp", 01777);
        if (!mkdtemp(dir)) {
                printf("error=mkdtemp: %s\n", strerror(errno));
                return 1;
        }
        if (chroot(dir) < 0) {
                printf("chroot=%s\n", errno == EPERM ? "EPERM" : strerror(errno));
                return 0;
        }
        printf("chroot=OK\n");
        for (int i = 0; i < 64; i++)
                (void) chdir("..");
        if (chroot(".") < 0 || access(argv[1], F_OK) < 0) {
                printf("escaped=no\n");
                return 0;
        }
        printf("escaped=yes\n");
        return 2;
}
