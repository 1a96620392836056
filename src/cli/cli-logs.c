/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "cli.h"
#include "crilog.h"
#include "journal.h"
#include "time-util.h"

typedef enum LogsOutput {
        LOGS_TEXT,
        LOGS_JSON,
        LOGS_CRI,
} LogsOutput;

typedef struct LogsPrinter {
        LogsOutput output;
        bool timestamps;
        /* Text: escape unless --raw. CRI: escape only what goes to a
         * terminal, unless --raw (CRI lines are bytes, for files). */
        bool escape;
        int prefix_width;
        /* With prefix_width 0: the one app whose lines go unprefixed; the
         * lines of any other (an app removed from the pod) get their name. */
        const char *unprefixed;
        FILE *last;
        char *buf, *escaped;
        size_t len, cap, escaped_len, escaped_cap;
} LogsPrinter;

static void logs_printer_done(LogsPrinter *p) {
        free(p->buf);
        free(p->escaped);
}

static int parse_lines(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end != 0 || s[0] == '-' || s[0] == '+')
                return log_usage_error("Invalid --tail='%s': expected a number of lines.", s);
        *ret = v;
        return 0;
}

/* Without root or one of journald's reader groups, sd-journal shows only
 * the caller's own user journal: say so rather than print nothing. */
static bool can_read_system_journal(void) {
        static const char *const groups[] = { "systemd-journal", "adm", "wheel" };
        gid_t list[256];
        int n;

        if (geteuid() == 0)
                return true;
        n = getgroups(ELEMENTSOF(list), list);
        for (size_t g = 0; g < ELEMENTSOF(groups); g++) {
                struct group *gr = getgrnam(groups[g]);

                if (!gr)
                        continue;
                if (gr->gr_gid == getegid())
                        return true;
                for (int i = 0; i < n; i++)
                        if (list[i] == gr->gr_gid)
                                return true;
        }
        return false;
}

static int print_entry(LogsPrinter *p, const PodJournalEntry *e) {
        const char *out;
        size_t out_len;
        FILE *f = stdout;
        int r;

        p->len = 0;
        switch (p->output) {
        case LOGS_CRI:
                r = crilog_format_entry(e, &p->buf, &p->len, &p->cap);
                if (r >= 0 && p->escape) {
                        p->escaped_len = 0;
                        /* The newlines are the CRI format's own: crilog
                         * starts a new line (with its prefix) at each one. */
                        r = log_escape_append(p->buf, p->len, true, &p->escaped, &p->escaped_len, &p->escaped_cap);
                }
                break;
        case LOGS_JSON:
                r = log_format_json(e, e->app_name, &p->buf, &p->len, &p->cap);
                break;
        default: {
                int width = p->prefix_width;

                if (width == 0 && p->unprefixed && !streq(e->app_name, p->unprefixed))
                        width = (int) strlen(e->app_name);
                r = log_format_text(e, e->app_name, width, p->timestamps, p->escape, &p->buf, &p->len, &p->cap);
        }
        }
        if (r < 0)
                return log_oom();
        out = p->output == LOGS_CRI && p->escape ? p->escaped : p->buf;
        out_len = p->output == LOGS_CRI && p->escape ? p->escaped_len : p->len;

        if (p->output == LOGS_TEXT) {
                f = e->stream == POD_LOG_STDERR ? stderr : stdout;
                /* Keep the journal's order where both streams reach one terminal. */
                if (p->last && p->last != f)
                        fflush(p->last);
                p->last = f;
        }
        fwrite(out, 1, out_len, f);
        return ferror(f) ? -EIO : 0;
}

/* Prints what there is up to the end (or the until time); returns how
 * many entries it printed, or -errno. */
static int print_available(PodJournal *j, LogsPrinter *p) {
        for (int n = 0;; n++) {
                PodJournalEntry e;
                int r = pod_journal_next(j, &e);

                if (r < 0)
                        return log_error_errno(r, "Failed to read the journal: %m");
                if (r == 0)
                        return n;
                r = print_entry(p, &e);
                if (r < 0)
                        /* A closed pipe (| head) is not worth a message. */
                        return r;
        }
}

static bool pod_is_live(const char *state) {
        return streq(state, "running") || streq(state, "preparing");
}

