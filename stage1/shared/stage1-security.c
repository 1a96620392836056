/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capability-util.h"
#include "log.h"
#include "stage1-security.h"
#include "string-util.h"
#include "strv.h"

void stage1_security_done(Stage1Security *s) {
        strv_free(s->supplementary_groups);
        s->supplementary_groups = NULL;
        seccomp_spec_done(&s->seccomp);
}

static int parse_yes_no(const char *option, const char *arg, bool *ret) {
        if (streq(arg, "yes") || streq(arg, "true") || streq(arg, "1"))
                *ret = true;
        else if (streq(arg, "no") || streq(arg, "false") || streq(arg, "0"))
                *ret = false;
        else
                return log_error_errno(EINVAL, "Invalid --%s='%s' (yes or no).", option, arg);
        return 0;
}

bool stage1_syscall_is_known(const char *name) {
        return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

int stage1_security_parse_option(Stage1Security *s, int opt, const char *arg) {
        int r;

        switch (opt) {
        case STAGE1_ARG_USER:
                if (!user_spec_is_valid(arg))
                        return log_error_errno(EINVAL, "Invalid --user='%s' (expected USER[:GROUP]).", arg);
                s->user = arg;
                return 1;
        case STAGE1_ARG_SUPPLEMENTARY_GROUPS: {
                _cleanup_strv_free_ char **l = NULL;
                const char *p = arg;

                while (*p) {
                        size_t n = strcspn(p, ",");

                        if (n == 0 || strv_length(l) >= STAGE1_GROUPS_MAX)
                                return log_error_errno(EINVAL, "Invalid --supplementary-groups='%s'.", arg);
                        r = strv_consume(&l, strndup(p, n));
                        if (r < 0)
                                return log_oom();
                        if (!user_spec_is_valid(l[strv_length(l) - 1]) || strchr(l[strv_length(l) - 1], ':'))
                                return log_error_errno(EINVAL, "Invalid --supplementary-groups='%s'.", arg);
                        p += n;
                        if (*p == ',' && !*++p)
                                return log_error_errno(EINVAL, "Invalid --supplementary-groups='%s'.", arg);
                }
                strv_free(s->supplementary_groups);
                s->supplementary_groups = TAKE_PTR(l);
                return 1;
        }
        case STAGE1_ARG_CAPABILITIES:
                if (capability_set_from_string(arg, &s->caps) < 0)
                        return log_error_errno(EINVAL, "Invalid --capabilities='%s' (known names, each once).", arg);
                s->caps_set = true;
                return 1;
        case STAGE1_ARG_AMBIENT_CAPABILITIES:
                r = parse_yes_no("ambient-capabilities", arg, &s->ambient_caps);
                return r < 0 ? r : 1;
        case STAGE1_ARG_NO_NEW_PRIVILEGES:
                r = parse_yes_no("no-new-privileges", arg, &s->no_new_privs);
                return r < 0 ? r : 1;
        case STAGE1_ARG_SECCOMP: {
                SeccompSpec spec = {};

                r = seccomp_spec_parse(arg, &spec);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_error_errno(EINVAL, "Invalid --seccomp='%s'.", arg);
                FOREACH_STRV(n, spec.names)
                        if (!streq(n, SECCOMP_GROUP_DEFAULT) && !stage1_syscall_is_known(n)) {
                                log_error_errno(EINVAL, "Invalid --seccomp=: unknown syscall '%s'.", n);
                                seccomp_spec_done(&spec);
                                return -EINVAL;
                        }
                seccomp_spec_done(&s->seccomp);
                s->seccomp = spec;
                return 1;
        }
        default:
                return 0;
        }
}

static int read_app_file(const char *path, char **ret) {
        int r = read_id_file(path, STAGE1_ID_FILE_MAX, ret);

        if (r == -ENOENT)
                return 0;  /* numeric ids still work without one */
        if (r == -EFBIG)
                return log_error_errno(r, "The app's %s is larger than %d bytes, refusing it.", path, STAGE1_ID_FILE_MAX);
        if (r == -EBADFD)
                return log_error_errno(r, "The app's %s is not a regular file, refusing it.", path);
        if (r < 0)
                return log_error_errno(r, "Failed to read the app's %s: %m", path);
        return 0;
}

/* Runs inside the app's root, so the names mean what the image means by
 * them, not what the host does. Not with getpwnam(): NSS would read the
 * image's nsswitch.conf and dlopen libnss_*.so from the image's /lib into
 * this root process. */
int stage1_security_resolve(const Stage1Security *s, Credentials *ret) {
        _cleanup_free_ char *passwd = NULL, *group = NULL;
        _cleanup_(credentials_done) Credentials c = {};
        const char *what, *bad;
        int r;

        if ((r = read_app_file("/etc/passwd", &passwd)) < 0 || (r = read_app_file("/etc/group", &group)) < 0)
                return r;

        r = credentials_resolve(s->user ?: "0", passwd, group, &c, &what);
        if (r == -ESRCH)
                return log_error_errno(r, "Unknown %s in --user=%s: not in the app's /etc/%s.", what, s->user,
                                       streq(what, "user") ? "passwd" : "group");
        if (r == -E2BIG)
                return log_error_errno(r, "User %s is in more than %d groups, refusing.", s->user, STAGE1_GROUPS_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to resolve --user=%s: %m", strna(s->user));

        r = credentials_add_groups(&c, s->supplementary_groups, group, &bad);
        if (r == -ESRCH)
                return log_error_errno(r, "Unknown group %s in --supplementary-groups=: not in the app's /etc/group.", bad);
        if (r == -E2BIG)
                return log_error_errno(r, "More than %d supplementary groups, refusing.", STAGE1_GROUPS_MAX);
        if (r < 0)
                return log_error_errno(r, "Invalid supplementary group '%s'.", bad);

        *ret = c;
        c.home = NULL;
        return 0;
}

/* Groups first, then gids, then uids: once the uid is not 0 we lack the
 * capabilities to change the others. Every id is set (real, effective and
 * saved), so the app cannot switch back. The result is checked rather than
 * trusted, since a half-done switch would leave the app root. */
static int switch_ids(const Credentials *c) {
        uid_t ru, eu, su;
        gid_t rg, eg, sg;

        if (setgroups(c->n_groups, c->groups) < 0)
                return log_error_errno(errno, "Failed to set supplementary groups: %m");
        if (setresgid(c->gid, c->gid, c->gid) < 0)
                return log_error_errno(errno, "Failed to set gid %u: %m", (unsigned) c->gid);
        if (setresuid(c->uid, c->uid, c->uid) < 0)
                return log_error_errno(errno, "Failed to set uid %u: %m", (unsigned) c->uid);
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
                return log_error_errno(errno, "Failed to check our ids: %m");
        if (ru != c->uid || eu != c->uid || su != c->uid || rg != c->gid || eg != c->gid || sg != c->gid)
                return log_error_errno(EPERM, "Switching to uid %u gid %u did not take, refusing to run as root.",
                                       (unsigned) c->uid, (unsigned) c->gid);
        return 0;
}

/* The bounding set limits what any later execve() can give, whoever runs:
 * everything outside caps goes, including capabilities newer than this
 * code (PR_CAPBSET_READ answers EINVAL past the kernel's last one). */
static int drop_bounding_set(uint64_t caps) {
        for (unsigned long c = 0;; c++) {
                int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);

                if (r < 0) {
                        if (errno == EINVAL)
                                return 0;
                        return log_error_errno(errno, "Failed to read the capability bounding set: %m");
                }
                if (r == 0 || (c <= CAPABILITY_LAST && (caps & (UINT64_C(1) << c))))
                        continue;
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                        return log_error_errno(errno, "Failed to drop capability %lu from the bounding set: %m", c);
        }
}

/* No libcap: capset(2) with version 3 (two 32-bit words per set) is all
 * it takes. */
static int set_capabilities(uint64_t caps) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct d[2] = {};

        for (int i = 0; i < 2; i++)
                d[i].effective = d[i].permitted = d[i].inheritable = (uint32_t) (caps >> (32 * i));
        if (syscall(SYS_capset, &h, d) < 0)
                return log_error_errno(errno, "Failed to set capabilities: %m");
        return 0;
}

