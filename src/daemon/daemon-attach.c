/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attachable stdins (Pod.AttachApp): an app created with Stdin reads a pipe
 * whose write end peapodd keeps for the app's life and hands to attachers;
 * an app created with Tty has a terminal made inside the pod, whose master
 * its helper sends us over a socket (peapod-stage1-app --tty-log) and
 * which we keep instead. Only the input goes through here; attachers read
 * the app's output from the journal, where it goes as for every app (the
 * helper copies a terminal's there), so an attacher can neither slow the
 * app down nor change what its log holds, and peapodd never relays a
 * byte. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "daemon-app.h"
#include "log.h"
#include "name.h"
#include "pod-app.h"
#include "string-util.h"

#define STDIN_FDNAME_PREFIX "stdin-"

#define ATTACH_WAITING_MAX 16

typedef struct AppStdinEntry {
        Daemon *daemon;
        char app_id[POD_ID_LEN + 1];
        /* The pipe's write end, or the terminal's master; -EBADF while the
         * master has not come yet over sock. */
        int fd;
        int sock;
        /* EPOLLERR (pipe) or EPOLLHUP (master): the app's side is gone;
         * EPOLLIN on sock: the master. */
        sd_event_source *source;
        /* AttachApp calls that came before the master. */
        sd_bus_message *waiting[ATTACH_WAITING_MAX];
        size_t n_waiting;
} AppStdinEntry;

static void entry_free(AppStdinEntry *e) {
        if (!e)
                return;
        for (size_t i = 0; i < e->n_waiting; i++) {
                (void) sd_bus_reply_method_errorf(e->waiting[i], BUS_ERROR_BAD_STATE,
                                                  "The terminal of app %s did not come", e->app_id);
                sd_bus_message_unref(e->waiting[i]);
        }
        sd_event_source_disable_unref(e->source);
        safe_close(e->fd);
        safe_close(e->sock);
        free(e);
}

/* systemd's file descriptor store (FileDescriptorStoreMax= in
 * peapodd.service) keeps the write end across a restart of peapodd, so an
 * app does not see its stdin end because peapodd restarted. systemd drops a
 * stored fd itself once it reports POLLERR (the app's unit released the
 * read end). Outside systemd these are no-ops. */
static void fdstore_remove(const char *app_id) {
        char msg[128];

        snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=" STDIN_FDNAME_PREFIX "%s", app_id);
        (void) sd_notify(false, msg);
}

static void fdstore_add(const char *app_id, int fd) {
        char msg[128];

        snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=" STDIN_FDNAME_PREFIX "%s", app_id);
        (void) sd_pid_notify_with_fds(0, false, msg, &fd, 1);
}

static AppStdinEntry **entry_find(Daemon *d, const char *app_id) {
        for (size_t i = 0; i < d->n_app_stdins; i++)
                if (streq(d->app_stdins[i]->app_id, app_id))
                        return &d->app_stdins[i];
        return NULL;
}

static void entry_drop(Daemon *d, AppStdinEntry **slot) {
        size_t i = slot - d->app_stdins;

        entry_free(*slot);
        memmove(slot, slot + 1, (d->n_app_stdins - i - 1) * sizeof(AppStdinEntry *));
        d->n_app_stdins--;
}

static int on_stdin_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        AppStdinEntry *e = userdata;
        Daemon *d = e->daemon;
        AppStdinEntry **slot = entry_find(d, e->app_id);

        /* Nobody reads the pipe any more: the app's unit is gone. */
        if (slot && *slot == e)
                entry_drop(d, slot);
        return 0;
}

