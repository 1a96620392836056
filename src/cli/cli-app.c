/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapod pod create, and peapod app add/start/stop/rm/list/status: apps in
 * a running pod, one method of org.peapod1.Pod each. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus-util.h"
#include "cli.h"
#include "json-util.h"
#include "name.h"
#include "string-util.h"
#include "strv.h"
#include "time-util.h"


/* ---- peapod pod create ---- */

/* Manager.CreatePod for a pod without apps; its id in ret_id. */
static int pod_create_call(sd_bus *bus, const char *name, const RunArgs *pod, char **ret_id) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *path, *id;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE,
                                           "CreatePod");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", strempty(name));
        if (r >= 0)
                r = cli_append_pod_properties(m, pod, true);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(ssa(sv))", 0);
        if (r < 0)
                return log_error_errno(r, "Failed to build CreatePod call: %m");
        r = sd_bus_call(bus, m, CLI_SLOW_CALL_USEC, &error, &reply);
        if (r < 0)
                return cli_log_bus_error(&error, r);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "Failed to parse CreatePod reply: %m");
        id = strrchr(path, '/');
        if (!id || !id_is_valid(id + 1))
                return log_error_errno(EBADMSG, "peapodd returned an unexpected pod path: %s", path);
        *ret_id = strdup(id + 1);
        return *ret_id ? 0 : log_oom();
}