static int raise_ambient(uint64_t caps) {
        for (int c = 0; c <= CAPABILITY_LAST; c++)
                if ((caps & (UINT64_C(1) << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long) c, 0, 0) < 0)
                        return log_error_errno(errno, "Failed to raise ambient capability %s: %m", capability_to_name(c));
        return 0;
}

/* What this helper itself calls between loading a filter and execve(),
 * or, without no_new_privs, between loading it and finishing the id and
 * capability switch; a retain list gets them on top, or the app could
 * never start. */
static const char *const seccomp_helper_syscalls[] = {
        "execve", "execveat", "exit", "exit_group", "write", "writev", "close", "dup2", "dup3", "fcntl",
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "brk", "mmap", "munmap", "setgroups",
        "setresgid", "setresuid", "getresgid", "getresuid", "capget", "capset", "prctl",
};

/* Namespace flags of clone(2) and unshare(2): what makes a new namespace. */
static const uint64_t clone_namespace_flags[] = {
        CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
#ifdef CLONE_NEWTIME
        CLONE_NEWTIME,
#endif
};

/* personality(2) flags docker lets a container set: PER_LINUX32 (8) and
 * UNAME26 (0x20000); it allows exactly 0, 8, 0x20000, 0x20008 and
 * 0xffffffff (a query). The rest (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC,
 * MMAP_PAGE_ZERO, ...) weakens the protections of programs the app runs. */
