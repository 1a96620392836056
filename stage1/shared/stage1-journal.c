/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "fs-util.h"
#include "io-util.h"
#include "log.h"
#include "macro.h"
#include "stage1-journal.h"
#include "stage1-util.h"

#define JOURNAL_STDOUT_SOCKET "/run/systemd/journal/stdout"
#define JOURNAL_NAMESPACE_STDOUT_SOCKET_FMT "/run/systemd/journal.%s/stdout"

/* The system journal's directory, opened while our root is the host's.
 * Our child shares our mount namespace, and its pivot_root() into the
 * app's root moves our root there too: a path looked up from "/" after
 * that is the app's (hostile) one. The fallback stream, which may be
 * needed at any time (stage1_journal_system_stream()), connects from
 * here instead. */
static int system_journal_dir = -EBADF;

/* connect() to name in dir_fd: from there as our working directory
 * (there is no connectat()), then back. */
static int connect_in(int fd, int dir_fd, const char *name) {
        union {
                struct sockaddr sa;
                struct sockaddr_un un;
        } sa = { .un.sun_family = AF_UNIX };
        _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r = 0;

        strncpy(sa.un.sun_path, name, sizeof(sa.un.sun_path) - 1);
        if (fchdir(dir_fd) < 0)
                return -errno;
        if (connect(fd, &sa.sa, sizeof(sa.un)) < 0)
                r = -errno;
        if (cwd >= 0)
                (void) fchdir(cwd);
        return r;
}

/* journald's stream protocol, as sd_journal_stream_fd() speaks it, plus
 * the unit id line that sd_journal_stream_fd() leaves empty: journald
 * learns a stream's unit (and so the unit's LogExtraFields, the pod and
 * app fields) from the peer's cgroup when the first line arrives; an app
 * that prints and exits at once has taken this helper with it by then,
 * and journald falls back to the unit id of the header (accepted from
 * root peers only). */
static int journal_stream_open(const char *log_namespace, const char *identifier, const char *unit, int priority,
                               bool level_prefix) {
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
        if (!log_namespace && system_journal_dir >= 0) {
                r = connect_in(fd, system_journal_dir, "stdout");
                if (r < 0)
                        return r;
        } else if (connect(fd, &sa.sa, sizeof(sa.un)) < 0)
                return -errno;
        if (shutdown(fd, SHUT_RD) < 0)
                return -errno;
        /* A large buffer, as sd_journal_stream_fd() takes: a burst of output
         * waits in it rather than in the app. Best effort. */
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int) { 8 * 1024 * 1024 }, sizeof(int));

        /* identifier, unit id, priority, level prefix, to syslog, to kmsg,
         * to console */
        len = asprintf(&header, "%s\n%s\n%i\n%i\n0\n0\n0\n", identifier, strempty(unit), priority, level_prefix);
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

/* journald accepted the stream and closed it at once: it serves no more
 * (journald 252's STDOUT_STREAMS_MAX, 4096), as opposed to no journald. */
static bool stream_refused(int error) {
        return error == -EPIPE || error == -ECONNRESET;
}

/* The stream of the app's output: priority 6 and a prefix per line
 * (stage1-relay.h); without a namespace, the system journal's. */
static int open_relay_stream(const char *log_namespace, const char *identifier) {
        _cleanup_free_ char *unit = own_unit();

        return journal_stream_open(log_namespace, identifier, unit, LOG_INFO, true);
}

/* Our complaints onto stream (prefixed: the relay's, at priority 3 by
 * their prefix; else a stream of their own at priority 3); then our
 * stdout lets go of the unit's stream: journald keeps every open stream in
 * its fd store at PID 1, a store of at most 4224 shared by all the host's
 * services, which PID 1 searches with kcmp() for every new stream. Best
 * effort. */
static void complaints_onto(int stream, bool prefixed) {
        _cleanup_close_ int null = -EBADF;

        if (dup2(stream, STDERR_FILENO) < 0) {
                log_warning_errno(errno, "Failed to move our errors to the journal: %m");
                return;
        }
        log_set_priority_prefix(prefixed);
        null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
                log_warning_errno(errno, "Failed to let go of the unit's journal stream: %m");
}