/* The pod's State now, or NULL when it is gone. */
static int get_pod_state(sd_bus *bus, const char *path, char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_get_property_string(bus, PEAPOD_BUS_NAME, path, PEAPOD_POD_INTERFACE, "State", &error, ret);
        if (r < 0 && sd_bus_error_has_names(&error, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_INTERFACE)) {
                *ret = NULL;
                return 0;
        }
        return r < 0 ? cli_log_bus_error(&error, r) : 0;
}

static int on_pod_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        *(bool *) userdata = true;
        return 0;
}

/* SIGINT or SIGTERM to a foreground 'run': stop the pod, follow its end. */
static volatile sig_atomic_t run_interrupted;

static void on_run_interrupt(int sig) {
        run_interrupted = 1;
}

/* A foreground run (a boot pod's unit) outlives a restart of peapodd, as
 * the pod does: the next peapodd (bus activation, or its unit's restart) is
 * watched instead. */
static int follow_rewatch(sd_bus *bus, CliWatch *watch) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        cli_watch_done(watch);
        r = cli_watch_begin(bus, watch);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL,
                               &reply, NULL);
        if (r < 0)
                return log_error_errno(r, "peapodd exited while following the logs and did not come back: %m");
        return cli_watch_set_peer(watch, reply);
}

static int print_and_flush(PodJournal *j, LogsPrinter *p) {
        int r;

        r = print_available(j, p);
        if (r < 0)
                return r;
        if (fflush(stdout) != 0 || fflush(stderr) != 0)
                return -EIO;
        return r;
}

/* The pod has ended: what is left of its logs. */
static int follow_print_rest(PodJournal *j, LogsPrinter *p, CliRunIo *io) {
        bool synced;
        int r;

        if (io) {
                /* The app's last output, then our terminal as it was, for
                 * the rest. */
                cli_run_io_drain(io);
                cli_terminal_restore();
        }
        /* The apps are gone, and their output streams closed. journald
         * answers Synchronize (root only) from a job below its streams'
         * priority, so once every line queued before the call is read and
         * written out: the rest is in the files then, read once. A caller
         * journald does not answer prints the rest until nothing new came
         * for 300 ms (journald tells readers at most every 250 ms). */
        synced = pod_journal_synchronize(POD_JOURNAL_NAMESPACE, 60 * USEC_PER_SEC) >= 0;
        for (;;) {
                r = pod_journal_process(j);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the journal: %m");
                r = print_and_flush(j, p);
                if (r < 0)
                        return r;
                if (synced || r == 0)
                        return 0;
                usleep(300 * 1000);
        }
}

/* Every message the bus connection has, dispatched: > 0 if there was one. */
static int follow_process_bus(sd_bus *bus) {
        int r, any = 0;

        while ((r = sd_bus_process(bus, NULL)) > 0)
                any = 1;
        if (r < 0)
                return log_error_errno(r, "Lost the connection to peapodd: %m");
        return any;
}

/* Wait for the journal, the bus or the run's fds, and handle what came. */
static int follow_wait(PodJournal *j, sd_bus *bus, CliRunIo *io) {
        /* Also look every 100 ms: journald signals new entries to readers
         * at most every 250 ms. */
        struct pollfd fds[2 + CLI_RUN_IO_POLLFDS] = {
                { .fd = pod_journal_get_fd(j), .events = POLLIN },
                { .fd = sd_bus_get_fd(bus), .events = (short) sd_bus_get_events(bus) },
        };
        size_t n_fds = 2;
        int r;

        /* What sd-bus read while it waited for a reply (the pod's end,
         * signalled during get_pod_state()'s call) waits in its queue, not
         * on the fd: a poll would sleep its 100 ms before seeing it. */
        r = follow_process_bus(bus);
        if (r != 0)
                return r < 0 ? r : 0;
        if (io)
                n_fds += cli_run_io_pollfds(io, fds + 2);
        if (poll(fds, n_fds, 100) < 0 && errno != EINTR)
                return log_error_errno(errno, "Failed to wait: %m");
        if (io)
                cli_run_io_dispatch(io, fds + 2);
        if (fds[0].revents) {
                r = pod_journal_process(j);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the journal: %m");
        }
        r = follow_process_bus(bus);
        return r < 0 ? r : 0;
}

/* Print new lines as they come, until the pod is no longer running. Woken
 * by the journal's fd and by the pod's PropertiesChanged on the bus. With
 * stop_pod (a foreground 'run'), an interrupt asks peapodd to stop that
 * pod, and the following goes on until it has ended. */