#define PERSONALITY_ALLOWED_FLAGS UINT32_C(0x20008)

static void seccomp_releasep(scmp_filter_ctx *ctx) {
        if (*ctx)
                seccomp_release(*ctx);
}

/* The native architecture and its compat ones: a filter for x86_64 alone
 * would let an int 0x80 (i386) or x32 call through unchecked. libseccomp
 * kills a call of any architecture not in the filter. Native first. */
size_t stage1_seccomp_arches(uint32_t ret[static 3]) {
        size_t n = 0;

        ret[n++] = seccomp_arch_native();
        switch (ret[0]) {
        case SCMP_ARCH_X86_64:
                ret[n++] = SCMP_ARCH_X86;
                ret[n++] = SCMP_ARCH_X32;
                break;
        case SCMP_ARCH_AARCH64:
                ret[n++] = SCMP_ARCH_ARM;
                break;
        default:
                break;
        }
        return n;
}

static int seccomp_add(scmp_filter_ctx ctx, uint32_t action, const char *name, bool must_exist,
                       unsigned n_args, const struct scmp_arg_cmp *args) {
        int nr = seccomp_syscall_resolve_name(name), r;

        if (nr == __NR_SCMP_ERROR) {
                if (!must_exist)
                        return 0;  /* not a syscall of this architecture */
                return log_error_errno(EINVAL, "Unknown syscall '%s' in the seccomp filter.", name);
        }
        r = seccomp_rule_add_array(ctx, action, nr, n_args, args);
        if (r < 0)
                return log_error_errno(r, "Failed to add seccomp rule for %s: %m", name);
        return 0;
}

static int seccomp_deny(scmp_filter_ctx ctx, const char *name, bool must_exist) {
        return seccomp_add(ctx, SCMP_ACT_ERRNO(EPERM), name, must_exist, 0, NULL);
}

static int seccomp_deny_arg(scmp_filter_ctx ctx, const char *name, struct scmp_arg_cmp arg) {
        return seccomp_add(ctx, SCMP_ACT_ERRNO(EPERM), name, false, 1, &arg);
}

/* libseccomp takes one comparison per argument in a rule, and a rule's
 * comparisons are ANDed: "none of the allowed values" cannot be one rule.
 * Instead, rules that each match only refused values and together match
 * all of them. Let F be the allowed flags and B the other 30 of the 32
 * bits the kernel reads (it takes an unsigned int: the upper half is
 * ignored, so it is not compared either). The allowed values are those
 * with no bit of B set, plus 0xffffffff, the one with no bit clear; a
 * value is refused iff it has a bit of B set and some bit clear. Each rule
 * is "bit z clear and bit o set" with o in B, so it matches only refused
 * values; z runs over all 32 bits: for z in B, o is the bit of B after z
 * (cyclically), for z in F, o is B's first bit. Every refused value
 * matches one: if a bit of B is clear, walking B cyclically from it we
 * reach a clear bit followed by a set one (some bit of B is set), and that
 * rule matches; otherwise all of B is set, B's first bit included, and the
 * clear bit is in F, whose rule matches. */
