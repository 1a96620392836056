/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The rules stage0 (peapodd, the CLI) and the stage1 helpers both apply to
 * what a client asks for: written once here, so that nothing peapodd
 * accepts when a pod is created is refused by the helper when it starts,
 * and nothing the helper refuses slips through peapodd. */

#include <stdbool.h>
#include <stddef.h>

/* A hostname, which is also the pod's machine name: machined's rule,
 * [A-Za-z0-9.-], 1..HOSTNAME_MAX, no leading '-' or '.', no "..". */
#define HOSTNAME_MAX 64
bool hostname_is_valid(const char *s);

/* An environment entry K=V: a non-empty K without '='. V may be empty or
 * hold further '='. */
bool env_assignment_is_valid(const char *s);

/* A user or a group as the stage1 helper takes it: a decimal id or a name
 * of 1..256 bytes of printable ASCII without blanks, ':' (the field
 * separator of passwd and group lines) or ',' (that of a group's member
 * list), so that no name can straddle fields. [s, s+n) need not be
 * NUL-terminated. */
#define USER_NAME_MAX 256
bool user_part_is_valid(const char *s, size_t n);
/* USER or USER:GROUP, each part as above; NULL and "" are invalid. */
bool user_spec_is_valid(const char *s);

/* A directory of an app's overlay (a lower layer, the upper or the work
 * directory), as stage0 passes it and the stage1 helper mounts it: an
 * absolute path without ',' or ':' (overlayfs splits its options at ','
 * and its lowerdir list at ':') or '\' (its escape). */
bool overlay_dir_is_valid(const char *s);