static int pod_create(int argc, char *argv[]) {
        enum { ARG_NAME = 0x100, ARG_STAGE1, ARG_VOLUME, ARG_NET, ARG_PORT, ARG_DNS, ARG_DNS_SEARCH, ARG_HOSTNAME };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "name", required_argument, NULL, ARG_NAME },
                { "stage1", required_argument, NULL, ARG_STAGE1 },
                { "quiet", no_argument, NULL, 'q' },
                { "volume", required_argument, NULL, ARG_VOLUME },
                { "net", required_argument, NULL, ARG_NET },
                { "port", required_argument, NULL, ARG_PORT },
                { "dns", required_argument, NULL, ARG_DNS },
                { "dns-search", required_argument, NULL, ARG_DNS_SEARCH },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                {}
        };
        _cleanup_(run_args_done) RunArgs pod = {};
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *id = NULL;
        const char *name = NULL;
        bool quiet = false;
        int c, r;

        while ((c = getopt_long(argc, argv, ":hq", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("pod");
                        return 0;
                case ARG_NAME:
                        name = optarg;
                        break;
                case ARG_STAGE1:
                        free(pod.stage1);
                        pod.stage1 = strdup(optarg);
                        if (!pod.stage1)
                                return log_oom();
                        break;
                case 'q':
                        quiet = true;
                        break;
                case ARG_VOLUME:
                        r = run_args_add_volume(&pod, optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_NET ... ARG_HOSTNAME: {
                        static const char *const names[] = { "--net", "--port", "--dns", "--dns-search", "--hostname" };

                        r = run_args_network_option(&pod, names[c - ARG_NET], optarg);
                        if (r < 0)
                                return r;
                        break;
                }
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind < argc)
                return log_usage_error("Unexpected argument '%s'; add apps with 'peapod app add'.", argv[optind]);

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = pod_create_call(bus, name, &pod, &id);
        if (r < 0)
                return r;

        r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "StartPod", CLI_SLOW_CALL_USEC, NULL, "s", id);
        if (r < 0) {
                (void) sd_bus_call_method(bus, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "RemovePod",
                                          NULL, NULL, "st", id, UINT64_C(0));
                return r;
        }
        if (!quiet)
                printf("%s\n", id);
        return 0;
}

int verb_pod(int argc, char *argv[]) {
        if (argc >= 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                verb_help("pod");
                return 0;
        }
        if (argc < 2)
                return log_usage_error("Missing command; see 'peapod pod --help'.");
        if (streq(argv[1], "create"))
                return pod_create(argc - 1, argv + 1);
        return log_usage_error("Unknown command 'pod %s'; see 'peapod pod --help'.", argv[1]);
}

/* ---- what GetApp tells ---- */

typedef struct AppStatus {
        char *name, *id, *image, *image_id, *unit, *state, *result, *workdir;
        char **exec;
        int32_t status;
        uint32_t pid;
        uint64_t started_usec, exited_usec;
} AppStatus;

static void app_status_done(AppStatus *a) {
        free(a->name);
        free(a->id);
        free(a->image);
        free(a->image_id);
        free(a->unit);
        free(a->state);
        free(a->result);
        free(a->workdir);
        strv_free(a->exec);
        *a = (AppStatus) {};
}

static int read_app_status(sd_bus_message *m, AppStatus *a) {
        static const CliBusProperty props[] = {
                { "Name", "s", offsetof(AppStatus, name) },
                { "Id", "s", offsetof(AppStatus, id) },
                { "Image", "s", offsetof(AppStatus, image) },
                { "ImageId", "s", offsetof(AppStatus, image_id) },
                { "Unit", "s", offsetof(AppStatus, unit) },
                { "State", "s", offsetof(AppStatus, state) },
                { "Result", "s", offsetof(AppStatus, result) },
                { "WorkingDirectory", "s", offsetof(AppStatus, workdir) },
                { "Exec", "as", offsetof(AppStatus, exec) },
                { "Status", "i", offsetof(AppStatus, status) },
                { "MainPID", "u", offsetof(AppStatus, pid) },
                { "StartedTimestamp", "t", offsetof(AppStatus, started_usec) },
                { "ExitedTimestamp", "t", offsetof(AppStatus, exited_usec) },
        };

        return cli_read_properties(m, props, ELEMENTSOF(props), a);
}

static int get_app_status(sd_bus *bus, const char *pod_path, const char *app, AppStatus *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(app_status_done) AppStatus a = {};
        int r;

        r = cli_call(bus, pod_path, PEAPOD_POD_INTERFACE, "GetApp", 0, &reply, "s", app);
        if (r < 0)
                return r;
        r = read_app_status(reply, &a);
        if (r < 0)
                return log_error_errno(r, "Failed to parse GetApp reply: %m");
        *ret = a;
        a = (AppStatus) {};
        return 0;
}

static json_object *app_status_to_json(const AppStatus *a) {
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *exec;

        if (!o)
                return NULL;
        json_object_object_add(o, "name", json_object_new_string(strempty(a->name)));
        json_object_object_add(o, "id", json_object_new_string(strempty(a->id)));
        json_object_object_add(o, "image", json_object_new_string(strempty(a->image)));
        json_object_object_add(o, "image_id", json_object_new_string(strempty(a->image_id)));
        exec = json_new_strv(a->exec);
        if (!exec)
                return NULL;
        json_object_object_add(o, "exec", exec);
        json_object_object_add(o, "working_directory", json_object_new_string(strempty(a->workdir)));
        json_object_object_add(o, "unit", json_object_new_string(strempty(a->unit)));
        json_object_object_add(o, "state", json_object_new_string(strempty(a->state)));
        json_object_object_add(o, "result", json_object_new_string(strempty(a->result)));
        json_object_object_add(o, "status", json_object_new_int64(a->status));
        json_object_object_add(o, "pid", json_object_new_int64(a->pid));
        json_object_object_add(o, "started", json_object_new_uint64(a->started_usec));
        json_object_object_add(o, "exited", json_object_new_uint64(a->exited_usec));
        return TAKE_PTR(o);
}

/* ---- peapod app ... ---- */

/* The app after POD, parsed as 'peapod run' parses an app (args[0] is its
 * image): 1 to go on, 0 when help was shown, or a logged error. */
static int app_add_parse_app(int n, char *args[], const char *name, RunArgs *a) {
        _cleanup_free_ char **app_argv = NULL;
        int r;

        app_argv = calloc(n + 2, sizeof(char *));
        if (!app_argv)
                return log_oom();
        app_argv[0] = (char *) "app add";
        for (int i = 0; i < n; i++)
                app_argv[i + 1] = args[i];
        r = run_args_parse(n + 1, app_argv, a);
        if (r < 0)
                return r;
        if (a->help) {
                verb_help("app");
                return 0;
        }
        if (a->n_volumes > 0)
                return log_usage_error("Volumes belong to the pod: give --volume= to 'peapod pod create' or 'peapod run'.");
        if (a->n_apps != 1 || a->name || a->quiet || a->pull != PULL_MISSING)
                return log_usage_error("'peapod app add' adds one app: POD IMAGE [APP-OPTIONS] [-- ARGS...].");
        if (name && a->apps[0].name && !streq(name, a->apps[0].name))
                return log_usage_error("--name= and --app-name= disagree.");
        return 1;
}

/* Pod.AddApp; the name of the app added in ret_added. */
static int app_add_call(sd_bus *bus, const char *pod_path, const char *name, const AppSpec *app, uint64_t flags,
                        char **ret_added) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *added;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, PEAPOD_BUS_NAME, pod_path, PEAPOD_POD_INTERFACE, "AddApp");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", strempty(name ?: app->name), app->image);
        if (r >= 0)
                r = cli_append_app_properties(m, app);
        if (r >= 0)
                r = sd_bus_message_append(m, "t", flags);
        if (r < 0)
                return log_error_errno(r, "Failed to build AddApp call: %m");
        r = sd_bus_call(bus, m, CLI_SLOW_CALL_USEC, &error, &reply);
        if (r < 0)
                return cli_log_bus_error(&error, r);
        r = sd_bus_message_read(reply, "ss", &added, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to parse AddApp reply: %m");
        *ret_added = strdup(added);
        return *ret_added ? 0 : log_oom();
}