static int seccomp_add_personality(scmp_filter_ctx ctx) {
        unsigned b[32], n = 0;
        int r;

        for (unsigned i = 0; i < 32; i++)
                if (!(PERSONALITY_ALLOWED_FLAGS & (UINT32_C(1) << i)))
                        b[n++] = i;
        for (unsigned z = 0; z < 32; z++) {
                unsigned o;

                if (PERSONALITY_ALLOWED_FLAGS & (UINT32_C(1) << z))
                        o = b[0];
                else {
                        unsigned i = 0;

                        while (b[i] != z)
                                i++;
                        o = b[(i + 1) % n];
                }
                r = seccomp_deny_arg(ctx, "personality",
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, (UINT64_C(1) << z) | (UINT64_C(1) << o), UINT64_C(1) << o));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Argument rules. A comparison masks the argument to its low 32 bits
 * where the kernel takes an int: a value with junk in the upper half must
 * not slip past an equality the kernel would not see. */
static int seccomp_add_arguments(scmp_filter_ctx ctx, uint32_t arch) {
        static const int denied_socket_families[] = {
                AF_ALG,    /* the kernel's crypto API, a long list of CVEs */
                AF_VSOCK,  /* sockets to the hypervisor and other VMs, outside the pod's network */
        };
        static const unsigned long denied_ioctls[] = {
                /* Not docker's: a process that shares a terminal with
                 * someone else pushes input into their shell (as flatpak
                 * and bubblewrap deny, CVE-2017-5226, CVE-2023-28100). */
                TIOCSTI,
                TIOCLINUX,
        };
        int r;

        /* On i386, socket(2) also goes through socketcall(2), whose
         * arguments are in memory that a filter cannot read: libseccomp
         * would deny every socket() of an i386 program there. Docker's
         * profile allows socketcall whole too. */
        if (seccomp_syscall_resolve_name_arch(arch, "socket") >= 0)
                for (size_t i = 0; i < ELEMENTSOF(denied_socket_families); i++) {
                        r = seccomp_deny_arg(ctx, "socket",
                                             SCMP_A0(SCMP_CMP_MASKED_EQ, UINT32_MAX, (uint64_t) denied_socket_families[i]));
                        if (r < 0)
                                return r;
                }
        for (size_t i = 0; i < ELEMENTSOF(denied_ioctls); i++) {
                r = seccomp_deny_arg(ctx, "ioctl", SCMP_A1(SCMP_CMP_MASKED_EQ, UINT32_MAX, denied_ioctls[i]));
                if (r < 0)
                        return r;
        }
        return seccomp_add_personality(ctx);
}

static int seccomp_add_default(scmp_filter_ctx ctx, uint32_t arch, uint64_t caps) {
        bool unshare_denied = false;
        int r;

        for (const char *const *n = seccomp_default_denylist; *n; n++) {
                r = seccomp_deny(ctx, *n, false);
                if (r < 0)
                        return r;
        }
        for (const SeccompCapSyscall *c = seccomp_default_cap_syscalls; c->name; c++) {
                if (caps & (UINT64_C(1) << c->capability))
                        continue;
                r = seccomp_deny(ctx, c->name, false);
                if (r < 0)
                        return r;
                if (streq(c->name, "unshare"))
                        unshare_denied = true;
        }
        r = seccomp_add_arguments(ctx, arch);
        if (r < 0)
                return r;

        /* One rule per flag: a rule's conditions are ANDed, and any one of
         * these flags is enough to refuse the call. */
        for (size_t i = 0; i < ELEMENTSOF(clone_namespace_flags); i++) {
                uint64_t f = clone_namespace_flags[i];

                r = unshare_denied ? 0 : seccomp_deny_arg(ctx, "unshare", SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
                if (r >= 0)
                        r = seccomp_deny_arg(ctx, "clone",
#if defined(__s390__) || defined(__s390x__)
                                             SCMP_A1(SCMP_CMP_MASKED_EQ, f, f)
#else
                                             SCMP_A0(SCMP_CMP_MASKED_EQ, f, f)
#endif
                        );
                if (r < 0)
                        return r;
        }
        return seccomp_add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", false, 0, NULL);
}

static int seccomp_add_retain(scmp_filter_ctx ctx, char **names) {
        int r;

        for (size_t i = 0; i < ELEMENTSOF(seccomp_helper_syscalls); i++) {
                r = seccomp_add(ctx, SCMP_ACT_ALLOW, seccomp_helper_syscalls[i], false, 0, NULL);
                if (r < 0)
                        return r;
        }
        FOREACH_STRV(n, names) {
                r = seccomp_add(ctx, SCMP_ACT_ALLOW, n, true, 0, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* One architecture's filter. Each is built alone and then merged, so that
 * a rule can depend on the architecture (socketcall above). */
static int seccomp_build_arch(const SeccompSpec *spec, uint64_t caps, uint32_t arch, scmp_filter_ctx *ret) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        ctx = seccomp_init(spec->mode == SECCOMP_MODE_RETAIN ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_ALLOW);
        if (!ctx)
                return log_oom();
        /* libseccomp would set no_new_privs itself; that is our choice, made
         * by --no-new-privileges. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r >= 0 && arch != seccomp_arch_native()) {
                r = seccomp_arch_add(ctx, arch);
                if (r >= 0)
                        r = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to set up a seccomp filter: %m");

        switch (spec->mode) {
        case SECCOMP_MODE_DEFAULT:
                r = seccomp_add_default(ctx, arch, caps);
                break;
        case SECCOMP_MODE_REMOVE:
                r = 0;
                FOREACH_STRV(n, spec->names) {
                        r = streq(n, SECCOMP_GROUP_DEFAULT) ? seccomp_add_default(ctx, arch, caps) : seccomp_deny(ctx, n, true);
                        if (r < 0)
                                break;
                }
                break;
        case SECCOMP_MODE_RETAIN:
                r = seccomp_add_retain(ctx, spec->names);
                break;
        default:
                r = log_error_errno(EINVAL, "Invalid seccomp mode.");
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ctx);
        return 0;
}

static int seccomp_build(const SeccompSpec *spec, uint64_t caps, scmp_filter_ctx *ret) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        uint32_t arches[3];
        size_t n = stage1_seccomp_arches(arches);
        int r;

        for (size_t i = 0; i < n; i++) {
                scmp_filter_ctx a = NULL;

                r = seccomp_build_arch(spec, caps, arches[i], &a);
                if (r < 0)
                        return r;
                if (!ctx) {
                        ctx = a;
                        continue;
                }
                /* Releases a on success only. */
                r = seccomp_merge(ctx, a);
                if (r < 0) {
                        seccomp_release(a);
                        return log_error_errno(r, "Failed to merge the seccomp filters of two architectures: %m");
                }
        }
        *ret = TAKE_PTR(ctx);
        return 0;
}

/* A denylist lets through what it does not name, and libseccomp has no
 * name for a syscall newer than itself (2.5.4 knows up to 456,
 * futex_requeue): Linux 6.18 has 13 more, and every kernel adds some. As
 * runc does for calls newer than its profile, such a call fails with
 * ENOSYS, which libc takes for an older kernel and falls back from (docker
 * allows some of those 13, we are stricter). libseccomp compares numbers
 * one by one and cannot say "above N", so these instructions go in front
 * of the program it generates (classic BPF jumps are relative and
 * forward, so its own stay valid) and the whole is loaded as one filter.
 * A range of numbers unknown to libseccomp, per architecture. */
typedef struct UnknownRange {
        uint32_t audit_arch;  /* what the kernel puts in seccomp_data.arch */
        uint32_t first, last;
} UnknownRange;

#define X32_SYSCALL_BIT UINT32_C(0x40000000)
#define SYSCALL_SCAN_MAX 1024  /* past every architecture's table but arm's private calls */

static bool syscall_known(uint32_t arch, uint32_t nr) {
        _cleanup_free_ char *name = seccomp_syscall_resolve_num_arch(arch, (int) nr);

        return name != NULL;
}

/* The unknown ranges of our architectures: above the highest number
 * libseccomp knows, and for x32, between the common calls and its own
 * 512-547. arm (the compat architecture of aarch64) is left out: its
 * private calls sit at 0xf0000 and it is not worth a table. At most 4. */
static size_t seccomp_unknown_ranges(UnknownRange ret[static 4]) {
        uint32_t arches[3];
        size_t n_arches = stage1_seccomp_arches(arches), n = 0;
        bool have_x32 = false;

        for (size_t i = 0; i < n_arches; i++)
                have_x32 = have_x32 || arches[i] == SCMP_ARCH_X32;
        for (size_t i = 0; i < n_arches; i++) {
                uint32_t base = arches[i] == SCMP_ARCH_X32 ? X32_SYSCALL_BIT : 0, common_max = 0, max = 0;

                if (arches[i] == SCMP_ARCH_ARM)
                        continue;
                for (uint32_t nr = 0; nr < SYSCALL_SCAN_MAX; nr++)
                        if (syscall_known(arches[i], base + nr)) {
                                max = nr;
                                if (nr < 512)
                                        common_max = nr;
                        }
                if (arches[i] == SCMP_ARCH_X32) {
                        /* x32 calls come as AUDIT_ARCH_X86_64 with the bit set. */
                        ret[n++] = (UnknownRange) { SCMP_ARCH_X86_64, base + common_max + 1, base + 511 };
                        ret[n++] = (UnknownRange) { SCMP_ARCH_X86_64, base + max + 1, UINT32_MAX };
                } else
                        ret[n++] = (UnknownRange) {
                                arches[i], max + 1, arches[i] == SCMP_ARCH_X86_64 && have_x32 ? X32_SYSCALL_BIT - 1 : UINT32_MAX
                        };
        }
        return n;
}

#define UNKNOWN_RANGE_INSNS 6

/* For one range: ENOSYS if arch matches and first <= nr <= last, else on
 * to the next instruction after these six. */
static void unknown_range_insns(const UnknownRange *u, struct sock_filter ret[static UNKNOWN_RANGE_INSNS]) {
        ret[0] = (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
        ret[1] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, u->audit_arch, 0, 4);
        ret[2] = (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
        ret[3] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, u->first, 0, 2);
        ret[4] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, u->last, 1, 0);
        ret[5] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
}

/* The unknown ranges when the filter of spec is the default denylist or
 * holds it (an explicit list means what it says; a retain list denies
 * the unknown anyway). */
static size_t seccomp_has_default_ranges(const SeccompSpec *spec, UnknownRange ret[static 4]) {
        if (spec->mode == SECCOMP_MODE_DEFAULT ||
            (spec->mode == SECCOMP_MODE_REMOVE && strv_contains(spec->names, SECCOMP_GROUP_DEFAULT)))
                return seccomp_unknown_ranges(ret);
        return 0;
}

/* libseccomp's program as BPF, with the unknown ranges in front for a
 * filter holding the default list. */
static int seccomp_program(const SeccompSpec *spec, uint64_t caps, struct sock_filter **ret, size_t *ret_len) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ struct sock_filter *prog = NULL;
        UnknownRange ranges[4];
        size_t n_ranges = seccomp_has_default_ranges(spec, ranges), head = n_ranges * UNKNOWN_RANGE_INSNS;
        struct stat st;
        ssize_t n;
        int r;

        r = seccomp_build(spec, caps, &ctx);
        if (r < 0)
                return r;
        fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create a memfd for the seccomp filter: %m");
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return log_error_errno(r, "Failed to export the seccomp filter: %m");
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to stat the seccomp filter: %m");
        if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
            (size_t) st.st_size / sizeof(struct sock_filter) + head > BPF_MAXINSNS)
                return log_error_errno(E2BIG, "The seccomp filter has %lld bytes, too many or not whole instructions.",
                                       (long long) st.st_size);
        prog = calloc(head + st.st_size / sizeof(struct sock_filter), sizeof(struct sock_filter));
        if (!prog)
                return log_oom();
        for (size_t i = 0; i < n_ranges; i++)
                unknown_range_insns(&ranges[i], prog + i * UNKNOWN_RANGE_INSNS);
        n = pread(fd, prog + head, st.st_size, 0);
        if (n != st.st_size)
                return log_error_errno(n < 0 ? errno : EIO, "Failed to read the seccomp filter back: %m");
        *ret_len = head + st.st_size / sizeof(struct sock_filter);
        *ret = TAKE_PTR(prog);
        return 0;
}

