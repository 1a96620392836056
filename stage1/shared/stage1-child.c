/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "io-util.h"
#include "log.h"
#include "stage1-child.h"

void stage1_block_signals(const int *forwarded, size_t n, sigset_t *ret_mask) {
        (void) signal(SIGCHLD, SIG_DFL);
        sigemptyset(ret_mask);
        for (size_t i = 0; i < n; i++)
                sigaddset(ret_mask, forwarded[i]);
        sigaddset(ret_mask, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, ret_mask, NULL);
}

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

static int send_fd(int sock, int fd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        char byte = 0;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control) };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int stage1_pty_for_app(int keep_fd) {
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        int unlock = 0, r;
        char byte;
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

        /* --tty-log: our parent copies what the terminal shows to the
         * journal; it gets the master first, so that nothing the app
         * writes is missed. Our end of that socket goes at once. */
        if (keep_fd >= 0) {
                r = send_fd(keep_fd, master);
                safe_close(keep_fd);
                if (r < 0)
                        return log_error_errno(r, "Failed to pass the terminal to our parent: %m");
        }
        r = send_fd(STDIN_FILENO, master);
        if (r < 0)
                return log_error_errno(r, "Failed to pass the terminal to the caller: %m");
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

/* The master from our child (stage1_pty_for_app()'s keep_fd): -EBADF when
 * it ended without sending one. Only a pty master is taken. */
static int recv_master(int sock) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        char byte;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control) };
        struct cmsghdr *c;
        unsigned ptn;
        int fd = -EBADF;

        if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) <= 0)
                return -EBADF;
        for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        if (fd >= 0 && ioctl(fd, TIOCGPTN, &ptn) < 0)
                fd = safe_close(fd);
        return fd;
}

int stage1_wait_child_output(pid_t child, const sigset_t *mask, Stage1Relay *relay, int keep_sock, int *ret_status) {
        _cleanup_close_ int sfd = -EBADF;
        int sock = keep_sock;

        if (!relay)
                return stage1_wait_child_status(child, mask, ret_status);
        sfd = signalfd(-1, mask, SFD_CLOEXEC);
        if (sfd < 0)
                return log_error_errno(errno, "Failed to watch signals: %m");
        for (;;) {
                struct pollfd p[2 + STAGE1_RELAY_SOURCES_MAX] = {
                        { .fd = sfd, .events = POLLIN },
                        { .fd = sock, .events = POLLIN },
                };
                size_t n = stage1_relay_n(relay);
                struct signalfd_siginfo si;
                int status;
                pid_t pid;

                for (size_t i = 0; i < n; i++)
                        p[2 + i] = (struct pollfd) { .fd = stage1_relay_fd(relay, i), .events = POLLIN };
                if (poll(p, 2 + n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "Failed to wait: %m");
                }
                if (p[1].revents) {
                        int master = recv_master(sock);

                        /* Shared with whoever attaches (peapodd hands it
                         * out): never waited on, only read. */
                        if (master >= 0 && stage1_relay_add(relay, master, LOG_INFO) < 0)
                                log_warning("Failed to relay the app's terminal to the journal.");
                        sock = -1;
                }
                for (size_t i = 0; i < n; i++)
                        if (p[2 + i].revents)
                                (void) stage1_relay_read(relay, i);
                if (!(p[0].revents & POLLIN))
                        continue;
                if (read(sfd, &si, sizeof(si)) != sizeof(si))
                        continue;
                if ((int) si.ssi_signo != SIGCHLD) {
                        (void) kill(child, si.ssi_signo);
                        continue;
                }
                pid = waitpid(child, &status, WNOHANG);
                if (pid < 0)
                        return log_error_errno(errno, "Failed to wait for the command: %m");
                if (pid == 0 || !(WIFEXITED(status) || WIFSIGNALED(status)))
                        continue;
                /* The app is gone: what it wrote before it went. */
                stage1_relay_finish(relay);
                *ret_status = status;
                return 0;
        }
}
