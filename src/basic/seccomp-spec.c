/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "seccomp-spec.h"
#include "string-util.h"
#include "strv.h"

/* unshare and clone are absent on purpose: plain calls of them are how
 * every program makes threads and processes; only their namespace flags are
 * denied, by argument filters that stage1 adds to this list. clone3 passes
 * its flags in memory that a filter cannot read, so stage1 makes it fail
 * with ENOSYS (libc then falls back to clone). ptrace stays allowed, as in
 * docker: without CAP_SYS_PTRACE it reaches only the pod's processes of the
 * same user. */
const char *const seccomp_default_denylist[] = {
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
        "delete_module", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick",
        "get_kernel_syms", "init_module", "ioperm", "iopl", "kexec_file_load", "kexec_load",
        "keyctl", "lookup_dcookie", "mount", "mount_setattr", "move_mount", "nfsservctl",
        "open_by_handle_at", "open_tree", "perf_event_open", "pivot_root", "query_module",
        "quotactl", "quotactl_fd", "reboot", "request_key", "setns", "settimeofday", "stime",
        "swapoff", "swapon", "_sysctl", "syslog", "umount", "umount2", "uselib",
        "userfaultfd", "ustat", "vm86", "vm86old",
        NULL,
};

void seccomp_spec_done(SeccompSpec *s) {
        strv_free(s->names);
        s->names = NULL;
}

static bool syscall_name_is_valid(const char *s, size_t n) {
        if (n == 0 || n > SECCOMP_SPEC_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return true;
}

int seccomp_spec_parse(const char *s, SeccompSpec *ret) {
        _cleanup_strv_free_ char **names = NULL;
        SeccompMode mode;
        const char *p;
        size_t count = 0;
        int r;

        if (!s)
                return -EINVAL;
        if (streq(s, "default") || streq(s, "unconfined")) {
                *ret = (SeccompSpec) { .mode = streq(s, "default") ? SECCOMP_MODE_DEFAULT : SECCOMP_MODE_UNCONFINED };
                return 0;
        }
        if ((p = startswith(s, "mode=remove,")))
                mode = SECCOMP_MODE_REMOVE;
        else if ((p = startswith(s, "mode=retain,")))
                mode = SECCOMP_MODE_RETAIN;
        else
                return -EINVAL;

        for (;;) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t) (comma - p) : strlen(p);
                char *name;

                if (++count > SECCOMP_SPEC_NAMES_MAX)
                        return -EINVAL;
                name = strndup(p, n);
                if (!name)
                        return -ENOMEM;
                if (streq(name, SECCOMP_GROUP_DEFAULT) ? mode != SECCOMP_MODE_REMOVE : !syscall_name_is_valid(p, n)) {
                        free(name);
                        return -EINVAL;
                }
                if (strv_contains(names, name)) {
                        free(name);
                        return -EINVAL;
                }
                r = strv_consume(&names, name);
                if (r < 0)
                        return r;
                if (!comma)
                        break;
                p = comma + 1;
        }
        *ret = (SeccompSpec) { .mode = mode, .names = TAKE_PTR(names) };
        return 0;
}
