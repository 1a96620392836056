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
#include <linux/filter.h>
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

/* A seccomp filter as the kernel loads it: BPF, len 0 for none. */
typedef struct Stage1SeccompProgram {
        struct sock_filter *insns;
        size_t len;
} Stage1SeccompProgram;

void stage1_seccomp_program_done(Stage1SeccompProgram *p);

/* The architectures a filter covers (native first), at most 3. */
size_t stage1_seccomp_arches(uint32_t ret[static 3]);

/* The capabilities the filter of s looks at: the app's bounding set, the
 * calling process's when s does not set it (as stage1_security_apply()
 * leaves it then). */
uint64_t stage1_security_filter_caps(const Stage1Security *s);

/* The program of the filter of spec for caps (len 0 for unconfined), as
 * stage1_seccomp_install() loads it. Logs why it failed. */
int stage1_seccomp_program(const SeccompSpec *spec, uint64_t caps, Stage1SeccompProgram *ret);

/* Loads p (nothing when empty), as stage1_seccomp_install() does. Logs
 * why it failed. */
int stage1_seccomp_program_load(const Stage1SeccompProgram *p);

/* Makes the calling process the app: supplementary groups, gid and uid
 * (all of real, effective and saved, checked afterwards), the capability
 * sets (bounding set dropped with PR_CAPBSET_DROP, then capset(2), then
 * ambient), no_new_privs, and the seccomp filter, which is loaded last
 * (before the id switch when no_new_privs is off, since loading it needs
 * CAP_SYS_ADMIN then): prog, the program of s's filter for
 * stage1_security_filter_caps(s) made by this process or its parent
 * before it forked us, or built here when prog is NULL. Call it as root
 * right before execve(); with creds NULL the ids are not changed. Logs
 * why it failed. */
int stage1_security_apply(const Stage1Security *s, const Credentials *creds, const Stage1SeccompProgram *prog);

/* Whether a syscall name is known to libseccomp on this machine. */
bool stage1_syscall_is_known(const char *name);

/* Writes libseccomp's pseudo filter code of spec to fd: what the filter
 * does, per architecture, for tests and for a human; the ranges of
 * syscalls newer than libseccomp that a filter with the default list
 * answers ENOSYS first are comment lines above it. */
int stage1_seccomp_export_pfc(const SeccompSpec *spec, uint64_t caps, int fd);

/* Builds and loads the filter of spec (nothing for unconfined):
 * stage1_seccomp_program() then stage1_seccomp_program_load(), in one
 * (the helpers build ahead instead: stage1-seccomp-cache.c). caps is the
 * app's capability bounding set: the default profile allows some calls
 * only with a capability (seccomp_default_cap_syscalls), so the same spec
 * and caps must give the same filter; peapod-stage1-exec relies on that,
 * since a filter cannot be copied from a running process. Needs
 * no_new_privs or CAP_SYS_ADMIN. Logs why it failed. */
int stage1_seccomp_install(const SeccompSpec *spec, uint64_t caps);
