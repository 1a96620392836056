/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An app's identity and privileges: user, groups, capabilities,
 * no_new_privs and seccomp. One parser of the helper options and one
 * function that applies them, shared by every stage1 program that starts
 * a process as an app (peapod-stage1-app, and peapod-stage1-exec for
 * `peapod enter`), so that a process entering an app can never get more
 * than the app itself has. See "App identity and privileges" in
 * stage1/README.md. */

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "seccomp-spec.h"
#include "stage1-credentials.h"

typedef struct Stage1Security {
        const char *user;             /* "USER[:GROUP]", NULL = stay uid 0 */
        char **supplementary_groups;  /* names or ids from the app's /etc/group, added to the user's */
        bool caps_set;                /* false: capabilities are left as they are (contract version 1) */
        uint64_t caps;                /* bounding, permitted, effective and inheritable set */
        bool ambient_caps;            /* a non-root user also gets caps as ambient capabilities */
        bool no_new_privs;
        SeccompSpec seccomp;          /* SECCOMP_MODE_UNCONFINED unless --seccomp= is given */
} Stage1Security;

enum {
        STAGE1_ARG_USER = 0x200,
        STAGE1_ARG_SUPPLEMENTARY_GROUPS,
        STAGE1_ARG_CAPABILITIES,
        STAGE1_ARG_AMBIENT_CAPABILITIES,
        STAGE1_ARG_NO_NEW_PRIVILEGES,
        STAGE1_ARG_SECCOMP,
};

/* Put these in a getopt_long() table and hand every option to
 * stage1_security_parse_option(). */
#define STAGE1_SECURITY_OPTIONS                                                                     \
        { "user",                 required_argument, NULL, STAGE1_ARG_USER                 },      \
        { "supplementary-groups", required_argument, NULL, STAGE1_ARG_SUPPLEMENTARY_GROUPS },      \
        { "capabilities",         required_argument, NULL, STAGE1_ARG_CAPABILITIES         },      \
        { "ambient-capabilities", required_argument, NULL, STAGE1_ARG_AMBIENT_CAPABILITIES },      \
        { "no-new-privileges",    required_argument, NULL, STAGE1_ARG_NO_NEW_PRIVILEGES    },      \
        { "seccomp",              required_argument, NULL, STAGE1_ARG_SECCOMP              }

#define STAGE1_SECURITY_HELP                                                                        \
        "     --user=USER[:GROUP]\n"                                                                \
        "                     Run as this user (id or name in the app's /etc/passwd)\n"           \
        "     --supplementary-groups=GROUP[,GROUP...]\n"                                            \
        "                     Also these groups (ids or names in the app's /etc/group)\n"         \
        "     --capabilities=CAP[,CAP...]\n"                                                        \
        "                     Exactly these capabilities (\"\" for none)\n"                       \
        "     --ambient-capabilities=yes|no\n"                                                      \
        "                     A non-root user keeps them too (as ambient capabilities)\n"         \
        "     --no-new-privileges=yes|no\n"                                                         \
        "                     Set no_new_privs (default no)\n"                                     \
        "     --seccomp=default|unconfined|mode=remove,SYSCALL...|mode=retain,SYSCALL...\n"         \
        "                     The syscall filter (default unconfined)\n"

void stage1_security_done(Stage1Security *s);

/* 1 when opt was one of STAGE1_SECURITY_OPTIONS (arg taken), 0 when not,
 * -EINVAL after logging one line about a bad value. arg must outlive s. */
int stage1_security_parse_option(Stage1Security *s, int opt, const char *arg);

/* Looks the user and the groups up in the current root's /etc/passwd and
 * /etc/group (call it after entering the app's root). Logs why it failed. */
int stage1_security_resolve(const Stage1Security *s, Credentials *ret);

/* The capability bounding set of the calling process, as a mask. */
uint64_t stage1_bounding_set(void);

/* Makes the calling process the app: supplementary groups, gid and uid
 * (all of real, effective and saved, checked afterwards), the capability
 * sets (bounding set dropped with PR_CAPBSET_DROP, then capset(2), then
 * ambient), no_new_privs, and the seccomp filter, which is loaded last
 * (before the id switch when no_new_privs is off, since loading it needs
 * CAP_SYS_ADMIN then). Call it as root right before execve(); with creds
 * NULL the ids are not changed. Logs why it failed. */
int stage1_security_apply(const Stage1Security *s, const Credentials *creds);

/* Whether a syscall name is known to libseccomp on this machine. */
bool stage1_syscall_is_known(const char *name);

/* Writes libseccomp's pseudo filter code of spec to fd: what the filter
 * does, per architecture, for tests and for a human; the ranges of
 * syscalls newer than libseccomp that a filter with the default list
 * answers ENOSYS first are comment lines above it. */
int stage1_seccomp_export_pfc(const SeccompSpec *spec, uint64_t caps, int fd);

/* Loads the filter of spec (nothing for unconfined), as the last step of
 * stage1_security_apply() does: peapod-stage1-exec loads the app's filter
 * with it, since a filter cannot be copied from a running process. caps is
 * the app's capability bounding set: the default profile allows some calls
 * only with a capability (seccomp_default_cap_syscalls), so the same spec
 * and caps must give the same filter. Needs no_new_privs or CAP_SYS_ADMIN.
 * Logs why it failed. */
int stage1_seccomp_install(const SeccompSpec *spec, uint64_t caps);