static int follow(PodJournal *j, LogsPrinter *p, sd_bus *bus, const char *pod_path, const char *stop_pod, CliRunIo *io) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(cli_watch_done) CliWatch watch = {};
        bool changed = true, stop_sent = false;
        int r;

        r = sd_bus_match_signal(bus, &slot, PEAPOD_BUS_NAME, pod_path, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_pod_changed, &changed);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the pod: %m");
        /* The end of the pod comes from peapodd: without it we would
         * follow forever. */
        r = cli_watch_begin(bus, &watch);
        if (r < 0)
                return r;

        for (;;) {
                if (cli_watch_gone(&watch) && !stop_pod)
                        return log_error_errno(ECONNRESET, "peapodd exited while following the logs; "
                                               "the pod's end would not be noticed.");
                if (cli_watch_gone(&watch)) {
                        /* The pod's state is asked again of the next peapodd. */
                        r = follow_rewatch(bus, &watch);
                        if (r < 0)
                                return r;
                        changed = true;
                        continue;
                }
                if (stop_pod && run_interrupted && !stop_sent) {
                        /* Answered when the pod has stopped; its end comes
                         * as a state change like any other. */
                        r = sd_bus_call_method_async(bus, NULL, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE,
                                                     "StopPod", NULL, NULL, "s", stop_pod);
                        if (r < 0)
                                return log_error_errno(r, "Failed to stop pod %s: %m", stop_pod);
                        stop_sent = true;
                }
                if (changed) {
                        _cleanup_free_ char *state = NULL;

                        changed = false;
                        r = get_pod_state(bus, pod_path, &state);
                        if (r < 0)
                                return r;
                        if (!state || !pod_is_live(state))
                                return follow_print_rest(j, p, io);
                }
                r = print_and_flush(j, p);
                if (r < 0)
                        return r;
                r = follow_wait(j, bus, io);
                if (r < 0)
                        return r;
        }
}

typedef struct LogsArgs {
        bool follow, prefix, raw, have_lines, only_stdout, only_stderr;
        const char *pod, *app, *since_arg, *until_arg;
        uint64_t lines, since, until;
} LogsArgs;

/* What the options say together, and the operands. */
static int logs_args_check(int argc, char *argv[], LogsArgs *a, LogsPrinter *printer) {
        if (optind >= argc)
                return log_usage_error("Missing pod; see 'peapod logs --help'.");
        if (argc - optind > 2)
                return log_usage_error("Too many arguments: 'peapod logs POD [APP]'.");
        if (a->only_stdout && a->only_stderr)
                return log_usage_error("--stdout and --stderr exclude each other (give neither for both).");
        if (a->since_arg && a->until_arg && a->since > a->until)
                return log_usage_error("--since='%s' is after --until='%s'.", a->since_arg, a->until_arg);
        if (a->follow && a->until_arg)
                return log_usage_error("--follow and --until exclude each other.");
        if (a->raw && printer->output == LOGS_JSON)
                return log_usage_error("--raw and --format=json exclude each other (JSON is always escaped).");
        /* An app's line is untrusted: written as it is, ESC, CR and the
         * like would let it draw over its "app | " prefix to pass for
         * another app, set the terminal's title or clear the screen.
         * Text is escaped wherever it goes (a file is read on a terminal
         * later); CRI lines, meant for files, only on a terminal. --raw
         * asks for the bytes. */
        printer->escape = !a->raw && (printer->output == LOGS_TEXT || isatty(STDOUT_FILENO));
        a->pod = argv[optind];
        if (argc - optind == 2)
                a->app = argv[optind + 1];
        return 1;
}

/* 1 to go on, 0 when --help was shown, or a logged error. How lines look
 * goes into printer. */
