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
 * shortest grace period seen here (6 ms), for as long as a start holds it
 * (cgroup_prime_hold() to cgroup_prime_release()). Each move takes ~0.1
 * ms, but blocks the host's forks and exits and PID 1's cgroup changes
 * while it runs: held for 200 ms after each start instead, it made a start
 * on an idle host 3-5 ms slower. PRIME_HOLD_MAX_USEC bounds a hold that is
 * never released. A stop holds it too: when the scope stops, PID 1 moves
 * what is left of it into the slice in each cgroup v1 hierarchy.
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
#include <stdbool.h>
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

#define PRIME_INTERVAL_USEC (4 * USEC_PER_MSEC)
#define PRIME_HOLD_MAX_USEC (10 * USEC_PER_SEC)

static atomic_bool priming;
static atomic_uint holds;
static _Atomic uint64_t hold_until;
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

static bool held(void) {
        return atomic_load(&holds) > 0 && now_usec(CLOCK_MONOTONIC) < atomic_load(&hold_until);
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
                if (held())
                        continue;
                /* A hold taken after the check above found priming still
                 * set and started no thread: look again once it is cleared. */
                atomic_store(&priming, false);
                if (!held() || atomic_exchange(&priming, true))
                        break;
        }
        close(fd);
        return NULL;
}

bool cgroup_prime_hold(void) {
        (void) pthread_once(&procs_path_once, find_procs_path);
        if (!procs_path)
                return false;
        atomic_fetch_add(&holds, 1);
        atomic_store(&hold_until, now_usec(CLOCK_MONOTONIC) + PRIME_HOLD_MAX_USEC);
        if (!atomic_exchange(&priming, true) && thread_run_detached(prime_thread, NULL) < 0)
                atomic_store(&priming, false);
        return true;
}

void cgroup_prime_release(void) {
        atomic_fetch_sub(&holds, 1);
}
