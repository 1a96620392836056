/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The privileges of a live process, as /proc/PID/status tells them, and
 * how to take exactly those on: what peapod-stage1-exec gives a command run
 * in an app, so that it never has more than the app (rkt's
 * CVE-2019-10144/10145/10147 were exec'd processes with more). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define IDENTITY_GROUPS_MAX 64

typedef struct Identity {
        uid_t uid[3];          /* real, effective, saved */
        gid_t gid[3];
        gid_t groups[IDENTITY_GROUPS_MAX];
        size_t n_groups;
        uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
        bool no_new_privs;
        int seccomp;           /* 0 off, 1 strict, 2 filter */
        int seccomp_filters;   /* how many filters are stacked (Linux 5.9+) */
} Identity;

/* Parses the contents of /proc/PID/status. Every field above is required
 * (a kernel without one is refused): -EBADMSG on anything missing or
 * malformed, -E2BIG on more than IDENTITY_GROUPS_MAX groups. */
int identity_parse_proc_status(const char *contents, Identity *ret);

/* Takes on id (call as root with full capabilities, just before exec):
 * the bounding set is cut to id's, then groups, gids, uids (keeping the
 * permitted set across the uid change), then the inheritable, permitted,
 * effective and ambient sets, then no-new-privs. Checked afterwards with
 * the kernel's own answer. Logs and returns -errno. Seccomp is not copied:
 * the caller checks identity_seccomp_covers() before exec. */
int identity_apply(const Identity *id);

/* Whether we (the calling process) are under at least as many seccomp
 * filters as the process id was read from. Filters are inherited and only
 * ever added: an exec helper and an app both descend from the same
 * service manager, so an app with more filters than we have runs under
 * one we lack. 1 yes, 0 no, -errno if our status cannot be read. */
int identity_seccomp_covers(const Identity *id);
