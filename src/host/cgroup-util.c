/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/magic.h>
#include <pthread.h>
#include <sys/vfs.h>

#include "cgroup-util.h"

static pthread_once_t cheap_once = PTHREAD_ONCE_INIT;
static bool cheap;

static void find_cheap(void) {
        struct statfs fs;

        cheap = statfs("/sys/fs/cgroup", &fs) >= 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

bool cgroup_cpu_accounting_is_cheap(void) {
        (void) pthread_once(&cheap_once, find_cheap);
        return cheap;
}