int stage1_seccomp_export_pfc(const SeccompSpec *spec, uint64_t caps, int fd) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        UnknownRange ranges[4];
        size_t n_ranges = seccomp_has_default_ranges(spec, ranges);
        int r;

        for (size_t i = 0; i < n_ranges; i++)
                dprintf(fd, "# first, newer than libseccomp: arch %" PRIu32 " syscalls %" PRIu32 "-%" PRIu32 " ERRNO(%d)\n",
                        ranges[i].audit_arch, ranges[i].first, ranges[i].last, ENOSYS);
        r = seccomp_build(spec, caps, &ctx);
        if (r < 0)
                return r;
        return seccomp_export_pfc(ctx, fd);
}

void stage1_seccomp_program_done(Stage1SeccompProgram *p) {
        p->insns = mfree(p->insns);
        p->len = 0;
}

int stage1_seccomp_program(const SeccompSpec *spec, uint64_t caps, Stage1SeccompProgram *ret) {
        *ret = (Stage1SeccompProgram) {};
        if (spec->mode == SECCOMP_MODE_UNCONFINED)
                return 0;
        return seccomp_program(spec, caps, &ret->insns, &ret->len);
}

int stage1_seccomp_program_load(const Stage1SeccompProgram *p) {
        struct sock_fprog fprog;

        if (p->len == 0)
                return 0;
        /* What seccomp_load() does with our attributes: no flags, no
         * no_new_privs of its own. */
        fprog = (struct sock_fprog) { .len = (unsigned short) p->len, .filter = p->insns };
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
                return log_error_errno(errno, "Failed to load the seccomp filter: %m");
        return 0;
}

