/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapod gc: Manager.GarbageCollect, then what it removed. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "json-util.h"
#include "pod-gc.h"

int verb_gc(int argc, char *argv[]) {
        enum { ARG_GRACE = 0x100, ARG_FORMAT };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "grace-period", required_argument, NULL, ARG_GRACE },
                { "format", required_argument, NULL, ARG_FORMAT },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *j = NULL;
        uint64_t grace = POD_GC_GRACE_DEFAULT_USEC;
        OutputFormat format = OUTPUT_TEXT;
        const char *id, *name;
        int c, r;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("gc");
                        return 0;
                case ARG_GRACE:
                        if (timespan_parse(optarg, &grace) < 0)
                                return log_usage_error("Invalid --grace-period='%s': a time span like 30m, 1h or 0.", optarg);
                        break;
                case ARG_FORMAT:
                        r = cli_parse_format(optarg, "text", &format);
                        if (r < 0)
                                return r;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind < argc)
                return log_usage_error("Unexpected argument '%s'.", argv[optind]);

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "GarbageCollect", CLI_SLOW_CALL_USEC, &reply, "tt",
                     grace, UINT64_C(0));
        if (r < 0)
                return r;
        j = json_object_new_array();
        if (!j)
                return log_oom();
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &id, &name)) > 0) {
                if (format == OUTPUT_JSON) {
                        json_object *o = json_object_new_object();

                        if (!o || json_object_array_add(j, o) < 0)
                                return log_oom();
                        json_object_object_add(o, "id", json_object_new_string(id));
                        json_object_object_add(o, "name", json_object_new_string(name));
                } else
                        printf("Removed pod %s (%s)\n", name, id);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to parse GarbageCollect reply: %m");
        if (format == OUTPUT_JSON)
                return cli_print_json(j);
        return 0;
}
