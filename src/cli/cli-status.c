/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "json-util.h"
#include "time-util.h"

static void print_field(const char *key, const char *value) {
        printf("%12s: %s\n", key, strna(value));
}

static void print_time_field(const char *key, uint64_t usec, uint64_t now) {
        char abs_buf[64], rel_buf[64];

        if (usec == 0)
                return;
        printf("%12s: %s; %s\n", key, format_timestamp(abs_buf, sizeof(abs_buf), usec),
               format_timestamp_relative(rel_buf, sizeof(rel_buf), usec, now));
}

static int print_status_text(const PodInfo *p) {
        _cleanup_(table_freep) Table *t = NULL;
        uint64_t now = now_usec(CLOCK_REALTIME);

        printf("%s (%s)\n", p->name, p->id);
        print_field("State", p->state);
        print_field("Machine", p->machine);
        print_field("Stage1", p->stage1 ?: "default");
        print_field("Slice", p->slice);
        print_field("Unit", p->unit);
        if (p->leader > 0)
                printf("%12s: %" PRIu32 "\n", "Leader", p->leader);
        print_time_field("Created", p->created_usec, now);
        print_time_field("Started", p->started_usec, now);
        print_time_field("Exited", p->exited_usec, now);
        if (p->network_mode)
                print_field("Network", p->network_mode);
        if (p->hostname)
                print_field("Hostname", p->hostname);
        for (size_t i = 0; i < p->n_addresses; i++)
                printf("%12s: %s (%s, %s)\n", i == 0 ? "Address" : "", p->addresses[i].address,
                       p->addresses[i].ifname, p->addresses[i].network);
        for (size_t i = 0; i < p->n_ports; i++) {
                _cleanup_free_ char *port = NULL;

                if (format_pod_port(&p->ports[i], &port) < 0)
                        return log_oom();
                printf("%12s: %s\n", i == 0 ? "Ports" : "", port);
        }

        t = table_new(6, "APP", "STATE", "RESULT", "UNIT", "IMAGE", "COMMAND");
        if (!t)
                return log_oom();
        for (size_t i = 0; i < p->n_apps; i++) {
                const AppInfo *a = &p->apps[i];
                _cleanup_free_ char *result = NULL, *cmd = NULL;

                cmd = command_to_string(a->exec);
                if (!cmd || format_app_result(a->result, a->status, &result) < 0 ||
                    table_add_row(t, a->name, a->state, result, a->unit, a->image, cmd) < 0)
                        return log_oom();
        }
        putchar('\n');
        return table_print(t, stdout, true);
}

int verb_status(int argc, char *argv[]) {
        enum { ARG_FORMAT = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "format", required_argument, NULL, ARG_FORMAT },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(pod_info_done) PodInfo p = {};
        OutputFormat format = OUTPUT_TEXT;
        int c, r;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("status");
                        return 0;
                case ARG_FORMAT:
                        r = cli_parse_format(optarg, "text", &format);
                        if (r < 0)
                                return r;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind >= argc)
                return log_usage_error("Missing pod; see 'peapod status --help'.");
        if (optind + 1 < argc)
                return log_usage_error("Too many arguments: 'peapod status' shows one pod.");

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_get_pod_info(bus, argv[optind], &p);
        if (r < 0)
                return r;

        if (format == OUTPUT_JSON) {
                _cleanup_json_ json_object *j = pod_info_to_json(&p);

                return cli_print_json(j);
        }
        return print_status_text(&p);
}
