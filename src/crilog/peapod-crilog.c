/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapod-crilog: runs the journal-to-CRI converter of liblogs (src/logs/crilog.c)
 * for the containers given, so that tests and benchmarks can start, kill
 * and restart it; peapod-cri embeds the same library. */
#include <fcntl.h>
#include <inttypes.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "crilog.h"
#include "log.h"
#include "name.h"
#include "string-util.h"

static const char *arg_state_dir = NULL;
static const char *arg_namespace = POD_JOURNAL_NAMESPACE;
static const char *arg_stats = NULL;

typedef struct Context {
        CriLog *crilog;
        sd_event *event;
        bool control_open;
        int failed;
        char line[8192];
        size_t line_len;
} Context;

static void help(void) {
        printf("Usage: peapod-crilog --state-dir=DIR [OPTIONS] [APP-ID=PATH]...\n\n"
               "Write the CRI log file PATH of each app (by its app id) from the journal,\n"
               "following it, resuming after the cursor saved in DIR.\n"
               "Commands on stdin, one per line:\n"
               "  add APP-ID PATH    start converting another app\n"
               "  reopen APP-ID      reopen PATH (after it was renamed away)\n"
               "  exited APP-ID      the app exited: write its last lines, close, drop it\n"
               "SIGTERM/SIGINT save the cursors and exit. The\n"
               "program exits by itself when its last app was dropped.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --state-dir=DIR     Where the cursors are kept (required)\n"
               "     --namespace=NS      Journal namespace (default: %s; '' = system journal)\n"
               "     --stats=FILE        At exit, write counts and the lag histogram as JSON\n",
               POD_JOURNAL_NAMESPACE);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_STATE_DIR, ARG_NAMESPACE, ARG_STATS };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "namespace", required_argument, NULL, ARG_NAMESPACE },
                { "stats", required_argument, NULL, ARG_STATS },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("peapod-crilog %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_STATE_DIR:
                        if (optarg[0] != '/')
                                return log_error_errno(EINVAL, "--state-dir= must be an absolute path.");
                        arg_state_dir = optarg;
                        break;
                case ARG_NAMESPACE:
                        arg_namespace = isempty(optarg) ? NULL : optarg;
                        break;
                case ARG_STATS:
                        arg_stats = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        if (!arg_state_dir)
                return log_error_errno(EINVAL, "--state-dir= is required.");
        return 1;
}

static void on_done(CriLog *c, const char *app_id, int error, void *userdata) {
        Context *ctx = userdata;

        if (error < 0) {
                log_error_errno(error, "Converting the log of %s failed: %m", app_id);
                ctx->failed = error;
        }
        if (crilog_n_containers(c) == 0)
                (void) sd_event_exit(ctx->event, ctx->failed);
}

static int add_container(Context *ctx, const char *app_id, const char *path) {
        int r = crilog_add(ctx->crilog, app_id, path);
        if (r < 0)
                return log_error_errno(r, "Failed to convert the log of %s into %s: %m", app_id, path);
        return 0;
}

static void run_command(Context *ctx, char *cmd) {
        char *verb = strtok(cmd, " "), *id = strtok(NULL, " "), *path = strtok(NULL, " ");
        int r;

        if (!verb)
                return;
        if (streq(verb, "add") && id && path)
                (void) add_container(ctx, id, path);
        else if (streq(verb, "reopen") && id) {
                r = crilog_reopen(ctx->crilog, id);
                if (r < 0)
                        log_error_errno(r, "Failed to reopen the log of %s: %m", id);
        } else if (streq(verb, "exited") && id) {
                r = crilog_finish(ctx->crilog, id);
                if (r < 0 && r != -ENOENT)
                        log_error_errno(r, "Failed to finish the log of %s: %m", id);
                else if (r == -ENOENT)
                        log_error("No app %s is being converted.", id);
        } else
                log_error("Unknown command: %s", verb);
}

