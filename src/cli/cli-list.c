/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "json-util.h"
#include "time-util.h"

/* Oldest first, as pods were made; the name decides among equals. */
static int pod_compare(const void *a, const void *b) {
        const PodInfo *x = a, *y = b;

        if (x->created_usec != y->created_usec)
                return x->created_usec < y->created_usec ? -1 : 1;
        return strcmp(x->name, y->name);
}

/* A pod's published ports, as "a, b". */
static int pod_ports_to_string(const PodInfo *p, char **ret) {
        _cleanup_free_ char *ports = NULL;

        for (size_t k = 0; k < p->n_ports; k++) {
                _cleanup_free_ char *port = NULL;
                char *n;

                if (format_pod_port(&p->ports[k], &port) < 0 ||
                    asprintf(&n, "%s%s%s", strempty(ports), ports ? ", " : "", port) < 0)
                        return log_oom();
                free(ports);
                ports = n;
        }
        *ret = TAKE_PTR(ports);
        return 0;
}

static int print_pod_table(const PodList *l, bool legend) {
        _cleanup_(table_freep) Table *t = NULL;
        uint64_t now;

        t = table_new(5, "ID", "NAME", "STATE", "CREATED", "PORTS");
        if (!t)
                return log_oom();
        now = now_usec(CLOCK_REALTIME);
        for (size_t i = 0; i < l->n; i++) {
                const PodInfo *p = &l->pods[i];
                _cleanup_free_ char *ports = NULL;
                char short_id[13], when[64];

                if (pod_ports_to_string(p, &ports) < 0)
                        return -ENOMEM;
                /* 12 digits, as docker and podman show ids: unique in practice
                 * and accepted back as a prefix. */
                snprintf(short_id, sizeof(short_id), "%s", p->id);
                if (table_add_row(t, short_id, p->name, p->state,
                                  format_timestamp_relative(when, sizeof(when), p->created_usec, now), strempty(ports)) < 0)
                        return log_oom();
        }

        if (table_rows(t) > 0 || legend)
                table_print(t, stdout, legend);
        if (legend)
                printf("\n%zu pod%s listed.\n", table_rows(t), table_rows(t) == 1 ? "" : "s");
        return 0;
}

/* The options of a verb that only prints: --help, --format (table_name is
 * what its human format is called) and, when legend is not NULL,
 * --no-legend. 0 after --help, 1 to go on (optind at the first argument). */
int cli_parse_output_options(int argc, char *argv[], const char *verb, const char *table_name, OutputFormat *format,
                             bool *legend) {
        enum { ARG_FORMAT = 0x100, ARG_NO_LEGEND };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help(verb);
                        return 0;
                case ARG_FORMAT:
                        r = cli_parse_format(optarg, table_name, format);
                        if (r < 0)
                                return r;
                        break;
                case ARG_NO_LEGEND:
                        if (!legend)
                                return log_usage_error("Unknown option '%s'.", argv[optind - 1]);
                        *legend = false;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        return 1;
}

int verb_list(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        OutputFormat format = OUTPUT_TABLE;
        bool legend = true;
        _cleanup_(pod_list_done) PodList l = {};
        int r;

        r = cli_parse_output_options(argc, argv, "list", "table", &format, &legend);
        if (r <= 0)
                return r;
        if (optind < argc)
                return log_usage_error("Unexpected argument '%s'.", argv[optind]);

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_list_pods(bus, &l.pods, &l.n);
        if (r < 0)
                return r;
        if (l.n > 0)
                qsort(l.pods, l.n, sizeof(PodInfo), pod_compare);
        r = cli_get_pods_ports(bus, l.pods, l.n);
        if (r < 0)
                return r;

        if (format == OUTPUT_JSON) {
                _cleanup_json_ json_object *j = pod_list_to_json(l.pods, l.n);

                return cli_print_json(j);
        }

        return print_pod_table(&l, legend);
}
