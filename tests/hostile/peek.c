/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Run by `peapod enter` (Pod.Exec): looks for what of peapodd, which
 * spawned the exec's helper, reached it, and reports, one per line:
 *
 *   fd N TARGET      each fd it holds (but the one of its own listing)
 *   env K=V          each variable of its environment
 *   ppid N           its parent as it sees it (0: outside its PID namespace)
 *   parent-environ ERRNO|OK   whether it could read its parent's environment
 *   cgroup PATH      its cgroup (the unified hierarchy's line)
 *
 * Always exits 0; the test judges. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(void) {
        char path[300], target[4096], line[4096];
        struct dirent *de;
        DIR *d;
        FILE *f;

        d = opendir("/proc/self/fd");
        if (d) {
                while ((de = readdir(d))) {
                        ssize_t n;

                        if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
                                continue;
                        snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
                        n = readlink(path, target, sizeof(target) - 1);
                        target[n < 0 ? 0 : n] = 0;
                        printf("fd %s %s\n", de->d_name, target);
                }
                closedir(d);
        }
        for (char **e = environ; e && *e; e++)
                printf("env %s\n", *e);
        printf("ppid %d\n", (int) getppid());
        snprintf(path, sizeof(path), "/proc/%d/environ", (int) getppid());
        f = getppid() > 0 ? fopen(path, "re") : NULL;
        printf("parent-environ %s\n", f ? "OK" : getppid() <= 0 ? "no-parent" : strerrorname_np(errno) ?: "unknown");
        if (f)
                fclose(f);
        f = fopen("/proc/self/cgroup", "re");
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "0::", 3) == 0)
                        printf("cgroup %s", line + 3);
        if (f)
                fclose(f);
        return 0;
}