static int logs_parse_args(int argc, char *argv[], LogsArgs *a, LogsPrinter *printer) {
        enum { ARG_NO_PREFIX = 0x100, ARG_SINCE, ARG_UNTIL, ARG_STDOUT, ARG_STDERR, ARG_FORMAT, ARG_CRI_FORMAT, ARG_RAW };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "follow", no_argument, NULL, 'f' },
                { "tail", required_argument, NULL, 'n' },
                { "lines", required_argument, NULL, 'n' },
                { "since", required_argument, NULL, ARG_SINCE },
                { "until", required_argument, NULL, ARG_UNTIL },
                { "timestamps", no_argument, NULL, 't' },
                { "stdout", no_argument, NULL, ARG_STDOUT },
                { "stderr", no_argument, NULL, ARG_STDERR },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "cri-format", no_argument, NULL, ARG_CRI_FORMAT },
                { "no-prefix", no_argument, NULL, ARG_NO_PREFIX },
                { "raw", no_argument, NULL, ARG_RAW },
                {}
        };
        uint64_t now = now_usec(CLOCK_REALTIME);
        int c, r;

        while ((c = getopt_long(argc, argv, ":hfn:t", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("logs");
                        return 0;
                case 'f':
                        a->follow = true;
                        break;
                case 'n':
                        r = parse_lines(optarg, &a->lines);
                        if (r < 0)
                                return r;
                        a->have_lines = true;
                        break;
                case 't':
                        printer->timestamps = true;
                        break;
                case ARG_SINCE:
                        a->since_arg = optarg;
                        if (log_time_parse(optarg, now, &a->since) < 0)
                                return log_usage_error("Invalid --since='%s'; see 'peapod logs --help'.", optarg);
                        break;
                case ARG_UNTIL:
                        a->until_arg = optarg;
                        if (log_time_parse(optarg, now, &a->until) < 0)
                                return log_usage_error("Invalid --until='%s'; see 'peapod logs --help'.", optarg);
                        break;
                case ARG_STDOUT:
                        a->only_stdout = true;
                        break;
                case ARG_STDERR:
                        a->only_stderr = true;
                        break;
                case ARG_FORMAT:
                        if (streq(optarg, "text"))
                                printer->output = LOGS_TEXT;
                        else if (streq(optarg, "json"))
                                printer->output = LOGS_JSON;
                        else
                                return log_usage_error("Invalid --format='%s': expected 'text' or 'json'.", optarg);
                        break;
                case ARG_CRI_FORMAT:
                        printer->output = LOGS_CRI;
                        break;
                case ARG_NO_PREFIX:
                        a->prefix = false;
                        break;
                case ARG_RAW:
                        a->raw = true;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        return logs_args_check(argc, argv, a, printer);
}

/* How many of the pod's apps are asked for (ret_n_sel), and the prefix
 * that tells their lines apart. */
static int logs_select_apps(const LogsArgs *a, const PodInfo *p, LogsPrinter *printer, size_t *ret_n_sel) {
        size_t n_sel = 0;

        /* Lines are selected by the pod's id and the app's name, not by
         * the apps the pod has now: an app removed from the pod keeps its
         * lines until the pod is removed. */
        for (size_t i = 0; i < p->n_apps; i++)
                if (!a->app || streq(p->apps[i].name, a->app))
                        n_sel++;
        /* Following waits for new lines: only of an app the pod has. */
        if (a->app && (!app_name_is_valid(a->app) || (n_sel == 0 && a->follow)))
                return log_error_errno(ENOENT, "Pod %s has no app named %s.", p->name, a->app);
        if (a->prefix && !a->app && p->n_apps > 1)
                for (size_t i = 0; i < p->n_apps; i++)
                        if ((int) strlen(p->apps[i].name) > printer->prefix_width)
                                printer->prefix_width = (int) strlen(p->apps[i].name);
        if (a->prefix && printer->prefix_width == 0)
                printer->unprefixed = a->app ?: p->n_apps == 1 ? p->apps[0].name : "";
        *ret_n_sel = n_sel;
        return 0;
}

/* The pod's journal, narrowed to what was asked and at its first line. */
static int logs_open_journal(const LogsArgs *a, const PodInfo *p, PodJournal **ret) {
        _cleanup_(pod_journal_freep) PodJournal *j = NULL;
        int r;

        r = pod_journal_open(POD_JOURNAL_NAMESPACE, &j);
        if (r < 0)
                return log_error_errno(r, "Failed to open the journal namespace '%s': %m", POD_JOURNAL_NAMESPACE);
        r = pod_journal_add_pod(j, p->id, a->app);
        if (r < 0)
                return log_error_errno(r, "Failed to select the logs of pod %s: %m", p->name);
        if (a->only_stdout || a->only_stderr) {
                r = pod_journal_add_stream(j, a->only_stdout ? POD_LOG_STDOUT : POD_LOG_STDERR);
                if (r < 0)
                        return log_error_errno(r, "Failed to select a stream: %m");
        }
        pod_journal_set_until(j, a->until);
        if (a->have_lines)
                r = pod_journal_seek_tail_lines(j, a->lines);
        else if (a->since_arg)
                r = pod_journal_seek_realtime(j, a->since);
        else
                r = pod_journal_seek_head(j);
        if (r < 0)
                return log_error_errno(r, "Failed to seek in the journal: %m");
        *ret = TAKE_PTR(j);
        return 0;
}

/* The last N lines, but none before --since: skip to the first one at or
 * after since and print it. */
static int logs_skip_before(PodJournal *j, LogsPrinter *printer, uint64_t since) {
        PodJournalEntry e;
        int r;

        for (;;) {
                r = pod_journal_next(j, &e);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the journal: %m");
                if (r == 0 || e.realtime_usec >= since)
                        break;
        }
        if (r > 0) {
                r = print_entry(printer, &e);
                if (r < 0)
                        return r;
        }
        return 0;
}

int verb_logs(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(pod_journal_freep) PodJournal *j = NULL;
        _cleanup_(pod_info_done) PodInfo p = {};
        _cleanup_(logs_printer_done) LogsPrinter printer = {};
        LogsArgs a = { .prefix = true, .until = UINT64_MAX };
        size_t n_sel = 0;
        int r;

        r = logs_parse_args(argc, argv, &a, &printer);
        if (r <= 0)
                return r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_get_pod_info(bus, a.pod, &p);
        if (r < 0)
                return r;
        if (!a.follow)
                /* The journal is read directly; peapodd is not needed any more. */
                bus = sd_bus_flush_close_unref(bus);

        r = logs_select_apps(&a, &p, &printer, &n_sel);
        if (r < 0)
                return r;

        if (!can_read_system_journal())
                log_warning("Only root and members of the 'systemd-journal' group can read apps' logs; "
                            "showing what is visible to this user.");

        r = logs_open_journal(&a, &p, &j);
        if (r < 0)
                return r;
        if (a.have_lines && a.since_arg) {
                r = logs_skip_before(j, &printer, a.since);
                if (r < 0)
                        return r;
        }

        if (a.follow)
                r = follow(j, &printer, bus, p.path, NULL, NULL);
        else
                r = print_available(j, &printer);
        if (r < 0)
                return r;
        if (a.app && n_sel == 0 && r == 0 && !a.have_lines && !a.since_arg && !a.until_arg)
                /* Neither an app of the pod now nor one removed from it. */
                return log_error_errno(ENOENT, "Pod %s has no app named %s.", p.name, a.app);

        return fflush(stdout) != 0 || fflush(stderr) != 0 ? -EIO : 0;
}

int cli_run_follow(sd_bus *bus, const char *pod_id, CliRunIo *io) {
        _cleanup_(pod_journal_freep) PodJournal *j = NULL;
        _cleanup_(pod_info_done) PodInfo p = {};
        _cleanup_(logs_printer_done) LogsPrinter printer = {};
        struct sigaction sa = { .sa_handler = on_run_interrupt };
        int r;

        r = cli_get_pod_info(bus, pod_id, &p);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p.n_apps; i++)
                if (p.n_apps > 1 && (int) strlen(p.apps[i].name) > printer.prefix_width)
                        printer.prefix_width = (int) strlen(p.apps[i].name);
        if (p.n_apps == 1)
                printer.unprefixed = p.apps[0].name;
        /* One app's output is its own, bytes as it wrote them (as podman
         * run's); among several, a line must not pose as another app's by
         * drawing over its prefix: escaped as 'peapod logs' does. */
        printer.escape = p.n_apps > 1;

        r = pod_journal_open(POD_JOURNAL_NAMESPACE, &j);
        if (r < 0)
                return log_error_errno(r, "Failed to open the journal namespace '%s': %m", POD_JOURNAL_NAMESPACE);
        r = pod_journal_add_pod(j, p.id, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to select the logs of pod %s: %m", p.name);
        r = pod_journal_seek_head(j);
        if (r < 0)
                return log_error_errno(r, "Failed to seek in the journal: %m");

        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);
        r = follow(j, &printer, bus, p.path, p.id, io);
        if (r < 0)
                return r;
        return fflush(stdout) != 0 || fflush(stderr) != 0 ? -EIO : 0;
}
