/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapod enter: run a command inside a running app through Pod.Exec and
 * exit with its status. Without -t the command gets our stdin, stdout and
 * stderr (so its stdout and stderr stay apart), except that a terminal
 * never crosses into the pod: for each of them that is one we pass a pipe
 * and relay, as podman exec does without -t. Any fd of a terminal would
 * let the command push input into the caller's shell (TIOCSTI, where the
 * kernel still allows it) or take it as its controlling terminal. With -t
 * we allocate a pty, hand its slave over (it becomes the command's
 * controlling terminal), keep the master and relay between our terminal
 * and it: what the command types into the slave comes back to itself. */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "string-util.h"
#include "strv.h"

typedef struct ExecWait {
        const char *pod_path;
        const char *id;        /* NULL until Exec answered */
        char **early_ids;      /* ExecFinished seen before we knew our id */
        char **early_results;
        int early_status[64];
        bool done;
        char *result;
        int status;
} ExecWait;

static void exec_wait_done(ExecWait *w) {
        strv_free(w->early_ids);
        strv_free(w->early_results);
        free(w->result);
}

static int on_exec_finished(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ExecWait *w = userdata;
        const char *id, *result;
        int32_t status;

        if (sd_bus_message_read(m, "ssi", &id, &result, &status) < 0)
                return 0;
        if (!w->id) {
                /* Not ours to judge yet: the reply to Exec comes first on
                 * this connection, so this cannot be ours, but keep it. */
                size_t n = strv_length(w->early_ids);
                if (n < ELEMENTSOF(w->early_status) && strv_extend(&w->early_ids, id) >= 0 &&
                    strv_extend(&w->early_results, result) >= 0)
                        w->early_status[n] = status;
                return 0;
        }
        if (!streq(id, w->id))
                return 0;
        w->done = true;
        w->result = strdup(result);
        w->status = status;
        return 0;
}

/* A signal for the command: ^C on our terminal without -t reaches us, not
 * the command, which has no terminal. */
static volatile sig_atomic_t pending_signal;

static void on_forwarded_signal(int sig) {
        pending_signal = sig;
}

static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void forward_signals(void) {
        /* No SA_RESTART: poll() returns at once. */
        struct sigaction sa = { .sa_handler = on_forwarded_signal };

        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                (void) sigaction(forwarded_signals[i], &sa, NULL);
}

/* Held while a call waits: sd-bus (252) fails a call its poll() was
 * interrupted in with -EINTR, and then the call's answer is lost. */
static void hold_forwarded_signals(sigset_t *ret_old) {
        sigset_t set;

        sigemptyset(&set);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                sigaddset(&set, forwarded_signals[i]);
        (void) sigprocmask(SIG_BLOCK, &set, ret_old);
}

/* Pod.KillExec: peapodd signals the exec's helper, peapod-stage1-exec,
 * which passes the signal on to the command. */
static void kill_exec(sd_bus *bus, const char *pod_path, const char *id, int sig) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, PEAPOD_BUS_NAME, pod_path, PEAPOD_POD_INTERFACE, "KillExec", &error, NULL, "si",
                               id, (int32_t) sig);
        if (r < 0)
                log_debug_errno(r, "Failed to send %s to %s: %s", strsignal(sig), id, error.message ?: strerror(-r));
}

/* For our fd that is a terminal, a pipe: ret_theirs is the end for the
 * command, ret_ours ours; otherwise both -EBADF and fd itself is passed. */
static int pipe_instead_of_terminal(int fd, bool input, int *ret_theirs, int *ret_ours) {
        int p[2];

        *ret_theirs = *ret_ours = -EBADF;
        if (!isatty(fd))
                return 0;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        *ret_theirs = input ? p[0] : p[1];
        *ret_ours = input ? p[1] : p[0];
        return 1;
}

