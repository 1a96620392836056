/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapod-stage1-init of the fly flavour: the pod's leader and nothing else.
 * A fly pod shares the host's namespaces, so the leader holds none; it
 * gives the pod a scope, a pid that apps are checked against, and a
 * lifetime that systemd and peapodd stop. It still lives in a mount
 * namespace of its own on an empty read-only tmpfs, so that anything that
 * acts in the leader's root (as machined's shell and copy do) finds
 * nothing of the host. See stage1/README.md. */

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "log.h"
#include "stage1-sealed.h"
#include "stage1-util.h"

static int leader_setup(const InitArgs *args) {
        if (unshare(CLONE_NEWNS) < 0) {
                log_error_errno(errno, "Failed to create a mount namespace: %m");
                return STAGE1_INIT_EXIT_NAMESPACES;
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                log_error_errno(errno, "Failed to make mount propagation private: %m");
                return STAGE1_INIT_EXIT_PROPAGATION;
        }
        if (mount("tmpfs", args->root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555,size=64k") < 0) {
                log_error_errno(errno, "Failed to mount tmpfs on %s: %m", args->root);
                return STAGE1_INIT_EXIT_ROOT_TMPFS;
        }
        if (chdir(args->root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
            chdir("/") < 0) {
                log_error_errno(errno, "Failed to pivot into %s: %m", args->root);
                return STAGE1_INIT_EXIT_PIVOT;
        }
        if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                log_error_errno(errno, "Failed to remount the root read-only: %m");
                return STAGE1_INIT_EXIT_READ_ONLY;
        }
        return 0;
}

static bool is_stop_signal(int sig) {
        return sig == SIGTERM || sig == SIGINT || sig == SIGRTMIN + 3 || sig == SIGRTMIN + 4;
}

static _noreturn_ void leader_main(const InitArgs *args, int ready_pipe) {
        _cleanup_close_ int null_fd = -EBADF;
        sigset_t all;
        int sig, r;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd < 0) {
                log_error_errno(errno, "Failed to open /dev/null: %m");
                _exit(STAGE1_INIT_EXIT_ROOT_POPULATE);
        }
        r = leader_setup(args);
        if (r != 0)
                _exit(r);

        (void) prctl(PR_SET_PDEATHSIG, 0);
        if (loop_write(ready_pipe, "R", 1) < 0)
                _exit(STAGE1_INIT_EXIT_READY_FD);
        ready_pipe = safe_close(ready_pipe);
        (void) dup2(null_fd, STDIN_FILENO);
        (void) dup2(null_fd, STDOUT_FILENO);
        (void) dup2(null_fd, STDERR_FILENO);
        null_fd = safe_close(null_fd);
        (void) close_range(3, ~0U, 0);

        /* Every signal was blocked before fork(): none is lost. Not PID 1
         * of anything, so the default actions would do, but the stop
         * signals of the contract are all answered the same way. */
        sigfillset(&all);
        for (;;) {
                if (sigwait(&all, &sig) != 0)
                        continue;
                if (is_stop_signal(sig))
                        _exit(EXIT_SUCCESS);
                if (sig == SIGCHLD)
                        while (waitpid(-1, NULL, WNOHANG) > 0)
                                ;
        }
}

static int run(int argc, char *argv[]) {
        _cleanup_close_ int ready_r = -EBADF, ready_w = -EBADF;
        InitArgs args;
        sigset_t all, old;
        char line[32];
        int p[2], r, status = 0;
        pid_t pid;
        ssize_t n;

        r = init_args_parse(argc, argv, &args);
        if (r < 0)
                return STAGE1_INIT_EXIT_USAGE;
        if (r > 0)
                return EXIT_SUCCESS;
        /* The host's namespaces: a sysctl set here would be the host's. */
        if (args.n_sysctls > 0) {
                log_error("--sysctl= is not for the fly flavour: its pods share the host's namespaces.");
                return STAGE1_INIT_EXIT_USAGE;
        }
        if (fcntl(args.ready_fd, F_GETFD) < 0) {
                log_error_errno(errno, "--ready-fd=%d is not open: %m", args.ready_fd);
                return STAGE1_INIT_EXIT_USAGE;
        }

        if (pipe2(p, O_CLOEXEC) < 0) {
                log_error_errno(errno, "Failed to create pipe: %m");
                return STAGE1_INIT_EXIT_FORK;
        }
        ready_r = p[0];
        ready_w = p[1];

        sigfillset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, &old);
        pid = fork();
        if (pid < 0) {
                log_error_errno(errno, "Failed to fork the leader: %m");
                return STAGE1_INIT_EXIT_FORK;
        }
        if (pid == 0) {
                ready_r = safe_close(ready_r);
                leader_main(&args, TAKE_FD(ready_w));
        }
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        ready_w = safe_close(ready_w);

        do
                n = read(ready_r, line, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1) {
                if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) != 0)
                        return WEXITSTATUS(status);
                log_error("The leader died before it was ready.");
                return STAGE1_INIT_EXIT_PID1_DIED;
        }

        (void) signal(SIGPIPE, SIG_IGN);
        snprintf(line, sizeof(line), "%i\n", (int) pid);
        r = loop_write(args.ready_fd, line, strlen(line));
        if (r < 0 || (close(args.ready_fd) < 0 && errno != EINTR)) {
                (void) kill(pid, SIGKILL);
                log_error_errno(r < 0 ? r : errno, "Failed to write to --ready-fd=%d: %m", args.ready_fd);
                return STAGE1_INIT_EXIT_READY_FD;
        }
        return EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        log_set_program(program_invocation_short_name);
        /* The leader is in the host's PID namespace, which fly apps share. */
        return stage1_helper_main(argc, argv, run, STAGE1_INIT_EXIT_SEALED);
}