static int on_control(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Context *ctx = userdata;
        ssize_t n = read(fd, ctx->line + ctx->line_len, sizeof(ctx->line) - 1 - ctx->line_len);

        if (n <= 0) {
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                /* No more commands; keep converting. */
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        }
        ctx->line_len += (size_t) n;
        for (;;) {
                char *nl = memchr(ctx->line, '\n', ctx->line_len);
                size_t k;

                if (!nl) {
                        if (ctx->line_len == sizeof(ctx->line) - 1) {
                                log_error("Command too long, dropped.");
                                ctx->line_len = 0;
                        }
                        return 0;
                }
                *nl = 0;
                run_command(ctx, ctx->line);
                k = (size_t) (nl + 1 - ctx->line);
                memmove(ctx->line, nl + 1, ctx->line_len - k);
                ctx->line_len -= k;
        }
}

static int write_stats(const CriLogStats *st, const char *path) {
        FILE *f = fopen(path, "we");
        int r;

        if (!f)
                return -errno;
        struct rusage ru = {};

        (void) getrusage(RUSAGE_SELF, &ru);
        fprintf(f, "{\"lines\":%" PRIu64 ",\"entries\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"skipped\":%" PRIu64
                   ",\"commits\":%" PRIu64 ",\"write_span_usec\":%" PRIu64 ",\"cpu_user_usec\":%" PRIu64
                   ",\"cpu_sys_usec\":%" PRIu64 ",\"max_rss_kb\":%ld,\"lag_ms\":{",
                st->lines, st->entries, st->bytes, st->skipped, st->commits, st->last_write_usec - st->first_write_usec,
                (uint64_t) ru.ru_utime.tv_sec * 1000000 + (uint64_t) ru.ru_utime.tv_usec,
                (uint64_t) ru.ru_stime.tv_sec * 1000000 + (uint64_t) ru.ru_stime.tv_usec, ru.ru_maxrss);
        bool first = true;
        for (size_t i = 0; st->lag_ms && i < CRILOG_LAG_BUCKETS; i++)
                if (st->lag_ms[i]) {
                        fprintf(f, "%s\"%zu\":%" PRIu64, first ? "" : ",", i, st->lag_ms[i]);
                        first = false;
                }
        fputs("}}\n", f);
        r = fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
        fclose(f);
        return r;
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(crilog_freep) CriLog *crilog = NULL;
        Context ctx = {};
        sigset_t mask;
        int r;

        log_set_program("peapod-crilog");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the event loop: %m"), EXIT_FAILURE;
        r = crilog_new(event, arg_namespace, arg_state_dir, &crilog);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the converter: %m"), EXIT_FAILURE;
        if (arg_stats && crilog_enable_stats(crilog) < 0)
                return log_oom(), EXIT_FAILURE;
        ctx.crilog = crilog;
        ctx.event = event;
        crilog_set_done_callback(crilog, on_done, &ctx);

        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *id = NULL;
                const char *eq = strchr(argv[i], '=');

                if (!eq || eq - argv[i] != POD_ID_LEN)
                        return log_error_errno(EINVAL, "Expected APP-ID=PATH, got '%s'.", argv[i]), EXIT_FAILURE;
                id = strndup(argv[i], POD_ID_LEN);
                if (!id)
                        return log_oom(), EXIT_FAILURE;
                if (add_container(&ctx, id, eq + 1) < 0)
                        return EXIT_FAILURE;
        }

        (void) fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
        r = sd_event_add_io(event, NULL, STDIN_FILENO, EPOLLIN, on_control, &ctx);
        if (r == -EPERM)
                /* stdin is a regular file or /dev/null: no commands. */
                r = 0;
        if (r < 0)
                return log_error_errno(r, "Failed to watch stdin: %m"), EXIT_FAILURE;

        r = sd_event_loop(event);
        if (crilog_commit_all(crilog) < 0 && r >= 0)
                r = -EIO;
        if (arg_stats) {
                int k = write_stats(crilog_get_stats(crilog), arg_stats);
                if (k < 0)
                        log_error_errno(k, "Failed to write %s: %m", arg_stats);
        }
        if (r < 0)
                return log_error_errno(r, "Failed: %m"), EXIT_FAILURE;
        return ctx.failed < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