/* Picks the app to enter: the one given, or the pod's only running app. */
static int choose_app(sd_bus *bus, const char *pod, const char *app, char **ret) {
        _cleanup_(pod_info_done) PodInfo p = {};
        const char *found = NULL;
        size_t n = 0;
        int r;

        if (app)
                return (*ret = strdup(app)) ? 0 : log_oom();
        r = cli_get_pod_info(bus, pod, &p);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p.n_apps; i++)
                if (streq(p.apps[i].state, "running")) {
                        found = p.apps[i].name;
                        n++;
                }
        if (n == 0)
                return log_error_errno(ESRCH, "Pod %s has no running app.", pod);
        if (n > 1)
                return log_usage_error("Pod %s has %zu running apps; choose one with --app=.", pod, n);
        return (*ret = strdup(found)) ? 0 : log_oom();
}

/* The command's stdio and what we relay for it: with -t a pty (the slave is
 * theirs, we relay the master); without, a pipe in place of each of our
 * fds that is a terminal. The relays point into this struct: it stays put. */
typedef struct EnterStdio {
        bool tty;
        char *term;            /* "TERM=..." for the command, with -t */
        int master, slave;
        /* Pipes in place of our terminal fds: the command's ends, ours. */
        int in_theirs, out_theirs, err_theirs;
        int in_ours, out_ours, err_ours;
        int std_in, std_out, std_err;
        CliRelay relays[3];
        size_t n_relays;
} EnterStdio;

#define ENTER_STDIO_INIT                                                                     \
        (EnterStdio) {                                                                       \
                .master = -EBADF, .slave = -EBADF, .in_theirs = -EBADF, .out_theirs = -EBADF, \
                .err_theirs = -EBADF, .in_ours = -EBADF, .out_ours = -EBADF, .err_ours = -EBADF, \
                .std_in = STDIN_FILENO, .std_out = STDOUT_FILENO, .std_err = STDERR_FILENO,      \
        }

static void enter_stdio_done(EnterStdio *io) {
        safe_close(io->in_ours);
        safe_close(io->out_ours);
        safe_close(io->err_ours);
        safe_close(io->in_theirs);
        safe_close(io->out_theirs);
        safe_close(io->err_theirs);
        safe_close(io->master);
        safe_close(io->slave);
        free(io->term);
}

