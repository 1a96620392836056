/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pays, in a thread of its own and ahead of time, the wait of the next
 * cgroup migration on the host: PID 1 moving a pod's init into its scope
 * (see cgroup-prime.c). Returns at once; does nothing while a priming is
 * under way, or where it cannot. */
void cgroup_prime_migration(void);
