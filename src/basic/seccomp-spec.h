/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

/* An app's seccomp filter as rkt spelled it:
 *   default                        peapod's default denylist
 *   unconfined                     no filter
 *   mode=remove,NAME[,NAME...]     deny exactly these syscalls (EPERM)
 *   mode=retain,NAME[,NAME...]     allow only these syscalls (the rest EPERM)
 * A NAME is a syscall name ([a-z0-9_], at most 64 characters) or the group
 * "@default" (the default denylist). Only the syntax is checked here;
 * whether a name is a syscall of this machine needs libseccomp. */
typedef enum SeccompMode {
        SECCOMP_MODE_UNCONFINED,  /* first: a zeroed spec filters nothing */
        SECCOMP_MODE_DEFAULT,
        SECCOMP_MODE_REMOVE,
        SECCOMP_MODE_RETAIN,
        _SECCOMP_MODE_MAX,
        _SECCOMP_MODE_INVALID = -EINVAL,
} SeccompMode;

#define SECCOMP_SPEC_NAMES_MAX 512
#define SECCOMP_SPEC_NAME_MAX 64
#define SECCOMP_GROUP_DEFAULT "@default"

typedef struct SeccompSpec {
        SeccompMode mode;
        char **names;  /* REMOVE and RETAIN only, in the order given, no duplicates */
} SeccompSpec;

void seccomp_spec_done(SeccompSpec *s);

/* -EINVAL on bad syntax, an empty list, a duplicate, a group in retain
 * mode, or more than SECCOMP_SPEC_NAMES_MAX names. */
int seccomp_spec_parse(const char *s, SeccompSpec *ret);

/* The syscalls of the default profile, a denylist at least as strict as
 * docker's default profile: what reconfigures the kernel or the host
 * (modules, kexec, reboot, swap, clocks, accounting, quotas), makes or
 * enters namespaces and mounts (a container's way out), exposes kernel
 * internals (bpf, perf_event_open, keyrings, open_by_handle_at,
 * userfaultfd, io_uring), and whatever else docker's allowlist leaves out.
 * NULL-ended. */
extern const char *const seccomp_default_denylist[];

/* A syscall the default profile denies unless the app's capability set
 * has this capability (as docker's "includes": {"caps": [...]}). */
typedef struct SeccompCapSyscall {
        const char *name;
        int capability;
} SeccompCapSyscall;

/* Ends with an entry whose name is NULL. */
extern const SeccompCapSyscall seccomp_default_cap_syscalls[];
