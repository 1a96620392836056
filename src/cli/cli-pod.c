/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <signal.h>

#include "cli.h"

/* Verbs that call one method per pod: every pod is tried, and the first
 * failure decides the exit status. */
static int for_each_pod(int argc, char *argv[], const char *verb, const char *member, bool with_flags,
                        uint64_t flags) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r, ret = 0;

        if (optind >= argc)
                return log_usage_error("Missing pod; see 'peapod %s --help'.", verb);

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        for (int i = optind; i < argc; i++) {
                if (with_flags)
                        r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, member, CLI_SLOW_CALL_USEC,
                                     NULL, "st", argv[i], flags);
                else
                        r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, member, CLI_SLOW_CALL_USEC,
                                     NULL, "s", argv[i]);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

static int parse_plain(int argc, char *argv[], const char *verb) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help(verb);
                        return 0;
                default:
                        return cli_getopt_error(c, argv);
                }
        return 1;
}

int verb_start(int argc, char *argv[]) {
        int r = parse_plain(argc, argv, "start");
        if (r <= 0)
                return r;
        return for_each_pod(argc, argv, "start", "StartPod", false, 0);
}

int verb_stop(int argc, char *argv[]) {
        int r = parse_plain(argc, argv, "stop");
        if (r <= 0)
                return r;
        return for_each_pod(argc, argv, "stop", "StopPod", false, 0);
}

int verb_rm(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "force", no_argument, NULL, 'f' },
                {}
        };
        uint64_t flags = 0;
        int c;

        while ((c = getopt_long(argc, argv, ":hf", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("rm");
                        return 0;
                case 'f':
                        flags |= PEAPOD_REMOVE_POD_FORCE;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        return for_each_pod(argc, argv, "rm", "RemovePod", true, flags);
}

typedef struct PodWait {
        sd_bus *bus;
        const char *path;
        bool changed;
} PodWait;

static int on_waited_pod_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ((PodWait *) userdata)->changed = true;
        return 0;
}

/* 1 once the pod is neither running nor starting, 0 before. */
static int pod_has_ended(void *userdata) {
        PodWait *w = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *state = NULL;
        int r;

        if (!w->changed)
                return 0;
        w->changed = false;
        r = sd_bus_get_property_string(w->bus, PEAPOD_BUS_NAME, w->path, PEAPOD_POD_INTERFACE, "State", &error, &state);
        if (r < 0)
                return cli_log_bus_error(&error, r);
        return !streq(state, "running") && !streq(state, "preparing");
}

int verb_wait(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(cli_watch_done) CliWatch watch = {};
        _cleanup_free_ char *path = NULL;
        PodWait w = { .changed = true };
        int r;

        r = parse_plain(argc, argv, "wait");
        if (r <= 0)
                return r;
        if (argc - optind != 1)
                return log_usage_error("'peapod wait' waits for one pod; see 'peapod wait --help'.");

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_get_pod_path(bus, argv[optind], &path);
        if (r < 0)
                return r;
        w.bus = bus;
        w.path = path;
        /* Watched before the first look, so that no change is missed. */
        r = sd_bus_match_signal(bus, &slot, PEAPOD_BUS_NAME, path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                on_waited_pod_changed, &w);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the pod: %m");
        r = cli_watch_begin(bus, &watch);
        if (r < 0)
                return r;
        r = cli_wait(bus, &watch, pod_has_ended, &w, "waiting for the pod", "its end is unknown");
        if (r < 0)
                return r;
        r = cli_pod_exit_status(bus, argv[optind]);
        if (r < 0)
                return r;
        printf("%d\n", r);
        return 0;
}

int verb_kill(int argc, char *argv[]) {
        enum { ARG_SIGNAL = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "signal", required_argument, NULL, 's' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *path = NULL;
        int c, r, sig = SIGKILL;

        while ((c = getopt_long(argc, argv, ":hs:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("kill");
                        return 0;
                case 's':
                        sig = signal_from_string(optarg);
                        if (sig < 0)
                                return log_usage_error("Invalid --signal='%s': a name (TERM, SIGHUP) or a number 1-64.",
                                                       optarg);
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind >= argc)
                return log_usage_error("Missing pod; see 'peapod kill --help'.");
        if (argc - optind > 2)
                return log_usage_error("Too many arguments: 'peapod kill [--signal=SIG] POD [APP]'.");

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_get_pod_path(bus, argv[optind], &path);
        if (r < 0)
                return r;
        return cli_call(bus, path, PEAPOD_POD_INTERFACE, "Kill", 0, NULL, "si",
                        argc - optind == 2 ? argv[optind + 1] : "", (int32_t) sig);
}
