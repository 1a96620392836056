/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

int stage1_wait_child_status(pid_t child, const sigset_t *mask, int *ret_status) {
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
                if (p == 0 || !(WIFEXITED(status) || WIFSIGNALED(status)))
                        continue;
                *ret_status = status;
                return 0;
        }
}

int stage1_mirror_status(int status) {
        if (WIFSIGNALED(status))
                stage1_die_by_signal(WTERMSIG(status));
        return WEXITSTATUS(status);
}

int stage1_wait_child(pid_t child, const sigset_t *mask) {
        int r, status;

        r = stage1_wait_child_status(child, mask, &status);
        if (r < 0)
                return r;
        return stage1_mirror_status(status);
}

int stage1_take_tty(void) {
        if (setsid() < 0)
                return log_error_errno(errno, "Failed to make a session: %m");
        if (ioctl(STDIN_FILENO, TIOCSCTTY, 1) < 0)
                return log_error_errno(errno, "Failed to make stdin our controlling terminal: %m");
        return 0;
}

int stage1_pty_for_app(void) {
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        char byte = 0;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control) };
        struct cmsghdr *c;
        int unlock = 0;
        ssize_t n;

        /* The devpts instance mounted for this app (default), or the
         * host's (fly, which shares it): the root is the app's by now. */
        master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return log_error_errno(errno, "Failed to open /dev/pts/ptmx: %m");
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return log_error_errno(errno, "Failed to unlock the pty: %m");
        /* By the master, not by a name that could be another node. */
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return log_error_errno(errno, "Failed to open the pty: %m");

        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &master, sizeof(int));
        if (sendmsg(STDIN_FILENO, &mh, MSG_NOSIGNAL) < 0)
                return log_error_errno(errno, "Failed to pass the terminal to the caller: %m");
        master = safe_close(master);
        /* The caller sets the size before it answers, so the app never
         * sees an unset one; its end closed (it is gone) will do too. */
        do
                n = read(STDIN_FILENO, &byte, 1);
        while (n < 0 && errno == EINTR);

        if (setsid() < 0)
                return log_error_errno(errno, "Failed to make a session: %m");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return log_error_errno(errno, "Failed to make the pty our controlling terminal: %m");
        if (dup2(slave, STDIN_FILENO) < 0 || dup2(slave, STDOUT_FILENO) < 0 || dup2(slave, STDERR_FILENO) < 0)
                return log_error_errno(errno, "Failed to make the pty our stdio: %m");
        return 0;
}
