/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "macro.h"

/* What a client may ask about an app's privileges and limits, checked
 * here once for the CLI and for peapodd (whose input is untrusted: these
 * are fuzzed through fuzz-app-security). */

/* The app's capability set from the client's lists: --caps-retain (exactly
 * these; a non-root user gets them as ambient capabilities, since they
 * were asked for by name) or --caps-remove (docker's default set minus
 * these; a non-root user gets none, as in docker), never both; neither
 * means the default set. Unknown or repeated names are refused. */
int app_caps_resolve(char * const *retain, char * const *remove, uint64_t *ret_caps, bool *ret_ambient,
                     PeapodError *err);

/* What a default app of a flavour that shares the host's PID and user
 * namespaces and is only chrooted (fly) loses: KILL would let it signal
 * every host process, peapodd included; SETUID would let it take the uid
 * of any host process and then signal it as its owner; SYS_CHROOT would
 * let it walk out of its chroot into the host's root (chroot into a
 * subdirectory, then ".." up past the old root). An app whose set was
 * asked for by name (retained) keeps exactly that set. */
#define APP_CAPS_HOST_NAMESPACES_DROP \
        ((UINT64_C(1) << 5) /* KILL */ | (UINT64_C(1) << 7) /* SETUID */ | (UINT64_C(1) << 18) /* SYS_CHROOT */)

/* The set an app starts with: caps as resolved by app_caps_resolve()
 * (retained: from --caps-retain), cut for a flavour in the host's
 * namespaces. */
uint64_t app_caps_for_flavour(uint64_t caps, bool retained, bool host_namespaces);

/* Checks a --seccomp= value (see seccomp-spec.h) including that every
 * syscall name is one libseccomp knows on this machine. */
int app_seccomp_validate(const char *s, PeapodError *err);

/* "500m" (millicores) or "2" (cores) -> CPUQuotaPerSecUSec (500000,
 * 2000000). From 1m to 1024 cores. */
int parse_cpu_quota(const char *s, uint64_t *ret_usec);

/* docker's and the CRI's cpu shares (2-262144, 1024 = one fair share),
 * mapped to systemd's CPUWeight (1-10000) as kubelet maps them for
 * cgroup v2. */
#define CPU_SHARES_MIN 2
#define CPU_SHARES_MAX 262144
uint64_t cpu_shares_to_weight(uint64_t shares);

#define APP_MEMORY_MIN (1024 * 1024)
#define APP_TASKS_MAX (UINT64_C(1) << 22)

/* Checks the limits of an app as a client sent them (0 = not set). */
int app_limits_validate(uint64_t cpu_quota_usec, uint64_t cpu_shares, uint64_t memory_max, uint64_t tasks_max,
                        PeapodError *err);

/* The masked or read-only paths of an app (what names them, "masked" or
 * "read-only", for the message): at most APP_PROTECTED_PATHS_MAX, each
 * app_protected_path_check(). -EINVAL / -E2BIG with err set. */
#define APP_PROTECTED_PATHS_MAX 64
int app_protected_paths_validate(char * const *l, const char *what, PeapodError *err);

typedef enum PidNamespace {
        PID_NAMESPACE_POD,   /* the pod's, shared by its apps (the default) */
        PID_NAMESPACE_APP,   /* one of the app's own */
        _PID_NAMESPACE_MAX,
        _PID_NAMESPACE_INVALID = -EINVAL,
} PidNamespace;

const char *pid_namespace_to_string(PidNamespace p);
PidNamespace pid_namespace_from_string(const char *s);

/* The IPC namespace has the same two modes: the pod's (the default), or
 * one of the app's own (System V IPC and POSIX message queues nobody else
 * in the pod reaches). One table for both. */
typedef PidNamespace IpcNamespace;
#define IPC_NAMESPACE_POD PID_NAMESPACE_POD
#define IPC_NAMESPACE_APP PID_NAMESPACE_APP

static inline const char *ipc_namespace_to_string(IpcNamespace p) {
        return pid_namespace_to_string(p);
}

static inline IpcNamespace ipc_namespace_from_string(const char *s) {
        return pid_namespace_from_string(s);
}