static int on_master(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* Takes fd (sock: a socket the master will come over instead). A former
 * entry of the app (an earlier run) is replaced. */
static int entry_add(Daemon *d, const char *app_id, int fd, bool sock) {
        _cleanup_close_ int fd_close = fd;
        AppStdinEntry *e, **slot, **n;
        int r;

        slot = entry_find(d, app_id);
        if (slot)
                entry_drop(d, slot);
        n = reallocarray(d->app_stdins, d->n_app_stdins + 1, sizeof(AppStdinEntry *));
        if (!n)
                return -ENOMEM;
        d->app_stdins = n;
        e = calloc(1, sizeof(AppStdinEntry));
        if (!e)
                return -ENOMEM;
        *e = (AppStdinEntry) { .daemon = d, .fd = -EBADF, .sock = -EBADF };
        if (sock)
                e->sock = TAKE_FD(fd_close);
        else
                e->fd = TAKE_FD(fd_close);
        strncpy(e->app_id, app_id, POD_ID_LEN);
        /* No events asked: epoll reports EPOLLERR on a write end without
         * readers, and EPOLLHUP on a master without slaves, all the same. */
        if (sock)
                r = sd_event_add_io(d->event, &e->source, e->sock, EPOLLIN, on_master, e);
        else
                r = sd_event_add_io(d->event, &e->source, e->fd, 0, on_stdin_event, e);
        if (r < 0) {
                entry_free(e);
                return r;
        }
        d->app_stdins[d->n_app_stdins++] = e;
        return 0;
}

static int reply_with(sd_bus_message *m, AppStdinEntry *e);

/* The master, as peapod-stage1-app --tty-log sends it: taken only if it
 * is a pty master; the terminal gets a size (the helper waits for our byte
 * so that the app never sees none), then it is ours for the app's life. */
static int on_master(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        AppStdinEntry *e = userdata;
        Daemon *d = e->daemon;
        AppStdinEntry **slot = entry_find(d, e->app_id);
        struct winsize ws = { .ws_row = 24, .ws_col = 80 };
        char byte;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control) };
        struct cmsghdr *c;
        int master = -EBADF, r;
        unsigned ptn;

        if (!slot || *slot != e)
                return 0;
        if (recvmsg(e->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) < 0 && errno == EAGAIN)
                return 0;
        for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&master, CMSG_DATA(c), sizeof(int));
        if (master < 0 || ioctl(master, TIOCGPTN, &ptn) < 0) {
                /* The helper ended before its terminal was made (a failed
                 * start), or sent something else. */
                safe_close(master);
                entry_drop(d, slot);
                return 0;
        }
        (void) ioctl(master, TIOCSWINSZ, &ws);
        (void) send(e->sock, "", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        e->source = sd_event_source_disable_unref(e->source);
        e->sock = safe_close(e->sock);
        e->fd = master;
        fdstore_remove(e->app_id);
        fdstore_add(e->app_id, e->fd);
        r = sd_event_add_io(d->event, &e->source, e->fd, 0, on_stdin_event, e);
        if (r < 0) {
                log_error_errno(r, "Failed to watch the terminal of app %s: %m", e->app_id);
                entry_drop(d, slot);
                return 0;
        }
        for (size_t i = 0; i < e->n_waiting; i++) {
                r = reply_with(e->waiting[i], e);
                if (r < 0)
                        (void) sd_bus_reply_method_errnof(e->waiting[i], r, "Failed to attach: %m");
                e->waiting[i] = sd_bus_message_unref(e->waiting[i]);
        }
        e->n_waiting = 0;
        return 0;
}

int daemon_app_stdin_open(void *userdata, const Pod *p, const App *a, int *ret_fd) {
        Daemon *d = userdata;
        int fds[2], r;

        if (a->tty) {
                /* Our end non-blocking: the loop reads it when the master comes. */
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
                        return -errno;
                (void) fcntl(fds[0], F_SETFL, O_NONBLOCK);
                fdstore_remove(a->id);
                r = entry_add(d, a->id, fds[0], true);
                if (r < 0) {
                        safe_close(fds[1]);
                        return r;
                }
                *ret_fd = fds[1];
                return 0;
        }
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        fdstore_remove(a->id);
        fdstore_add(a->id, fds[1]);
        r = entry_add(d, a->id, fds[1], false);
        if (r < 0) {
                fdstore_remove(a->id);
                safe_close(fds[0]);
                return r;
        }
        *ret_fd = fds[0];
        return 0;
}

