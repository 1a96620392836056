/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/magic.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/vfs.h>

#include "cgroup-util.h"
#include "macro.h"

static const char * const unified_roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
static pthread_once_t unified_once = PTHREAD_ONCE_INIT;
static const char *unified_root;

static void find_unified_root(void) {
        for (size_t i = 0; i < ELEMENTSOF(unified_roots); i++) {
                struct statfs fs;

                if (statfs(unified_roots[i], &fs) >= 0 && fs.f_type == CGROUP2_SUPER_MAGIC) {
                        unified_root = unified_roots[i];
                        return;
                }
        }
}

const char *cgroup_unified_root(void) {
        (void) pthread_once(&unified_once, find_unified_root);
        return unified_root;
}

bool cgroup_cpu_accounting_is_cheap(void) {
        /* cgroup2 on /sys/fs/cgroup itself: no v1 hierarchy beside it. */
        return cgroup_unified_root() == unified_roots[0];
}