int stage1_seccomp_install(const SeccompSpec *spec, uint64_t caps) {
        _cleanup_(stage1_seccomp_program_done) Stage1SeccompProgram prog = {};
        int r;

        r = stage1_seccomp_program(spec, caps, &prog);
        if (r < 0)
                return r;
        return stage1_seccomp_program_load(&prog);
}

/* The capability bounding set of the calling process: an app started
 * without --capabilities keeps the helper's, and its filter follows. */
uint64_t stage1_bounding_set(void) {
        uint64_t set = 0;

        for (unsigned long c = 0; c < 64; c++) {
                int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);

                if (r < 0)
                        break;
                if (r > 0)
                        set |= UINT64_C(1) << c;
        }
        return set;
}

uint64_t stage1_security_filter_caps(const Stage1Security *s) {
        /* The capabilities the filter's capability rules look at: the
         * app's bounding set, as peapod-stage1-exec reads it back. */
        return s->caps_set ? s->caps : stage1_bounding_set();
}

int stage1_security_apply(const Stage1Security *s, const Credentials *creds, const Stage1SeccompProgram *prog) {
        _cleanup_(stage1_seccomp_program_done) Stage1SeccompProgram built = {};
        bool non_root = creds && creds->uid != 0;
        int r;

        if (!prog) {
                r = stage1_seccomp_program(&s->seccomp, stage1_security_filter_caps(s), &built);
                if (r < 0)
                        return r;
                prog = &built;
        }

        /* Without no_new_privs the kernel wants CAP_SYS_ADMIN to load a
         * filter, which the app may not keep: load it while we have it. */
        if (!s->no_new_privs) {
                r = stage1_seccomp_program_load(prog);
                if (r < 0)
                        return r;
        }

        if (s->caps_set) {
                r = drop_bounding_set(s->caps);
                if (r < 0)
                        return r;
                /* Keep the permitted set across the uid change, so that
                 * capset() below can pick the app's set out of it. */
                if (non_root && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                        return log_error_errno(errno, "Failed to set PR_SET_KEEPCAPS: %m");
        }

        if (creds) {
                r = switch_ids(creds);
                if (r < 0)
                        return r;
        }

        if (s->caps_set) {
                r = set_capabilities(s->caps);
                if (r < 0)
                        return r;
                if (non_root && s->ambient_caps) {
                        r = raise_ambient(s->caps);
                        if (r < 0)
                                return r;
                }
                if (non_root && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                        return log_error_errno(errno, "Failed to clear PR_SET_KEEPCAPS: %m");
        }

        /* The kernel clears the parent-death signal when our ids change;
         * arm it again. */
        if (creds && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                return log_error_errno(errno, "Failed to set the parent death signal: %m");

        if (s->no_new_privs) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        return log_error_errno(errno, "Failed to set no_new_privs: %m");
                r = stage1_seccomp_program_load(prog);
                if (r < 0)
                        return r;
        }
        return 0;
}