/* 1 to go on, 0 when --help was shown, or a logged error. */
static int enter_parse_args(int argc, char *argv[], const char **ret_app, bool *ret_tty, char ***ret_cmd) {
        enum { ARG_APP = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "app", required_argument, NULL, ARG_APP },
                { "tty", no_argument, NULL, 't' },
                {}
        };
        _cleanup_strv_free_ char **cmd = NULL;
        int c;

        /* Options anywhere before '--'; the command's own come after it. */
        while ((c = getopt_long(argc, argv, ":ht", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("enter");
                        return 0;
                case ARG_APP:
                        *ret_app = optarg;
                        break;
                case 't':
                        *ret_tty = true;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind >= argc)
                return log_usage_error("Missing pod; see 'peapod enter --help'.");
        if (optind + 1 < argc)
                cmd = strv_copy(argv + optind + 1);
        else if (strv_extend(&cmd, "/bin/sh") < 0)
                return log_oom();
        if (!cmd)
                return log_oom();
        *ret_cmd = TAKE_PTR(cmd);
        return 1;
}

static int enter_stdio_setup(EnterStdio *io) {
        const char *s;
        int r;

        if (io->tty) {
                r = cli_pty_open(&io->master, &io->slave);
                if (r < 0)
                        return log_error_errno(r, "Failed to allocate a pty: %m");
                s = getenv("TERM");
                if (asprintf(&io->term, "TERM=%s", s && !strchr(s, '\n') ? s : "xterm") < 0)
                        return log_oom();
                io->relays[io->n_relays++] = (CliRelay) { .from = &io->std_in, .to = &io->master };
                io->relays[io->n_relays++] = (CliRelay) { .from = &io->master, .to = &io->std_out, .output = true,
                                                          .close_at_end = &io->master };
                return 0;
        }
        if ((r = pipe_instead_of_terminal(STDIN_FILENO, true, &io->in_theirs, &io->in_ours)) < 0 ||
            (r = pipe_instead_of_terminal(STDOUT_FILENO, false, &io->out_theirs, &io->out_ours)) < 0 ||
            (r = pipe_instead_of_terminal(STDERR_FILENO, false, &io->err_theirs, &io->err_ours)) < 0)
                return log_error_errno(r, "Failed to make pipes: %m");
        if (io->in_ours >= 0)
                io->relays[io->n_relays++] = (CliRelay) { .from = &io->std_in, .to = &io->in_ours,
                                                          .close_at_end = &io->in_ours };
        if (io->out_ours >= 0)
                io->relays[io->n_relays++] = (CliRelay) { .from = &io->out_ours, .to = &io->std_out, .output = true,
                                                          .close_at_end = &io->out_ours };
        if (io->err_ours >= 0)
                io->relays[io->n_relays++] = (CliRelay) { .from = &io->err_ours, .to = &io->std_err, .output = true,
                                                          .close_at_end = &io->err_ours };
        return 0;
}

/* Pod.Exec with the command's stdio; the exec's id in ret_id. */
static int enter_call_exec(sd_bus *bus, const char *pod_path, const char *app, char **cmd, const EnterStdio *io,
                           CliWatch *watch, char **ret_id) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *s;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, PEAPOD_BUS_NAME, pod_path, PEAPOD_POD_INTERFACE, "Exec");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", app);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, cmd);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0 && io->term)
                r = sd_bus_message_append(m, "(sv)", "Environment", "as", 1, io->term);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0) {
                int in = io->tty ? io->slave : io->in_theirs >= 0 ? io->in_theirs : STDIN_FILENO,
                    out = io->tty ? io->slave : io->out_theirs >= 0 ? io->out_theirs : STDOUT_FILENO,
                    err = io->tty ? io->slave : io->err_theirs >= 0 ? io->err_theirs : STDERR_FILENO;
                r = sd_bus_message_append(m, "hhht", in, out, err, io->tty ? PEAPOD_EXEC_TTY : UINT64_C(0));
        }
        if (r < 0)
                return log_error_errno(r, "Failed to build Exec call: %m");
        r = sd_bus_call(bus, m, CLI_SLOW_CALL_USEC, &error, &reply);
        if (r < 0)
                return cli_log_bus_error(&error, r);
        r = sd_bus_message_read(reply, "s", &s);
        if (r < 0)
                return log_error_errno(r, "Failed to parse Exec reply: %m");
        r = cli_watch_set_peer(watch, reply);
        if (r < 0)
                return r;
        *ret_id = strdup(s);
        return *ret_id ? 0 : log_oom();
}

/* Its end may have been signalled before Exec answered. */
static void exec_wait_take_early(ExecWait *w) {
        for (size_t i = 0; w->early_ids && w->early_ids[i]; i++)
                if (streq(w->early_ids[i], w->id)) {
                        w->done = true;
                        w->result = strdup(w->early_results[i]);
                        w->status = w->early_status[i];
                }
}

