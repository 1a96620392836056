/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Calls what peapod's default seccomp filter denies and checks the errno,
 * and that what it allows still works. The arguments are harmless (bad
 * pointers and fds, no-op values) and chosen so that, without the filter,
 * the kernel answers something else than the filter would: a pass means
 * the filter answered. One line per check ("ok NAME" or "FAIL NAME: ..."),
 * then "seccomp-MODE: N failed"; exits 1 if any failed.
 *
 *   seccomp default     the default filter, the default capabilities
 *   seccomp ptrace      the same with CAP_SYS_PTRACE: process_vm_*, kcmp allowed
 *   seccomp nice        the same with CAP_SYS_NICE: the NUMA memory policy calls allowed
 *   seccomp unconfined  no filter: the same calls get the kernel's answers */
#include <errno.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OK 0              /* the call returns >= 0 */
#define NOT_FILTERED (-1) /* anything but EPERM: the kernel answered */
#define SKIP (-2)         /* unconfined: the kernel says EPERM too, nothing to learn */

/* Numbers newer than this build's headers; alike on every architecture
 * since Linux 5.1. */
#define NR_lsm_list_modules 461
#define NR_open_tree_attr 467
#define NR_file_getattr 468
#define X32_BIT 0x40000000L

static unsigned failed;

static void check(const char *what, long r, int want) {
        int e = r < 0 ? errno : 0;
        bool good;

        /* Undo what a personality call let through, before the next check. */
        (void) syscall(SYS_personality, PER_LINUX);
        if (want == SKIP) {
                printf("skip %s\n", what);
                return;
        }
        good = want == OK ? r >= 0 : want == NOT_FILTERED ? !(r < 0 && e == EPERM) : r < 0 && e == want;

        if (good)
                printf("ok %s\n", what);
        else {
                printf("FAIL %s: got %ld (%s), want %s\n", what, r, r < 0 ? strerror(e) : "success",
                       want == OK ? "success" : want == NOT_FILTERED ? "not EPERM" : strerror(want));
                failed++;
        }
}

#define CHECK(want, what, ...) (errno = 0, check(what, __VA_ARGS__, want))

/* An i386 syscall from this 64-bit process (int 0x80 takes the compat
 * table, which the filter has its own section for). */
static long syscall_i386(long nr, long a0, long a1) {
        long r;

        __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a0), "c"(a1) : "memory");
        if (r < 0 && r > -4096) {
                errno = (int) -r;
                return -1;
        }
        return r;
}

