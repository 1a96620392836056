/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tries to kill a process it does not own (meant for fly pods, which share
 * the host's PID namespace).
 *
 *   sigkill PID
 *       kill(PID, SIGKILL); when refused, takes PID's real uid (read from
 *       /proc/PID/status) with setresuid() and tries again, as its owner.
 *       Prints "kill=OK|EPERM|<errno>", then, after a refusal,
 *       "setuid=OK|EPERM|<errno>" and "kill-as-owner=...". Exit 2 when a
 *       signal was delivered, 0 when every attempt was refused, 1 on a
 *       usage error. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *result(int r, int err) {
        return r >= 0 ? "OK" : err == EPERM ? "EPERM" : strerror(err);
}

static long owner_of(pid_t pid) {
        char path[64], line[256];
        long uid = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "Uid: %ld", &uid) == 1)
                        break;
        fclose(f);
        return uid;
}

int main(int argc, char *argv[]) {
        pid_t pid;
        long uid;
        int r;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc != 2 || (pid = (pid_t) atoi(argv[1])) <= 1) {
                fprintf(stderr, "usage: sigkill PID\n");
                return 1;
        }
        uid = owner_of(pid);
        r = kill(pid, SIGKILL);
        printf("kill=%s\n", result(r, errno));
        if (r >= 0)
                return 2;
        if (uid < 0) {
                printf("setuid=no owner\n");
                return 0;
        }
        r = setresuid((uid_t) uid, (uid_t) uid, (uid_t) uid);
        printf("setuid=%s\n", result(r, errno));
        if (r < 0)
                return 0;
        r = kill(pid, SIGKILL);
        printf("kill-as-owner=%s\n", result(r, errno));
        return r >= 0 ? 2 : 0;
}
