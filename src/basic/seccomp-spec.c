/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/capability.h>

#include "seccomp-spec.h"
#include "string-util.h"
#include "strv.h"

/* Compared, syscall by syscall, with docker's default profile as moby
 * vendors it at docker v29.7.2 (github.com/moby/profiles/seccomp v0.2.3,
 * default.json) for x86_64, i386 and x32. Docker's profile is an
 * allowlist, ours a denylist: every syscall libseccomp 2.5.4 knows on
 * these architectures that docker's list does not allow is here, plus
 * what docker allows only with a capability that we deny whatever the
 * capabilities (see the comment of each group). Calls docker allows with
 * a capability are in seccomp_default_cap_syscalls below; calls docker
 * allows with argument conditions (socket, personality, clone, clone3) are
 * argument rules that stage1 adds (stage1-security.c).
 *
 * unshare and clone are absent on purpose: plain calls of them are how
 * every program makes threads and processes; only their namespace flags are
 * denied, by argument filters that stage1 adds to this list. clone3 passes
 * its flags in memory that a filter cannot read, so stage1 makes it fail
 * with ENOSYS (libc then falls back to clone). ptrace stays allowed, as in
 * docker (which allows it since Linux 4.8, where seccomp can no longer be
 * bypassed with it): without CAP_SYS_PTRACE it reaches only the pod's
 * processes of the same user. */
const char *const seccomp_default_denylist[] = {
        /* Reconfigures the host's kernel, or mounts and namespaces (a
         * container's way out). Docker allows some of them with a
         * capability (CAP_SYS_ADMIN, _MODULE, _BOOT, _TIME, _PACCT, _RAWIO,
         * _SYSLOG, BPF, PERFMON, DAC_READ_SEARCH); we deny them even then:
         * an app that really needs one says so with --seccomp=. */
        "acct", "add_key", "bpf", "clock_adjtime", "clock_adjtime64", "clock_settime",
        "clock_settime64", "create_module", "delete_module", "finit_module", "fsconfig", "fsmount",
        "fsopen", "fspick", "get_kernel_syms", "init_module", "ioperm", "iopl", "kexec_file_load",
        "kexec_load", "keyctl", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
        "nfsservctl", "open_by_handle_at", "open_tree", "open_tree_attr", "perf_event_open",
        "pivot_root", "query_module", "quotactl", "quotactl_fd", "reboot", "request_key", "setns",
        "settimeofday", "stime", "swapoff", "swapon", "_sysctl", "syslog", "umount", "umount2",
        "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
        /* Not in docker's allowlist at all: io_uring (its own syscall
         * surface, outside every seccomp filter once set up), page
         * migration between NUMA nodes of other processes, syscalls newer
         * than docker's profile, and the i386 relics libc no longer calls. */
        "afs_syscall", "bdflush", "break", "file_getattr", "file_setattr", "ftime", "getpmsg",
        "gtty", "idle", "io_uring_enter", "io_uring_register", "io_uring_setup", "lock",
        "migrate_pages", "move_pages", "mpx", "nice", "oldfstat", "oldlstat", "oldolduname",
        "oldstat", "olduname", "prof", "profil", "putpmsg", "readdir", "security", "sgetmask",
        "sigaction", "signal", "sigpending", "sigsuspend", "ssetmask", "stty", "sysfs", "tuxcall",
        "ulimit", "vserver",
        NULL,
};

/* Docker allows these only to a container whose capability set has the
 * capability; so do we. The set is the app's bounding set (what
 * --capabilities gives it), which peapod-stage1-exec reads back from the
 * app's process to build the same filter. */
const SeccompCapSyscall seccomp_default_cap_syscalls[] = {
        /* Another process's memory and files: what ptrace gives, minus the
         * need to attach. */
        { "kcmp", CAP_SYS_PTRACE },
        { "pidfd_getfd", CAP_SYS_PTRACE },
        { "process_madvise", CAP_SYS_PTRACE },
        { "process_vm_readv", CAP_SYS_PTRACE },
        { "process_vm_writev", CAP_SYS_PTRACE },
        /* NUMA memory policy: placement on the host's nodes. */
        { "get_mempolicy", CAP_SYS_NICE },
        { "mbind", CAP_SYS_NICE },
        { "set_mempolicy", CAP_SYS_NICE },
        { "set_mempolicy_home_node", CAP_SYS_NICE },
        { "fanotify_init", CAP_SYS_ADMIN },
        { "lsm_get_self_attr", CAP_SYS_ADMIN },
        { "lsm_list_modules", CAP_SYS_ADMIN },
        { "lsm_set_self_attr", CAP_SYS_ADMIN },
        { "setdomainname", CAP_SYS_ADMIN },
        { "sethostname", CAP_SYS_ADMIN },
        /* Any unshare(2), even one without namespace flags (those are
         * denied with the capability too). */
        { "unshare", CAP_SYS_ADMIN },
        { "chroot", CAP_SYS_CHROOT },
        { "vhangup", CAP_SYS_TTY_CONFIG },
        {}
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
