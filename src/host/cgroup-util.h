/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Where the unified hierarchy (cgroup2) is mounted: /sys/fs/cgroup on a
 * host whose cgroups are all unified, /sys/fs/cgroup/unified on a hybrid
 * one, NULL on a legacy one. Looked up once. */
const char *cgroup_unified_root(void);

/* Whether systemd can account a unit's CPU time without the cpu
 * controller: only on a host whose cgroups are all unified (cgroup2 on
 * /sys/fs/cgroup; cpu.stat's usage needs no controller since Linux 4.15,
 * older than anything peapod runs on). On a legacy or hybrid host
 * CPUAccounting= puts the unit, and through its slice's members its
 * siblings, into the v1 cpu hierarchy, where systemd's every write of a
 * unit's bandwidth makes the kernel walk all the host's CPU task groups
 * (tg_set_bandwidth()): at 1000 pods, tens of ms of each pod's start.
 * systemd defaults DefaultCPUAccounting= by the same test. */
bool cgroup_cpu_accounting_is_cheap(void);
