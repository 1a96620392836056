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

/* A sysctl a pod may set (CreatePod's Sysctls, the stage1 init's
 * --sysctl=): only keys the kernel keeps per namespace, set in the pod's
 * own: net.* in its network namespace (none for a pod on the host's
 * network: there they would be the host's), kernel.shm*, kernel.msg*,
 * kernel.sem and fs.mqueue.* in its IPC namespace. Anything else
 * (kernel.core_pattern, vm.*) is the host's and refused. The key is
 * dotted, of components [A-Za-z0-9_-] (so that its path under /proc/sys
 * has no '..', no '/' of its own, nothing outside it). */
#define SYSCTL_KEY_MAX 128
#define SYSCTL_VALUE_MAX 256
#define POD_SYSCTLS_MAX 64
bool sysctl_key_is_pod_settable(const char *key, bool host_network);
/* Its value: 1..SYSCTL_VALUE_MAX bytes of printable ASCII and tabs
 * ("250 32000 32 128" for kernel.sem), no newline. */
bool sysctl_value_is_valid(const char *value);
/* KEY=VALUE, both as above. */
bool sysctl_assignment_is_valid(const char *s, bool host_network);

/* A network interface name as it goes into an iptables or ebtables
 * script (a CNI result's, a conflist's bridge): 1..15 bytes of
 * [A-Za-z0-9_.-], so that nothing that claims to be a name (a newline, a
 * blank, an option) is ever more than one. */
bool ifname_is_valid(const char *s);
