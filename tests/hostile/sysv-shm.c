/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A System V shared memory segment by key, to tell IPC namespaces apart
 * the way an app would notice: a segment made in one namespace exists
 * only there.
 *
 *   sysv-shm create KEY   shmget(KEY, 4096, IPC_CREAT|0600); exit 0
 *   sysv-shm find KEY     exit 0 when a segment with KEY exists here,
 *                         3 when none does (ENOENT)
 *   exit 1 on a usage error, 2 on any other failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>

int main(int argc, char *argv[]) {
        char *end;
        long key;

        if (argc != 3) {
                fprintf(stderr, "usage: sysv-shm create|find KEY\n");
                return 1;
        }
        errno = 0;
        key = strtol(argv[2], &end, 0);
        if (errno != 0 || *end || end == argv[2] || key <= 0 || key > 0x7fffffff) {
                fprintf(stderr, "bad key %s\n", argv[2]);
                return 1;
        }
        if (strcmp(argv[1], "create") == 0) {
                if (shmget((key_t) key, 4096, IPC_CREAT | 0600) < 0) {
                        fprintf(stderr, "shmget: %s\n", strerror(errno));
                        return 2;
                }
                return 0;
        }
        if (strcmp(argv[1], "find") == 0) {
                if (shmget((key_t) key, 0, 0) >= 0)
                        return 0;
                if (errno == ENOENT)
                        return 3;
                fprintf(stderr, "shmget: %s\n", strerror(errno));
                return 2;
        }
        fprintf(stderr, "usage: sysv-shm create|find KEY\n");
        return 1;
}