/* --tty without --tty-log: the app's output is its terminal's, and our
 * complaints get a stream of their own, with a namespace. */
static void complaints_to_own_stream(const char *log_namespace, const char *identifier) {
        _cleanup_free_ char *unit = NULL;
        _cleanup_close_ int own = -EBADF;

        if (!log_namespace)
                return;
        unit = own_unit();
        own = journal_stream_open(log_namespace, identifier, unit, LOG_ERR, false);
        if (own < 0) {
                log_warning_errno(own, "Failed to connect to journald, our errors stay on the unit's stream: %m");
                return;
        }
        complaints_onto(own, false);
}

/* A pipe the relay reads at priority; its write end, for the app, in
 * *ret_write_end. */
static int relay_pipe(Stage1Relay *relay, int priority, int *ret_write_end) {
        int p[2], r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        *ret_write_end = p[1];
        r = stage1_relay_add(relay, p[0], priority);
        return r < 0 ? r : 0;
}

/* The pipes of the app's stdout and stderr, read by o->relay. */
static int relay_pipes(Stage1AppOutput *o) {
        int r;

        r = relay_pipe(o->relay, LOG_INFO, &o->app_out);
        if (r < 0)
                return log_error_errno(r, "Failed to relay the app's stdout: %m");
        r = relay_pipe(o->relay, LOG_ERR, &o->app_err);
        if (r < 0)
                return log_error_errno(r, "Failed to relay the app's stderr: %m");
        return 0;
}

/* No journald: the app writes to copies of our own stdout and stderr,
 * above 2, so that dup2() onto 1 and 2 later cannot clobber one with the
 * other; a terminal is copied to our stdout, without prefixes. */
static int without_journald(bool tty_log, Stage1AppOutput *o) {
        if (tty_log) {
                int out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);

                if (out < 0)
                        return log_error_errno(errno, "Failed to duplicate stdout: %m");
                o->relay = stage1_relay_new(out, NULL, false);
                return o->relay ? 0 : log_oom();
        }
        o->app_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        if (o->app_out < 0)
                return log_error_errno(errno, "Failed to duplicate stdout: %m");
        o->app_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (o->app_err < 0)
                return log_error_errno(errno, "Failed to duplicate stderr: %m");
        return 0;
}

int stage1_app_output_open(const char *log_namespace, const char *identifier, bool streams, bool tty_log,
                           Stage1AppOutput *ret) {
        _cleanup_(stage1_app_output_done) Stage1AppOutput o = STAGE1_APP_OUTPUT_NULL;
        int stream, r;

        (void) signal(SIGPIPE, SIG_IGN);
        if (system_journal_dir < 0)
                system_journal_dir = open("/run/systemd/journal", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (!streams) {
                complaints_to_own_stream(log_namespace, identifier);
                *ret = o;
                return 0;
        }
        stream = open_relay_stream(log_namespace, identifier);
        if (stream < 0 && log_namespace && stream_refused(stream)) {
                log_warning_errno(stream, "journald of namespace %s took no more streams (it serves at most 4096, one "
                                  "per app): the app's output goes to the system journal instead: %m", log_namespace);
                stream = stage1_journal_system_stream(identifier);
        }
        if (stream < 0) {
                log_warning_errno(stream, "Failed to connect to journald, app logs go to our stdout/stderr: %m");
                r = without_journald(tty_log, &o);
                if (r < 0)
                        return r;
                *ret = o;
                o = STAGE1_APP_OUTPUT_NULL;
                return 0;
        }
        if (log_namespace)
                complaints_onto(stream, true);
        o.relay = stage1_relay_new(stream, identifier, true);
        if (!o.relay)
                return log_oom();
        if (!tty_log) {
                r = relay_pipes(&o);
                if (r < 0)
                        return r;
        }
        *ret = o;
        o = STAGE1_APP_OUTPUT_NULL;
        return 0;
}

void stage1_app_output_done(Stage1AppOutput *o) {
        o->app_out = safe_close(o->app_out);
        o->app_err = safe_close(o->app_err);
        o->relay = stage1_relay_free(o->relay);
}

int stage1_journal_system_stream(const char *identifier) {
        return open_relay_stream(NULL, identifier && identifier[0] ? identifier : program_invocation_short_name);
}
