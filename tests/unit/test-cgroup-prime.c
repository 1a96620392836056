/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The priming of cgroup migrations (cgroup-prime.h) runs in one thread for
 * as long as any start or stop holds it, and no longer: a thread left
 * behind would keep the host's forks and exits on the rwsem's slower path
 * and move peapodd every few milliseconds for nothing. Skipped where there
 * is nothing to prime (no unified hierarchy, or not allowed to write our
 * own cgroup.procs). */
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-prime.h"
#include "tests.h"

static int n_threads(void) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *de;
        int n = 0;

        ASSERT_TRUE(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

/* Waits (5 s at most) until we have n threads. */
static void wait_threads(int n) {
        for (int i = 0; i < 5000 && n_threads() != n; i++)
                (void) nanosleep(&(struct timespec) { .tv_nsec = 1000 * 1000 }, NULL);
        if (n_threads() != n) {
                fprintf(stderr, "%d threads, expected %d\n", n_threads(), n);
                exit(EXIT_FAILURE);
        }
}

int main(void) {
        ASSERT_TRUE(n_threads() == 1);
        if (!cgroup_prime_hold())
                return EXIT_TEST_SKIP;
        wait_threads(2);

        /* A second hold (another start beside the first) shares the thread;
         * it runs on while either holds. */
        ASSERT_TRUE(cgroup_prime_hold());
        cgroup_prime_release();
        (void) nanosleep(&(struct timespec) { .tv_nsec = 50 * 1000 * 1000 }, NULL);
        ASSERT_TRUE(n_threads() == 2);

        /* The last release ends it. */
        cgroup_prime_release();
        wait_threads(1);

        /* And a later hold starts it again. */
        ASSERT_TRUE(cgroup_prime_hold());
        wait_threads(2);
        cgroup_prime_release();
        wait_threads(1);
        return 0;
}
