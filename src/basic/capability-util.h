/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* The capabilities this code knows by name: 0 (CAP_CHOWN) up to 40
 * (CAP_CHECKPOINT_RESTORE). A set is a bit mask, bit n = capability n. */
#define CAPABILITY_LAST 40
#define CAPABILITY_ALL ((UINT64_C(1) << (CAPABILITY_LAST + 1)) - 1)

/* Docker's default set, which is what images are written for, without
 * NET_RAW (as podman's): CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, SETGID,
 * SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE.
 * NET_RAW would let an app forge any frame on the pod's link: ARP replies
 * claiming other pods' and the gateway's addresses, packets to the host's
 * 127.0.0.1 addressed to the gateway's MAC. A ping through ICMP echo
 * sockets needs no NET_RAW: stage1 opens them to every group of the pod's
 * network namespace (net.ipv4.ping_group_range). */
extern const uint64_t capability_default_set;

/* "CAP_CHOWN" -> 0. Upper case with the prefix, or lower case without it
 * ("chown"), as rkt and docker accept; -EINVAL for anything else. */
int capability_from_name(const char *name);
/* 0 -> "CAP_CHOWN"; NULL outside 0..CAPABILITY_LAST. */
const char *capability_to_name(int cap);

/* A comma-separated list of names into a mask. Empty names, unknown names
 * and duplicates are refused (-EINVAL), so a typo never silently keeps or
 * drops a capability. The empty string is the empty set. */
int capability_set_from_string(const char *s, uint64_t *ret);
/* An array of names into a mask, with the same rules. */
int capability_set_from_strv(char * const *l, uint64_t *ret);
/* The mask as "CAP_A,CAP_B" in bit order ("" for none). */
int capability_set_to_string(uint64_t set, char **ret);
