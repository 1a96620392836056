/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Terminals and byte relays of 'peapod enter' and 'peapod run -i/-t'.
 * Neither ever hands the pod a terminal of the caller's: any fd of one
 * lets what runs inside push input into the caller's shell (TIOCSTI,
 * where the kernel still allows it) or take it as its controlling
 * terminal. Input goes through a pipe we feed; a terminal is a pty we
 * make for the command and whose master we keep. */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "io-util.h"

static struct termios saved_termios;
static bool termios_saved;
static volatile sig_atomic_t winch;

void cli_terminal_restore(void) {
        if (termios_saved)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
}

int cli_terminal_make_raw(void) {
        struct termios t;

        if (!isatty(STDIN_FILENO))
                return 0;
        if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return -errno;
        if (!termios_saved)
                /* Every way out but a fatal signal passes here. */
                atexit(cli_terminal_restore);
        termios_saved = true;
        t = saved_termios;
        cfmakeraw(&t);
        return tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0 ? -errno : 1;
}

static void on_winch(int sig) {
        winch = 1;
}

void cli_pty_watch_resize(void) {
        struct sigaction sa = { .sa_handler = on_winch, .sa_flags = SA_RESTART };

        (void) sigaction(SIGWINCH, &sa, NULL);
}

/* Our terminal's size onto the pty: the kernel then sends SIGWINCH to the
 * pty's foreground. Without a terminal of ours the pty keeps its size. */
static void pty_copy_size(int master) {
        struct winsize ws;

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) >= 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) >= 0)
                (void) ioctl(master, TIOCSWINSZ, &ws);
}

void cli_pty_resize_if_needed(int master) {
        if (!winch || master < 0)
                return;
        winch = 0;
        pty_copy_size(master);
}

int cli_pty_open(int *ret_master, int *ret_slave) {
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        char name[64];

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return -errno;
        if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
                return -errno;
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return -errno;
        pty_copy_size(master);
        *ret_master = TAKE_FD(master);
        *ret_slave = TAKE_FD(slave);
        return 0;
}

/* Copies what is readable from one fd to another: 1 copied, 0 nothing now
 * (EAGAIN), -errno at EOF (-EPIPE) or on errors. */
static int relay(int from, int to) {
        char buf[4096];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n < 0)
                return -errno;
        if (n == 0)
                return -EPIPE;
        return loop_write(to, buf, (size_t) n) < 0 ? -EPIPE : 1;
}

bool cli_relay_live(const CliRelay *r) {
        return !r->ended && *r->from >= 0 && *r->to >= 0;
}

void cli_relay_step(CliRelay *r, bool drain) {
        int k;

        if (drain)
                (void) fcntl(*r->from, F_SETFL, fcntl(*r->from, F_GETFL) | O_NONBLOCK);
        do
                k = relay(*r->from, *r->to);
        while (drain && k > 0);
        if (k < 0) {
                /* EOF, EIO from a pty master whose slaves are all closed
                 * (the command is gone, its end is on the way over the
                 * bus), or EPIPE on our side. */
                r->ended = true;
                if (r->close_at_end)
                        *r->close_at_end = safe_close(*r->close_at_end);
        }
}

size_t cli_relays_pollfds(const CliRelay *relays, size_t n, struct pollfd *pfd) {
        for (size_t i = 0; i < n; i++) {
                const CliRelay *r = &relays[i];

                pfd[i] = (struct pollfd) { .fd = -1 };
                if (!cli_relay_live(r))
                        continue;
                if (!r->output) {
                        /* Input is read only when the command's side has
                         * room: a write that blocks until the command
                         * reads would hold us, signals and the pod's end
                         * included. Until then, wait for that room. */
                        struct pollfd w = { .fd = *r->to, .events = POLLOUT };

                        if (poll(&w, 1, 0) == 0) {
                                pfd[i] = w;
                                continue;
                        }
                }
                pfd[i] = (struct pollfd) { .fd = *r->from, .events = POLLIN };
        }
        return n;
}

void cli_relays_dispatch(CliRelay *relays, size_t n, const struct pollfd *pfd) {
        for (size_t i = 0; i < n; i++)
                if (cli_relay_live(&relays[i]) && pfd[i].fd == *relays[i].from &&
                    (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                        cli_relay_step(&relays[i], false);
}

void cli_relays_drain_output(CliRelay *relays, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (relays[i].output && cli_relay_live(&relays[i]))
                        cli_relay_step(&relays[i], true);
}

/* A pty master that the app's helper sent (peapod-stage1-app --tty): ours
 * to relay, at our terminal's size, and then one byte back, on which the
 * helper lets the app start. Anything else that came is closed unused. */
static void run_io_take_master(CliRunIo *io) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * 4)];
        } control = {};
        char byte;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control) };
        int master = -EBADF;
        ssize_t n;

        n = recvmsg(io->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                /* The unit is gone (systemd held the other end). */
                io->sock = safe_close(io->sock);
                return;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                size_t k;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int fd, ptn;

                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (master < 0 && ioctl(fd, TIOCGPTN, &ptn) >= 0)
                                master = fd;
                        else
                                safe_close(fd);
                }
        }
        if (master < 0)
                return;
        safe_close(io->master);
        io->master = master;
        for (size_t i = 0; i < io->n_relays; i++)
                io->relays[i].ended = false;
        pty_copy_size(io->master);
        (void) send(io->sock, "", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

size_t cli_run_io_pollfds(CliRunIo *io, struct pollfd *pfd) {
        size_t n;

        cli_pty_resize_if_needed(io->master);
        n = cli_relays_pollfds(io->relays, io->n_relays, pfd);
        pfd[n++] = (struct pollfd) { .fd = io->sock, .events = POLLIN };
        return n;
}

void cli_run_io_dispatch(CliRunIo *io, const struct pollfd *pfd) {
        cli_relays_dispatch(io->relays, io->n_relays, pfd);
        if (io->sock >= 0 && pfd[io->n_relays].revents)
                run_io_take_master(io);
}

void cli_run_io_drain(CliRunIo *io) {
        cli_relays_drain_output(io->relays, io->n_relays);
}