/* Relay until the command's end is signalled or peapodd is gone. */
static int enter_relay(sd_bus *bus, CliWatch *watch, ExecWait *w, EnterStdio *io) {
        int r;

        if (io->tty) {
                cli_pty_watch_resize();
                r = cli_terminal_make_raw();
                if (r < 0)
                        log_debug_errno(r, "Failed to put the terminal into raw mode: %m");
        }

        while (!w->done && !cli_watch_gone(watch)) {
                struct pollfd pfd[1 + ELEMENTSOF(io->relays)] = {
                        { .fd = sd_bus_get_fd(bus), .events = (short) sd_bus_get_events(bus) },
                };
                uint64_t usec = UINT64_MAX;
                int timeout = -1;

                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return log_error_errno(r, "Lost the connection to the bus: %m");
                if (r > 0)
                        continue;
                if (pending_signal != 0) {
                        kill_exec(bus, w->pod_path, w->id, pending_signal);
                        pending_signal = 0;
                }
                if (io->tty)
                        cli_pty_resize_if_needed(io->master);
                cli_relays_pollfds(io->relays, io->n_relays, pfd + 1);
                if (sd_bus_get_timeout(bus, &usec) >= 0 && usec != UINT64_MAX)
                        timeout = 100;
                if (poll(pfd, 1 + io->n_relays, timeout) < 0 && errno != EINTR)
                        return log_error_errno(errno, "poll() failed: %m");
                cli_relays_dispatch(io->relays, io->n_relays, pfd + 1);
        }
        /* What the command wrote last is still in the pty or the pipes. */
        cli_relays_drain_output(io->relays, io->n_relays);
        cli_terminal_restore();
        return 0;
}

/* Our exit status is the command's (128 + signal when killed). */
static int exec_wait_result(const ExecWait *w) {
        if (!w->done)
                return log_error_errno(ECONNRESET, "peapodd exited while the command ran; its end is unknown.");
        if (streq_ptr(w->result, "exited")) {
                cli_exit_status = w->status;
                return 0;
        }
        if (streq_ptr(w->result, "killed") || streq_ptr(w->result, "dumped")) {
                cli_exit_status = 128 + w->status;
                return 0;
        }
        return log_error_errno(EIO, "The command's end is unknown.");
}

int verb_enter(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(cli_watch_done) CliWatch watch = {};
        _cleanup_(exec_wait_done) ExecWait w = {};
        _cleanup_free_ char *pod_path = NULL, *app = NULL, *id = NULL;
        _cleanup_(enter_stdio_done) EnterStdio io = ENTER_STDIO_INIT;
        _cleanup_strv_free_ char **cmd = NULL;
        const char *app_arg = NULL;
        sigset_t held;
        int r;

        r = enter_parse_args(argc, argv, &app_arg, &io.tty, &cmd);
        if (r <= 0)
                return r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_get_pod_path(bus, argv[optind], &pod_path);
        w.pod_path = pod_path;
        if (r < 0)
                return r;
        r = choose_app(bus, argv[optind], app_arg, &app);
        if (r < 0)
                return r;

        /* Before the call, so that the end of a short command is not missed. */
        r = sd_bus_match_signal(bus, &slot, PEAPOD_BUS_NAME, pod_path, PEAPOD_POD_INTERFACE, "ExecFinished",
                                on_exec_finished, &w);
        if (r < 0)
                return log_error_errno(r, "Failed to watch peapodd: %m");
        r = cli_watch_begin(bus, &watch);
        if (r < 0)
                return r;

        r = enter_stdio_setup(&io);
        if (r < 0)
                return r;
        /* A command that closes its stdin early must not kill us through
         * the pipe we relay into. */
        (void) signal(SIGPIPE, SIG_IGN);
        /* A signal that comes while peapodd starts the command must
         * neither end us (its default action) nor fail the call (an
         * interrupted wait): either left the command running, ours to
         * end. Held during the call, it is passed on once the command
         * runs (enter_relay()). */
        forward_signals();
        hold_forwarded_signals(&held);
        r = enter_call_exec(bus, pod_path, app, cmd, &io, &watch, &id);
        (void) sigprocmask(SIG_SETMASK, &held, NULL);
        if (r < 0)
                return r;
        w.id = id;
        /* The unit holds its own copies; ours would keep the pty and the
         * pipes open after the command is gone, and we would never see
         * their end. */
        io.slave = safe_close(io.slave);
        io.in_theirs = safe_close(io.in_theirs);
        io.out_theirs = safe_close(io.out_theirs);
        io.err_theirs = safe_close(io.err_theirs);
        exec_wait_take_early(&w);

        r = enter_relay(bus, &watch, &w, &io);
        if (r < 0)
                return r;
        return exec_wait_result(&w);
}