void daemon_app_stdins_restore(Daemon *d) {
        char **names = NULL;
        int n;

        n = sd_listen_fds_with_names(true, &names);
        if (n <= 0)
                return;
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                const char *id = names ? startswith(names[i], STDIN_FDNAME_PREFIX) : NULL;

                (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
                if (!id || !id_is_valid(id) || entry_add(d, id, fd, false) < 0) {
                        safe_close(fd);
                        continue;
                }
                log_debug("Kept the stdin of app %s across the restart.", id);
        }
        for (int i = 0; names && i < n; i++)
                free(names[i]);
        free(names);
}

void daemon_app_stdins_free(Daemon *d) {
        for (size_t i = 0; i < d->n_app_stdins; i++)
                entry_free(d->app_stdins[i]);
        d->app_stdins = mfree(d->app_stdins);
        d->n_app_stdins = 0;
}

/* A write end of its own for each attacher: reopening the pipe through
 * /proc makes a new open file description, so one attacher's O_NONBLOCK
 * is not another's. Non-blocking open: with no reader left it fails
 * (ENXIO) instead of waiting for one. */
static int reopen_write_end(int fd) {
        char path[64];
        int r, n;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (n < 0)
                return -errno;
        r = fcntl(n, F_SETFL, 0);
        if (r < 0) {
                r = -errno;
                safe_close(n);
                return r;
        }
        return n;
}

/* The caller's descriptor of e: a dup of the master (a reopen would make a
 * new pty); a pipe reopened. */
static int reply_with(sd_bus_message *m, AppStdinEntry *e) {
        _cleanup_close_ int fd = -EBADF;
        unsigned ptn;

        if (ioctl(e->fd, TIOCGPTN, &ptn) >= 0)
                fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 3);
        else
                fd = reopen_write_end(e->fd);
        if (fd < 0)
                return fd == -1 ? -errno : fd;
        return sd_bus_reply_method_return(m, "h", fd);
}

/* Pod.AttachApp's work for a of p, once the call is authorized and read:
 * 1 when call m is answered (or queued until the app's terminal is
 * there), -EALREADY with err set when the app's state or stdin does not
 * allow it. */
int daemon_app_attach(Daemon *d, Pod *p, App *a, sd_bus_message *m, PeapodError *err) {
        _cleanup_close_ int fd = -EBADF;
        AppStdinEntry **slot;
        int r;

        r = pod_app_attach_check(p, a, err);
        if (r < 0)
                return r;
        slot = entry_find(d, a->id);
        if (!slot)
                return peapod_error_set(err, -EALREADY,
                                        a->stdin_once ? "The stdin of app %s of pod %s was attached once (StdinOnce)"
                                                      : "The stdin of app %s of pod %s is closed",
                                        a->name, p->name);
        if ((*slot)->fd < 0) {
                /* The app's helper is making its terminal: answered then. */
                if ((*slot)->n_waiting >= ATTACH_WAITING_MAX)
                        return peapod_error_set(err, -EALREADY, "The terminal of app %s is not ready", a->name);
                (*slot)->waiting[(*slot)->n_waiting++] = sd_bus_message_ref(m);
                return 1;
        }
        /* A terminal has no EOF to give (^D is the app's to read): with
         * Tty, StdinOnce does not take the master away. */
        if (a->stdin_once && !a->tty) {
                /* Ours goes to the caller, whose close is the app's EOF. */
                fd = TAKE_FD((*slot)->fd);
                entry_drop(d, slot);
                fdstore_remove(a->id);
                /* Blocking, as the pipe was made. */
                (void) fcntl(fd, F_SETFL, 0);
                log_info("Attached to the stdin of app %s of pod %s (handed over: StdinOnce).", a->name, p->name);
                r = sd_bus_reply_method_return(m, "h", fd);
                return r < 0 ? r : 1;
        }
        r = reply_with(m, *slot);
        if (r < 0)
                return r;
        log_info("Attached to the %s of app %s of pod %s.", a->tty ? "terminal" : "stdin", a->name, p->name);
        return 1;
}