/* Without IA32 emulation int 0x80 kills us: try it in a child first. */
static bool have_i386(void) {
        int status;
        pid_t pid = fork();

        if (pid == 0)
                _exit(syscall_i386(20 /* getpid */, 0, 0) > 0 ? 0 : 1);
        return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char *argv[]) {
        const char *mode = argc > 1 ? argv[1] : "default";
        bool unconfined = strcmp(mode, "unconfined") == 0;
        bool ptrace_cap = strcmp(mode, "ptrace") == 0 || unconfined;
        bool nice_cap = strcmp(mode, "nice") == 0 || unconfined;
        int deny = unconfined ? NOT_FILTERED : EPERM;
        /* Where unconfined learns nothing: the kernel checks a capability
         * first, or the lab's systemd-nspawn filters the call itself. */
        int deny_k = unconfined ? SKIP : EPERM;
        /* Newer than libseccomp: the lab's systemd-nspawn answers ENOSYS
         * itself for calls it does not know. */
        int newer = unconfined ? SKIP : ENOSYS;
        char buf[64] = "peapod", out[64] = {};
        struct iovec local = { out, sizeof(out) }, remote = { buf, sizeof(buf) };
        pid_t self = getpid();
        void *page;

        if (!unconfined && strcmp(mode, "default") != 0 && !ptrace_cap && !nice_cap) {
                fprintf(stderr, "Usage: seccomp default|ptrace|nice|unconfined\n");
                return 2;
        }

        /* Denied whatever the capabilities. */
        CHECK(deny, "setns", syscall(SYS_setns, -1, 0));
        CHECK(deny, "mount", syscall(SYS_mount, NULL, "/nonexistent", NULL, 0, NULL));
        CHECK(deny, "umount2", syscall(SYS_umount2, "/nonexistent", 0));
        CHECK(deny_k, "pivot_root", syscall(SYS_pivot_root, "/nonexistent", "/nonexistent"));
        CHECK(deny, "open_tree", syscall(SYS_open_tree, -1, "", 0));
        CHECK(deny_k, "fsopen", syscall(SYS_fsopen, NULL, 0));
        CHECK(deny_k, "bpf", syscall(SYS_bpf, -1, NULL, 0));
        CHECK(deny_k, "perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
        CHECK(deny_k, "keyctl", syscall(SYS_keyctl, -1, 0, 0, 0, 0));
        CHECK(deny_k, "add_key", syscall(SYS_add_key, NULL, NULL, NULL, 0, 0));
        CHECK(deny_k, "userfaultfd", syscall(SYS_userfaultfd, -1));
        CHECK(deny_k, "io_uring_setup", syscall(SYS_io_uring_setup, 0, NULL));
        CHECK(deny, "io_uring_enter", syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
        CHECK(deny, "io_uring_register", syscall(SYS_io_uring_register, -1, 0, NULL, 0));
        CHECK(deny, "migrate_pages", syscall(SYS_migrate_pages, 0, 0, NULL, NULL));
        CHECK(deny, "move_pages", syscall(SYS_move_pages, 0, 0, NULL, NULL, NULL, 0));
        CHECK(deny_k, "reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
        CHECK(deny_k, "clock_settime", syscall(SYS_clock_settime, CLOCK_REALTIME, NULL));
        CHECK(deny_k, "sysfs", syscall(SYS_sysfs, 0, NULL));
        /* Newer than libseccomp's table (456 in 2.5.4): ENOSYS, as on an
         * older kernel. */
        CHECK(newer, "open_tree_attr (467)", syscall(NR_open_tree_attr, -1, NULL, 0, NULL, 0));
        CHECK(newer, "file_getattr (468)", syscall(NR_file_getattr, -1, NULL, NULL, 0, 0));
        CHECK(newer, "lsm_list_modules (461)", syscall(NR_lsm_list_modules, NULL, NULL, ~0U));
        CHECK(newer, "syscall 470", syscall(470, 0, 0, 0));
        CHECK(newer, "syscall 100000", syscall(100000, 0, 0, 0));
        CHECK(EBADF, "fchmodat2 (452)", syscall(452, -1, "x", 0, 0));
        /* CLONE_PARENT makes both EINVAL to the kernel: no namespace, no child. */
        CHECK(deny, "unshare(CLONE_NEWNS)", syscall(SYS_unshare, CLONE_NEWNS | CLONE_PARENT));
        CHECK(deny, "clone(CLONE_NEWNS)", syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD, NULL, NULL, NULL, 0));
        CHECK(unconfined ? EINVAL : ENOSYS, "clone3", syscall(SYS_clone3, NULL, 0));
        CHECK(deny, "socket(AF_VSOCK)", syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0));
        CHECK(deny, "socket(AF_VSOCK | 1 << 32)", syscall(SYS_socket, AF_VSOCK | (1L << 32), SOCK_STREAM, 0));
        CHECK(deny, "socket(AF_ALG)", syscall(SYS_socket, AF_ALG, SOCK_SEQPACKET, 0));
        CHECK(deny, "ioctl(TIOCSTI)", syscall(SYS_ioctl, -1, TIOCSTI, "x"));
        CHECK(deny, "ioctl(TIOCLINUX)", syscall(SYS_ioctl, -1, TIOCLINUX, NULL));
        CHECK(deny, "personality(ADDR_NO_RANDOMIZE)", syscall(SYS_personality, ADDR_NO_RANDOMIZE));
        CHECK(deny, "personality(READ_IMPLIES_EXEC)", syscall(SYS_personality, READ_IMPLIES_EXEC));
        CHECK(deny, "personality(PER_SVR4)", syscall(SYS_personality, PER_SVR4));
        CHECK(deny, "personality(0xfffffff7)", syscall(SYS_personality, 0xfffffff7UL));
        /* sethostname checks the length before the capability. */
        CHECK(deny_k, "sethostname", syscall(SYS_sethostname, NULL, -1L));
        CHECK(deny_k, "fanotify_init", syscall(SYS_fanotify_init, ~0U, 0));
        CHECK(unconfined ? OK : EPERM, "unshare(0)", syscall(SYS_unshare, 0));

        /* Allowed with CAP_SYS_PTRACE. */
        CHECK(ptrace_cap ? OK : EPERM, "process_vm_readv", syscall(SYS_process_vm_readv, self, &local, 1, &remote, 1, 0));
        CHECK(ptrace_cap ? OK : EPERM, "process_vm_writev", syscall(SYS_process_vm_writev, self, &remote, 1, &local, 1, 0));
        CHECK(ptrace_cap ? OK : EPERM, "kcmp", syscall(SYS_kcmp, self, self, KCMP_VM, 0, 0));
        /* Not checked with the capability: systemd-nspawn's own filter
         * (the lab's) denies pidfd_getfd too. */
        CHECK(ptrace_cap ? SKIP : EPERM, "pidfd_getfd", syscall(SYS_pidfd_getfd, -1, 0, 0));
        /* Allowed with CAP_SYS_NICE. */
        page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(nice_cap ? OK : EPERM, "get_mempolicy", syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0));
        CHECK(nice_cap ? OK : EPERM, "set_mempolicy", syscall(SYS_set_mempolicy, 0 /* MPOL_DEFAULT */, NULL, 0));
        CHECK(nice_cap ? OK : EPERM, "mbind", syscall(SYS_mbind, page, 4096, 0 /* MPOL_DEFAULT */, NULL, 0, 0));

        /* Allowed. */
        CHECK(OK, "getpid", syscall(SYS_getpid));
        CHECK(OK, "socket(AF_INET)", syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0));
        CHECK(NOT_FILTERED, "socket(AF_NFC)", syscall(SYS_socket, 39, SOCK_STREAM, 0));
        CHECK(OK, "personality(query)", syscall(SYS_personality, 0xffffffffUL));
        CHECK(OK, "personality(PER_LINUX32)", syscall(SYS_personality, PER_LINUX32));
        CHECK(OK, "personality(UNAME26)", syscall(SYS_personality, UNAME26));
        CHECK(OK, "personality(PER_LINUX)", syscall(SYS_personality, PER_LINUX));
        /* CAP_SYS_CHROOT is in the default set: the kernel looks the path up. */
        CHECK(ENOENT, "chroot", syscall(SYS_chroot, "/nonexistent"));
        CHECK(OK, "fork", ({
                      pid_t p = fork();
                      if (p == 0)
                              _exit(0);
                      p > 0 ? waitpid(p, NULL, 0) : p;
              }));

        /* The compat architectures have sections of their own. */
        CHECK(deny, "x32 mount", syscall(X32_BIT | SYS_mount, NULL, "/nonexistent", NULL, 0, NULL));
        CHECK(deny, "x32 socket(AF_VSOCK)", syscall(X32_BIT | SYS_socket, AF_VSOCK, SOCK_STREAM, 0));
        CHECK(newer, "x32 open_tree_attr (467)", syscall(X32_BIT | NR_open_tree_attr, -1, NULL, 0, NULL, 0));
        CHECK(newer, "x32 syscall 600", syscall(X32_BIT | 600, 0, 0, 0));
        if (have_i386()) {
                CHECK(deny, "i386 mount", syscall_i386(21, 0, 0));
                CHECK(deny, "i386 signal", syscall_i386(48, SIGUSR2, 0));
                CHECK(deny_k, "i386 clock_settime64", syscall_i386(404, CLOCK_REALTIME, 0));
                CHECK(newer, "i386 open_tree_attr (467)", syscall_i386(NR_open_tree_attr, -1, 0));
                CHECK(OK, "i386 getpid", syscall_i386(20, 0, 0));
        } else
                printf("skip i386: no IA32 emulation\n");

        printf("seccomp-%s: %u failed\n", mode, failed);
        return failed > 0;
}
