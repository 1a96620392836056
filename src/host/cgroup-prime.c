/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every cgroup migration (a write to a cgroup.procs file, in any
 * hierarchy) takes the kernel's cgroup_threadgroup_rwsem for writing. It
 * is a per-CPU rwsem: its first writer after a quiet moment waits for an
 * RCU grace period, and writers that come within about one grace period
 * after the last one do not. Measured in the lab (2 CPUs, hybrid
 * cgroups): a move after a pause took 6-18 ms, the move back right after
 * it 0.1 ms.
 *
 * A pod's start makes such moves on its critical path: PID 1 moves the
 * pod's init into the pod's scope at the scope's start job, and each app
 * unit's process into its unit (from both sides of its fork). So from the
 * beginning of a start we move ourselves into the cgroup we are in
 * already, a migration that changes nothing, in a thread: the first grace
 * period then passes while the pod is prepared (init, mounts, records, the
 * slice's job) instead of after. bench/start/trace: StartPod's systemd
 * phase 22 -> 15-16.5 ms for a --net=none pod. (A pod on a CNI network is
 * not primed: the plugins' ADDs hide the migration already, and priming
 * beside them was slower.)
 *
 * One move is not enough where PID 1 is slow to come to it: with 1000 pods
 * running, the scope's job ran 30-40 ms after the start began, the grace
 * period had long been over, and `perf trace` of PID 1 showed its write of
 * the init's pid taking 9-24 ms in every start, the app units' 4-23 ms. So
 * the thread moves us again every PRIME_INTERVAL_USEC, shorter than the
 * shortest grace period seen here (6 ms), until PRIME_HOLD_USEC after the
 * last start began. Each of these moves takes ~0.1 ms; while they go on,
 * the host's forks and exits take the rwsem's slower path (an atomic
 * counter instead of a per-CPU one), as they do after any migration.
 *
 * Only in the unified hierarchy (cgroup2: /sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on a hybrid host), which the kernel keeps for
 * every process; nothing is done on a host without one. The write names
 * our own pid in our own cgroup, so it moves nothing and systemd, which
 * owns that cgroup, sees no change in it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-login.h>

#include "cgroup-prime.h"
#include "cgroup-util.h"
#include "thread-util.h"
#include "time-util.h"

/* Long enough for a start at 1000 pods to reach its app units' moves;
 * short enough that an idle peapodd does not keep the host's forks on
 * the slower path. */
#define PRIME_HOLD_USEC (200 * USEC_PER_MSEC)
#define PRIME_INTERVAL_USEC (3 * USEC_PER_MSEC)

static atomic_bool priming;
static _Atomic uint64_t prime_until;
static pthread_once_t procs_path_once = PTHREAD_ONCE_INIT;
static char *procs_path;

static void find_procs_path(void) {
        const char *root = cgroup_unified_root();
        char *cgroup = NULL;

        if (!root || sd_pid_get_cgroup(0, &cgroup) < 0)
                return;
        if (asprintf(&procs_path, "%s%s/cgroup.procs", root, cgroup) < 0)
                procs_path = NULL;
        free(cgroup);
}

static void *prime_thread(void *userdata) {
        char pid[32];
        int fd, n;

        fd = open(procs_path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                atomic_store(&priming, false);
                return NULL;
        }
        n = snprintf(pid, sizeof(pid), "%d", (int) getpid());
        for (;;) {
                /* A failure only means the next migration waits, as before. */
                (void) !write(fd, pid, (size_t) n);
                (void) nanosleep(&(struct timespec) { .tv_nsec = PRIME_INTERVAL_USEC * 1000 }, NULL);
                if (now_usec(CLOCK_MONOTONIC) < atomic_load(&prime_until))
                        continue;
                /* A start that extended the hold after the check above
                 * finds priming still set and starts no thread: look again
                 * once it is cleared. */
                atomic_store(&priming, false);
                if (now_usec(CLOCK_MONOTONIC) >= atomic_load(&prime_until) || atomic_exchange(&priming, true))
                        break;
        }
        close(fd);
        return NULL;
}

void cgroup_prime_migration(void) {
        (void) pthread_once(&procs_path_once, find_procs_path);
        if (!procs_path)
                return;
        atomic_store(&prime_until, now_usec(CLOCK_MONOTONIC) + PRIME_HOLD_USEC);
        if (atomic_exchange(&priming, true))
                return;
        if (thread_run_detached(prime_thread, NULL) < 0)
                atomic_store(&priming, false);
}
