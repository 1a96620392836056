/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Pays, in a thread of its own and ahead of time, the wait of the host's
 * cgroup migrations while a start is held: PID 1 moving a pod's init into
 * its scope and each app unit's process into its unit (see
 * cgroup-prime.c). cgroup_prime_hold() returns at once; false where
 * nothing can be primed (then no release is owed). Every true is paired
 * with one cgroup_prime_release(). */
bool cgroup_prime_hold(void);
void cgroup_prime_release(void);
