/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "stage1-child.h"

_noreturn_ void stage1_die_by_signal(int sig) {
        const struct rlimit no_core = {};
        sigset_t s;

        /* No core for us: the command's is the one that matters. */
        (void) setrlimit(RLIMIT_CORE, &no_core);
        (void) signal(sig, SIG_DFL);
        (void) kill(getpid(), sig);
        sigemptyset(&s);
        sigaddset(&s, sig);
        (void) sigprocmask(SIG_UNBLOCK, &s, NULL);
        _exit(128 + sig);
}

int stage1_wait_child(pid_t child, const sigset_t *mask) {
        for (;;) {
                siginfo_t si;
                int status;
                pid_t p;

                if (sigwaitinfo(mask, &si) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "Failed to wait for signals: %m");
                }
                if (si.si_signo != SIGCHLD) {
                        (void) kill(child, si.si_signo);
                        continue;
                }
                p = waitpid(child, &status, WNOHANG);
                if (p < 0)
                        return log_error_errno(errno, "Failed to wait for the command: %m");
                if (p == 0)
                        continue;
                if (WIFEXITED(status))
                        return WEXITSTATUS(status);
                if (WIFSIGNALED(status))
                        stage1_die_by_signal(WTERMSIG(status));
        }
}

int stage1_take_tty(void) {
        if (setsid() < 0)
                return log_error_errno(errno, "Failed to make a session: %m");
        if (ioctl(STDIN_FILENO, TIOCSCTTY, 1) < 0)
                return log_error_errno(errno, "Failed to make stdin our controlling terminal: %m");
        return 0;
}