static int app_add(int argc, char *argv[]) {
        enum { ARG_NAME = 0x100, ARG_START };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "name", required_argument, NULL, ARG_NAME },
                { "start", no_argument, NULL, ARG_START },
                { "quiet", no_argument, NULL, 'q' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(run_args_done) RunArgs a = {};
        _cleanup_free_ char *pod_path = NULL, *added = NULL;
        const char *name = NULL, *pod;
        uint64_t flags = 0;
        bool quiet = false;
        int c, r;

        /* '+': options end at POD; what follows IMAGE is the app's, parsed as
         * 'peapod run' parses an app. */
        while ((c = getopt_long(argc, argv, "+:hq", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("app");
                        return 0;
                case ARG_NAME:
                        name = optarg;
                        break;
                case ARG_START:
                        flags |= PEAPOD_ADD_APP_START;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (argc - optind < 2)
                return log_usage_error("Missing %s; see 'peapod app --help'.", optind < argc ? "image" : "pod and image");
        pod = argv[optind];

        r = app_add_parse_app(argc - optind - 1, argv + optind + 1, name, &a);
        if (r <= 0)
                return r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_get_pod_path(bus, pod, &pod_path);
        if (r < 0)
                return r;
        r = app_add_call(bus, pod_path, name, &a.apps[0], flags, &added);
        if (r < 0)
                return r;
        if (!quiet)
                printf("%s\n", added);
        return 0;
}

/* start, stop, rm: POD APP..., one call per app, the first failure decides. */
static int app_for_each(int argc, char *argv[], const char *verb) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "force", no_argument, NULL, 'f' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *pod_path = NULL;
        bool rm = streq(verb, "rm");
        uint64_t flags = 0;
        int c, r, ret = 0;

        while ((c = getopt_long(argc, argv, rm ? ":hf" : ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("app");
                        return 0;
                case 'f':
                        if (!rm)
                                return log_usage_error("Unknown option '%s'.", argv[optind - 1]);
                        flags |= PEAPOD_REMOVE_APP_FORCE;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (argc - optind < 2)
                return log_usage_error("Missing %s; see 'peapod app --help'.", optind < argc ? "app" : "pod and app");

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_get_pod_path(bus, argv[optind], &pod_path);
        if (r < 0)
                return r;
        for (int i = optind + 1; i < argc; i++) {
                if (rm)
                        r = cli_call(bus, pod_path, PEAPOD_POD_INTERFACE, "RemoveApp", CLI_SLOW_CALL_USEC, NULL, "st",
                                     argv[i], flags);
                else
                        r = cli_call(bus, pod_path, PEAPOD_POD_INTERFACE, streq(verb, "start") ? "StartApp" : "StopApp",
                                     CLI_SLOW_CALL_USEC, NULL, "s", argv[i]);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

static int app_list(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(pod_info_done) PodInfo p = {};
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_json_ json_object *j = NULL;
        OutputFormat format = OUTPUT_TABLE;
        bool legend = true;
        int r;

        r = cli_parse_output_options(argc, argv, "app", "table", &format, &legend);
        if (r <= 0)
                return r;
        if (optind >= argc)
                return log_usage_error("Missing pod; see 'peapod app --help'.");
        if (optind + 1 < argc)
                return log_usage_error("Too many arguments: 'peapod app list' lists the apps of one pod.");

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_get_pod_info(bus, argv[optind], &p);
        if (r < 0)
                return r;

        j = json_object_new_array();
        t = table_new(6, "APP", "STATE", "RESULT", "PID", "IMAGE", "ID");
        if (!j || !t)
                return log_oom();
        for (size_t i = 0; i < p.n_apps; i++) {
                _cleanup_(app_status_done) AppStatus a = {};
                _cleanup_free_ char *result = NULL;
                char pid[16] = "-";

                /* By id: the name could have been reused meanwhile. */
                r = get_app_status(bus, p.path, p.apps[i].id, &a);
                if (r < 0)
                        return r;
                if (format == OUTPUT_JSON) {
                        json_object *o = app_status_to_json(&a);

                        if (!o || json_object_array_add(j, o) < 0)
                                return log_oom();
                        continue;
                }
                if (a.pid > 0)
                        snprintf(pid, sizeof(pid), "%" PRIu32, a.pid);
                if (format_app_result(a.result, a.status, &result) < 0 ||
                    table_add_row(t, a.name, a.state, result, pid, a.image, a.id) < 0)
                        return log_oom();
        }
        if (format == OUTPUT_JSON)
                return cli_print_json(j);
        if (table_rows(t) > 0 || legend)
                table_print(t, stdout, legend);
        if (legend)
                printf("\n%zu app%s listed.\n", table_rows(t), table_rows(t) == 1 ? "" : "s");
        return 0;
}

static int app_status(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(app_status_done) AppStatus a = {};
        _cleanup_free_ char *pod_path = NULL, *result = NULL, *cmd = NULL;
        OutputFormat format = OUTPUT_TEXT;
        char abs_buf[64], rel_buf[64];
        uint64_t now = now_usec(CLOCK_REALTIME);
        int r;

        r = cli_parse_output_options(argc, argv, "app", "text", &format, NULL);
        if (r <= 0)
                return r;
        if (argc - optind != 2)
                return log_usage_error("'peapod app status' wants POD and APP; see 'peapod app --help'.");

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_get_pod_path(bus, argv[optind], &pod_path);
        if (r < 0)
                return r;
        r = get_app_status(bus, pod_path, argv[optind + 1], &a);
        if (r < 0)
                return r;
        if (format == OUTPUT_JSON) {
                _cleanup_json_ json_object *j = app_status_to_json(&a);

                return cli_print_json(j);
        }

        cmd = command_to_string(a.exec);
        if (!cmd || format_app_result(a.result, a.status, &result) < 0)
                return log_oom();
        printf("%s (%s)\n", a.name, a.id);
        printf("%12s: %s\n", "State", strna(a.state));
        printf("%12s: %s\n", "Result", result);
        if (a.pid > 0)
                printf("%12s: %" PRIu32 "\n", "PID", a.pid);
        printf("%12s: %s\n", "Unit", strna(a.unit));
        printf("%12s: %s\n", "Image", strna(a.image));
        printf("%12s: %s\n", "Command", cmd);
        if (a.started_usec > 0)
                printf("%12s: %s; %s\n", "Started", format_timestamp(abs_buf, sizeof(abs_buf), a.started_usec),
                       format_timestamp_relative(rel_buf, sizeof(rel_buf), a.started_usec, now));
        if (a.exited_usec > 0)
                printf("%12s: %s; %s\n", "Exited", format_timestamp(abs_buf, sizeof(abs_buf), a.exited_usec),
                       format_timestamp_relative(rel_buf, sizeof(rel_buf), a.exited_usec, now));
        return 0;
}

int verb_app(int argc, char *argv[]) {
        static const struct {
                const char *name;
                int (*run)(int argc, char *argv[]);
        } cmds[] = {
                { "add", app_add },
                { "list", app_list },
                { "status", app_status },
        };

        if (argc >= 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                verb_help("app");
                return 0;
        }
        if (argc < 2)
                return log_usage_error("Missing command; see 'peapod app --help'.");
        for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
                if (streq(argv[1], cmds[i].name))
                        return cmds[i].run(argc - 1, argv + 1);
        if (streq(argv[1], "start") || streq(argv[1], "stop") || streq(argv[1], "rm"))
                return app_for_each(argc - 1, argv + 1, argv[1]);
        return log_usage_error("Unknown command 'app %s'; see 'peapod app --help'.", argv[1]);
}
