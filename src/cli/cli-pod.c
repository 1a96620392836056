/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>

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
                        flags |= PEAPOD_REMOVE_FORCE;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        return for_each_pod(argc, argv, "rm", "RemovePod", true, flags);
}
