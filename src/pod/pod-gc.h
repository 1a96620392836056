/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "pod.h"

/* peapod gc: exited pods are removed once they have been exited for longer
 * than a grace period (rkt's gc), so that their status and logs can still
 * be read for a while. */

#define POD_GC_GRACE_DEFAULT_USEC (30ULL * 60ULL * 1000000ULL)

/* Whether p is due: exited, and exited at least grace_usec before now
 * (grace 0: every exited pod). Running, starting and created pods never are. */
bool pod_gc_is_due(const Pod *p, uint64_t now_usec, uint64_t grace_usec);

/* "30m", "1h30m", "90s", "2d", "500ms", "0" (a bare number is seconds), as
 * systemd writes time spans; at most 100 years. -EINVAL on anything else. */
int timespan_parse(const char *s, uint64_t *ret_usec);

/* At the start of the manager, before pods are loaded: deletes what no pod
 * owns in <state_dir>/pods: ".removing-<id>" directories of removals cut
 * short, and pod directories without a pod.json, durable or (in
 * <volatile_dir>/pods/<id>) current (a creation cut short before its
 * first save); mounts below them are detached first. Returns how many
 * were deleted. */
int pods_remove_leftovers(const char *state_dir, const char *volatile_dir);
/* Where a removal renames a pod's (or an app's) directory before it
 * deletes it: "<state_dir>/pods/.removing-<id>", which is no pod and which
 * pods_remove_leftovers() deletes if the removal was cut short. */
#define POD_REMOVING_PREFIX ".removing-"
int pod_removing_path(const char *state_dir, const char *id, char **ret);

/* Detaches every mount at or below path (deepest first). */
int umount_below(const char *path);
