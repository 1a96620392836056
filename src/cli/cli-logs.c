/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "cli.h"
#include "journal.h"

typedef struct Selected {
        const char *id, *name;
} Selected;

static int parse_lines(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end != 0 || s[0] == '-' || s[0] == '+')
                return log_usage_error("Invalid --lines='%s': expected a number of lines.", s);
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

static int print_entry(const PodJournalEntry *e, const Selected *apps, size_t n_apps, int prefix_width,
                       FILE **last) {
        FILE *f = e->priority <= LOG_ERR ? stderr : stdout;

        /* Keep the journal's order where both streams reach one terminal. */
        if (*last && *last != f)
                fflush(*last);
        *last = f;

        if (prefix_width > 0) {
                const char *name = e->app_id;

                for (size_t i = 0; i < n_apps; i++)
                        if (streq(apps[i].id, e->app_id))
                                name = apps[i].name;
                fprintf(f, "%-*s | ", prefix_width, name);
        }
        fwrite(e->message, 1, e->message_len, f);
        fputc('\n', f);
        return ferror(f) ? -EIO : 0;
}

int verb_logs(int argc, char *argv[]) {
        enum { ARG_NO_PREFIX = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "follow", no_argument, NULL, 'f' },
                { "lines", required_argument, NULL, 'n' },
                { "no-prefix", no_argument, NULL, ARG_NO_PREFIX },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(pod_journal_freep) PodJournal *j = NULL;
        _cleanup_(pod_info_done) PodInfo p = {};
        _cleanup_free_ Selected *sel = NULL;
        bool follow = false, prefix = true, have_lines = false;
        const char *pod, *app = NULL;
        uint64_t lines = 0;
        size_t n_sel = 0;
        int c, r, width = 0;
        FILE *last = NULL;

        while ((c = getopt_long(argc, argv, ":hfn:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("logs");
                        return 0;
                case 'f':
                        follow = true;
                        break;
                case 'n':
                        r = parse_lines(optarg, &lines);
                        if (r < 0)
                                return r;
                        have_lines = true;
                        break;
                case ARG_NO_PREFIX:
                        prefix = false;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind >= argc)
                return log_usage_error("Missing pod; see 'peapod logs --help'.");
        if (argc - optind > 2)
                return log_usage_error("Too many arguments: 'peapod logs POD [APP]'.");
        pod = argv[optind];
        if (argc - optind == 2)
                app = argv[optind + 1];

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_get_pod_info(bus, pod, &p);
        if (r < 0)
                return r;
        /* The journal is read directly; peapodd is not needed any more. */
        bus = sd_bus_flush_close_unref(bus);

        sel = calloc(p.n_apps ?: 1, sizeof(Selected));
        if (!sel)
                return log_oom();
        for (size_t i = 0; i < p.n_apps; i++)
                if (!app || streq(p.apps[i].name, app))
                        sel[n_sel++] = (Selected) { .id = p.apps[i].id, .name = p.apps[i].name };
        if (app && n_sel == 0)
                return log_error_errno(ENOENT, "Pod %s has no app named %s.", p.name, app);

        if (prefix && n_sel > 1)
                for (size_t i = 0; i < n_sel; i++)
                        if ((int) strlen(sel[i].name) > width)
                                width = (int) strlen(sel[i].name);

        if (!can_read_system_journal())
                log_warning("Only root and members of the 'systemd-journal' group can read apps' logs; "
                            "showing what is visible to this user.");

        r = pod_journal_open(NULL, &j);
        if (r < 0)
                return log_error_errno(r, "Failed to open the journal: %m");
        for (size_t i = 0; i < n_sel; i++) {
                r = pod_journal_add_app(j, sel[i].id);
                if (r < 0)
                        return log_error_errno(r, "Failed to select the logs of app %s: %m", sel[i].name);
        }
        if (have_lines)
                r = pod_journal_seek_tail_lines(j, lines);
        else
                r = pod_journal_seek_head(j);
        if (r < 0)
                return log_error_errno(r, "Failed to seek in the journal: %m");

        for (;;) {
                PodJournalEntry e;

                r = pod_journal_next(j, &e);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the journal: %m");
                if (r > 0) {
                        r = print_entry(&e, sel, n_sel, width, &last);
                        if (r < 0)
                                /* A closed pipe (| head) is not worth a message. */
                                return r;
                        continue;
                }
                if (!follow)
                        break;
                if (fflush(stdout) != 0 || fflush(stderr) != 0)
                        return -EIO;
                r = pod_journal_wait(j, UINT64_MAX);
                if (r < 0)
                        return log_error_errno(r, "Failed to wait for the journal: %m");
        }
        return fflush(stdout) != 0 ? -EIO : 0;
}
