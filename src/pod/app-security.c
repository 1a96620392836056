/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <seccomp.h>

#include "app-security.h"
#include "capability-util.h"
#include "fs-util.h"
#include "seccomp-spec.h"
#include "string-util.h"
#include "strv.h"

int app_caps_resolve(char * const *retain, char * const *remove, uint64_t *ret_caps, bool *ret_ambient,
                     PeapodError *err) {
        uint64_t set;

        if (retain && remove)
                return peapod_error_set(err, -EINVAL, "Capabilities to retain and to remove cannot both be given");
        if (retain || remove) {
                char * const *l = retain ?: remove;

                if (capability_set_from_strv(l, &set) < 0) {
                        for (char * const *i = l; *i; i++)
                                if (capability_from_name(*i) < 0)
                                        return peapod_error_set(err, -EINVAL,
                                                                "Unknown capability '%s' (e.g. CAP_CHOWN or chown)", *i);
                        return peapod_error_set(err, -EINVAL, "A capability is listed twice");
                }
        }
        *ret_caps = retain ? set : remove ? capability_default_set & ~set : capability_default_set;
        *ret_ambient = !!retain;
        return 0;
}

uint64_t app_caps_for_flavour(uint64_t caps, bool retained, bool host_namespaces) {
        return host_namespaces && !retained ? caps & ~APP_CAPS_HOST_NAMESPACES_DROP : caps;
}

int app_seccomp_validate(const char *s, PeapodError *err) {
        SeccompSpec spec = {};
        int r;

        r = seccomp_spec_parse(s, &spec);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return peapod_error_set(err, -EINVAL,
                                        "Invalid seccomp setting '%.64s': default, unconfined, mode=remove,SYSCALL,... or mode=retain,SYSCALL,...",
                                        strempty(s));
        for (char **n = spec.names; n && *n; n++)
                if (!streq(*n, SECCOMP_GROUP_DEFAULT) && seccomp_syscall_resolve_name(*n) == __NR_SCMP_ERROR) {
                        r = peapod_error_set(err, -EINVAL, "Unknown syscall '%s' in the seccomp setting", *n);
                        break;
                }
        seccomp_spec_done(&spec);
        return r < 0 ? r : 0;
}

int parse_cpu_quota(const char *s, uint64_t *ret_usec) {
        uint64_t v = 0;
        const char *p = s;

        if (isempty(s) || !isdigit((unsigned char) *s))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                if (v > 1024 * 1000)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        if (streq(p, "m"))
                ; /* millicores */
        else if (*p == 0)
                v *= 1000;
        else
                return -EINVAL;
        if (v == 0 || v > 1024 * 1000)
                return -ERANGE;
        *ret_usec = v * 1000;
        return 0;
}

uint64_t cpu_shares_to_weight(uint64_t shares) {
        if (shares < CPU_SHARES_MIN)
                shares = CPU_SHARES_MIN;
        if (shares > CPU_SHARES_MAX)
                shares = CPU_SHARES_MAX;
        return 1 + ((shares - CPU_SHARES_MIN) * 9999) / (CPU_SHARES_MAX - CPU_SHARES_MIN);
}

int app_limits_validate(uint64_t cpu_quota_usec, uint64_t cpu_shares, uint64_t memory_max, uint64_t tasks_max,
                        PeapodError *err) {
        if (cpu_quota_usec > 0 && (cpu_quota_usec < 1000 || cpu_quota_usec > UINT64_C(1024) * 1000000))
                return peapod_error_set(err, -EINVAL, "CPU quota out of range (1m to 1024 CPUs)");
        if (cpu_shares > 0 && (cpu_shares < CPU_SHARES_MIN || cpu_shares > CPU_SHARES_MAX))
                return peapod_error_set(err, -EINVAL, "CPU shares out of range (%d-%d)", CPU_SHARES_MIN, CPU_SHARES_MAX);
        if (memory_max > 0 && (memory_max < APP_MEMORY_MIN || memory_max > (UINT64_C(1) << 62)))
                return peapod_error_set(err, -EINVAL, "Memory limit out of range (at least 1M)");
        if (tasks_max > APP_TASKS_MAX)
                return peapod_error_set(err, -EINVAL, "Tasks limit out of range (at most %" PRIu64 ")", APP_TASKS_MAX);
        return 0;
}

int app_protected_paths_validate(char * const *l, const char *what, PeapodError *err) {
        const char *reason;

        if (strv_length((char **) l) > APP_PROTECTED_PATHS_MAX)
                return peapod_error_set(err, -E2BIG, "Too many %s paths (at most %d)", what, APP_PROTECTED_PATHS_MAX);
        FOREACH_STRV(p, l)
                if (app_protected_path_check(p, &reason) < 0)
                        return peapod_error_set(err, -EINVAL, "Invalid %s path '%s': %s", what, p, reason);
        return 0;
}

static const char *const pid_namespace_table[_PID_NAMESPACE_MAX] = {
        [PID_NAMESPACE_POD] = "pod",
        [PID_NAMESPACE_APP] = "app",
};

const char *pid_namespace_to_string(PidNamespace p) {
        return p >= 0 && p < _PID_NAMESPACE_MAX ? pid_namespace_table[p] : NULL;
}

PidNamespace pid_namespace_from_string(const char *s) {
        if (s)
                for (int i = 0; i < _PID_NAMESPACE_MAX; i++)
                        if (streq(pid_namespace_table[i], s))
                                return (PidNamespace) i;
        return _PID_NAMESPACE_INVALID;
}
