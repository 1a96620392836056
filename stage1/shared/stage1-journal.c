/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "macro.h"
#include "stage1-journal.h"
#include "stage1-util.h"

#define JOURNAL_STDOUT_SOCKET "/run/systemd/journal/stdout"
#define JOURNAL_NAMESPACE_STDOUT_SOCKET_FMT "/run/systemd/journal.%s/stdout"

/* journald's stream protocol, as sd_journal_stream_fd() speaks it, plus
 * the unit id line that sd_journal_stream_fd() leaves empty: journald
 * learns a stream's unit (and so the unit's LogExtraFields, the pod and
 * app fields) from the peer's cgroup when the first line arrives; an app
 * that prints and exits at once has taken this helper with it by then,
 * and journald falls back to the unit id of the header (accepted from
 * root peers only). */
static int journal_stream_open(const char *log_namespace, const char *identifier, const char *unit, int priority) {
        union {
                struct sockaddr sa;
                struct sockaddr_un un;
        } sa = { .un.sun_family = AF_UNIX, .un.sun_path = JOURNAL_STDOUT_SOCKET };
        _cleanup_free_ char *header = NULL;
        _cleanup_close_ int fd = -EBADF;
        int len, r;

        /* log_namespace_is_valid() keeps it well inside sun_path. */
        if (log_namespace &&
            snprintf(sa.un.sun_path, sizeof(sa.un.sun_path), JOURNAL_NAMESPACE_STDOUT_SOCKET_FMT, log_namespace) >=
                    (int) sizeof(sa.un.sun_path))
                return -EINVAL;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, &sa.sa, sizeof(sa.un)) < 0)
                return -errno;
        if (shutdown(fd, SHUT_RD) < 0)
                return -errno;
        /* A large buffer, as sd_journal_stream_fd() takes: a burst of output
         * waits in it rather than in the app. Best effort. */
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int) { 8 * 1024 * 1024 }, sizeof(int));

        /* identifier, unit id, priority, level prefix, to syslog, to kmsg,
         * to console */
        len = asprintf(&header, "%s\n%s\n%i\n0\n0\n0\n0\n", identifier, strempty(unit), priority);
        if (len < 0)
                return -ENOMEM;
        r = loop_write(fd, header, (size_t) len);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

/* Our own unit: peapodd's app unit. Without it the header carries no unit
 * and journald relies on the peer's cgroup alone. */
static char *own_unit(void) {
        char cgroup[4096];
        char *unit = NULL;

        if (read_small_fileat(AT_FDCWD, "/proc/self/cgroup", cgroup, sizeof(cgroup)) >= 0)
                (void) cgroup_contents_unit(cgroup, &unit);
        return unit;
}

/* The app's stdout and stderr: priority 6 and 3; without journald, copies
 * of our own stdout and stderr. */
static int open_app_streams(const char *log_namespace, const char *identifier, int *ret_out, int *ret_err) {
        _cleanup_close_ int out = -EBADF, err = -EBADF;
        _cleanup_free_ char *unit = own_unit();

        out = journal_stream_open(log_namespace, identifier, unit, LOG_INFO);
        if (out >= 0)
                err = journal_stream_open(log_namespace, identifier, unit, LOG_ERR);
        if (out < 0 || err < 0) {
                log_warning_errno(out < 0 ? out : err, "Failed to connect to journald, app logs go to our stdout/stderr: %m");
                out = safe_close(out);
                /* Copies above 2, so that dup2() onto 1 and 2 later cannot
                 * clobber one stream with the other. */
                out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
                if (out < 0)
                        return log_error_errno(errno, "Failed to duplicate stdout: %m");
                err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
                if (err < 0)
                        return log_error_errno(errno, "Failed to duplicate stderr: %m");
        }

        *ret_out = TAKE_FD(out);
        *ret_err = TAKE_FD(err);
        return 0;
}

/* With a namespace, our own complaints onto a stream there, as they were
 * on the unit's own stream when stage0 set LogNamespace=: err_fd (the
 * app's stderr stream, which says the same) or, without one (-EBADF), a
 * stream of their own. Best effort: a failure leaves stderr as it is.
 * Then nothing of ours goes to the unit's stream (stdout and stderr, one
 * stream of the system journal): it ends. journald keeps every open
 * stream in its fd store at PID 1 (to survive its restarts), a store of
 * at most 4224 shared by all the host's services, which PID 1 searches
 * with kcmp() for every new stream: one held per app for the app's life
 * grew with the pods in the host's journald and PID 1. */
static int complaints_to_journal(const char *log_namespace, const char *identifier, int err_fd) {
        _cleanup_close_ int own = -EBADF, null = -EBADF;

        if (!log_namespace)
                return 0;
        if (err_fd < 0) {
                _cleanup_free_ char *unit = own_unit();

                own = journal_stream_open(log_namespace, identifier, unit, LOG_ERR);
                if (own < 0)
                        return log_warning_errno(own, "Failed to connect to journald, our errors stay on the unit's stream: %m");
                err_fd = own;
        }
        if (dup2(err_fd, STDERR_FILENO) < 0)
                return log_warning_errno(errno, "Failed to move our errors to the journal: %m");
        null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
                return log_warning_errno(errno, "Failed to let go of the unit's journal stream: %m");
        return 0;
}

int stage1_app_journal_open(const char *log_namespace, const char *identifier, bool streams, int *ret_out,
                            int *ret_err) {
        if (streams) {
                int r = open_app_streams(log_namespace, identifier, ret_out, ret_err);

                if (r < 0)
                        return r;
        }
        (void) complaints_to_journal(log_namespace, identifier, streams ? *ret_err : -EBADF);
        return 0;
}
