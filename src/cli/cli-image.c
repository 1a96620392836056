/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fs-util.h"
#include "gpg.h"
#include "json-util.h"
#include "string-util.h"
#include "strv.h"


typedef struct JobWait {
        const char *job;        /* our job's path, once known */
        char **removed_paths;   /* JobRemoved seen before we knew our path */
        char **removed_states;
        char **removed_messages;
        char **removed_results;
        bool changed;
        char *phase;            /* the job's properties as last announced */
        uint64_t done, total;
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWait *w = userdata;
        const char *path, *state, *result, *message;
        uint32_t id;

        if (sd_bus_message_read(m, "uosss", &id, &path, &state, &result, &message) < 0)
                return 0;
        if (strv_extend(&w->removed_paths, path) < 0 || strv_extend(&w->removed_states, state) < 0 ||
            strv_extend(&w->removed_results, result) < 0 || strv_extend(&w->removed_messages, message) < 0)
                return -ENOMEM;
        return 0;
}

/* The values come with the signal: no call back to a job that may be gone. */
static int on_job_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWait *w = userdata;
        const char *iface;
        int r;

        if (!w->job || !streq_ptr(sd_bus_message_get_path(m), w->job))
                return 0;
        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *phase;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        break;
                if (streq(name, "Phase")) {
                        r = sd_bus_message_read(m, "v", "s", &phase);
                        if (r >= 0 && !streq_ptr(w->phase, phase)) {
                                free(w->phase);
                                w->phase = strdup(phase);
                        }
                } else if (streq(name, "BytesDone"))
                        r = sd_bus_message_read(m, "v", "t", &w->done);
                else if (streq(name, "BytesTotal"))
                        r = sd_bus_message_read(m, "v", "t", &w->total);
                else
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        w->changed = true;
        return 0;
}

static const char *format_bytes(char *buf, size_t size, uint64_t n) {
        static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double) n;
        size_t u = 0;

        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        snprintf(buf, size, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
        return buf;
}

/* On a terminal one line redrawn in place; otherwise a line per phase, so
 * that logs of scripted pulls stay short. */
static void show_progress(const JobWait *w, const char *ref, bool tty, char **last_phase) {
        char a[32], b[32];

        if (isempty(w->phase))
                return;
        if (tty) {
                fprintf(stderr, "\r\033[K%s: %s %s / %s", ref, w->phase, format_bytes(a, sizeof(a), w->done),
                        format_bytes(b, sizeof(b), w->total));
                if (w->total > 0)
                        fprintf(stderr, " (%u%%)", (unsigned) (w->done * 100 / w->total));
                fflush(stderr);
        } else if (!streq_ptr(*last_phase, w->phase)) {
                /* A size of 0 is an unknown one (an archive on a pipe). */
                if (w->total > 0)
                        fprintf(stderr, "%s: %s (%s)\n", ref, w->phase, format_bytes(b, sizeof(b), w->total));
                else
                        fprintf(stderr, "%s: %s\n", ref, w->phase);
                free(*last_phase);
                *last_phase = strdup(w->phase);
        }
}

typedef struct JobWaitCheck {
        JobWait *w;
        const CliWatch *watch;
        const char *action, *what;
        bool quiet, tty;
        char *last_phase;
        char **ret_result;
} JobWaitCheck;

/* cli_wait()'s check: draw progress, and end on our job's JobRemoved. */
static int job_wait_check(void *userdata) {
        JobWaitCheck *c = userdata;
        JobWait *w = c->w;

        /* Progress first: the last change comes just before JobRemoved. */
        if (w->changed) {
                w->changed = false;
                if (!c->quiet)
                        show_progress(w, c->what, c->tty, &c->last_phase);
        }
        for (size_t i = 0; w->removed_paths && w->removed_paths[i]; i++) {
                if (!streq(w->removed_paths[i], w->job))
                        continue;
                if (c->tty)
                        fputs("\r\033[K", stderr);
                if (!streq(w->removed_states[i], "done"))
                        return log_error_errno(EIO, "Failed to %s %s: %s", c->action, c->what,
                                               isempty(w->removed_messages[i]) ? w->removed_states[i] : w->removed_messages[i]);
                if (c->ret_result) {
                        *c->ret_result = strdup(w->removed_results[i]);
                        if (!*c->ret_result)
                                return log_oom();
                }
                return 1;
        }
        /* cli_wait() is about to say that peapodd is gone: on a line of its own. */
        if (c->tty && cli_watch_gone(c->watch))
                fputs("\r\033[K", stderr);
        return 0;
}

/* Call member (a Manager method that answers with a job's path), show the
 * job's progress as "what: phase ...", and wait for JobRemoved. On success
 * ret_result (may be NULL) is the job's result; on failure "Failed to
 * <action> <what>: <the job's message>" is logged, and if peapodd goes
 * away meanwhile, that it did. Shared by pull, import and export. */
static int job_send_and_wait(sd_bus *bus, const char *action, const char *what, bool quiet, char **ret_result,
                             sd_bus_message *call) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *s1 = NULL, *s2 = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(cli_watch_done) CliWatch watch = {};
        _cleanup_free_ char *job = NULL, *doing = NULL, *unfinished = NULL;
        const char *member = sd_bus_message_get_member(call);
        JobWait w = {};
        JobWaitCheck c = {
                .w = &w,
                .watch = &watch,
                .action = action,
                .what = what,
                .quiet = quiet,
                .tty = !quiet && isatty(STDERR_FILENO),
                .ret_result = ret_result,
        };
        const char *path;
        int r;

        /* Matches first: a quick job may be gone before the reply. */
        r = sd_bus_match_signal(bus, &s1, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "JobRemoved",
                                on_job_removed, &w);
        if (r >= 0)
                r = sd_bus_add_match(bus, &s2,
                                     "type='signal',sender='" PEAPOD_BUS_NAME "',interface='org.freedesktop.DBus.Properties',"
                                     "member='PropertiesChanged',path_namespace='/org/peapod1/job'",
                                     on_job_changed, &w);
        if (r < 0)
                return log_error_errno(r, "Failed to watch peapodd's jobs: %m");
        r = cli_watch_begin(bus, &watch);
        if (r < 0)
                return r;

        r = sd_bus_call(bus, call, 0, &error, &reply);
        if (r < 0)
                return cli_log_bus_error(&error, r);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "Failed to parse %s reply: %m", member);
        r = cli_watch_set_peer(&watch, reply);
        if (r < 0)
                return r;
        job = strdup(path);
        if (!job)
                return log_oom();
        w.job = job;
        if (asprintf(&doing, "%sing %s", action, what) < 0 || asprintf(&unfinished, "the %s did not finish", action) < 0)
                return log_oom();

        r = cli_wait(bus, &watch, job_wait_check, &c, doing, unfinished);
        free(c.last_phase);
        free(w.phase);
        strv_free(w.removed_paths);
        strv_free(w.removed_states);
        strv_free(w.removed_results);
        strv_free(w.removed_messages);
        return r;
}

static int job_call_and_wait(sd_bus *bus, const char *action, const char *what, bool quiet, char **ret_result,
                             const char *member, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &call, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE,
                                           member);
        if (r >= 0) {
                va_start(ap, types);
                r = sd_bus_message_appendv(call, types, ap);
                va_end(ap);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to build %s call: %m", member);
        return job_send_and_wait(bus, action, what, quiet, ret_result, call);
}

void warn_insecure_image(const char *what) {
        fprintf(stderr, "Warning: --insecure-options=image: %s is accepted without checking its signature against the "
                        "trust policy.\n", what);
}

int cli_pull_image(sd_bus *bus, const char *ref, bool quiet, bool insecure_image, char **ret_id) {
        if (insecure_image)
                warn_insecure_image(ref);
        return job_call_and_wait(bus, "pull", ref, quiet, ret_id, "PullImage", "st", ref,
                                 insecure_image ? PEAPOD_IMAGE_INSECURE_SKIP_VERIFY : UINT64_C(0));
}

static int verb_image_pull(int argc, char *argv[]) {
        enum { ARG_INSECURE_OPTIONS = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "quiet", no_argument, NULL, 'q' },
                { "insecure-options", required_argument, NULL, ARG_INSECURE_OPTIONS },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *id = NULL;
        bool quiet = false, insecure_image = false;
        int c, r;

        while ((c = getopt_long(argc, argv, ":hq", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("image");
                        return 0;
                case 'q':
                        quiet = true;
                        break;
                case ARG_INSECURE_OPTIONS:
                        r = insecure_options_parse(optarg, &insecure_image);
                        if (r < 0)
                                return r;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind + 1 != argc)
                return log_usage_error("'peapod image pull' takes one image reference.");
        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_pull_image(bus, argv[optind], quiet, insecure_image, &id);
        if (r >= 0 && !quiet)
                printf("%s\n", id);
        return r;
}


static int verb_image_list(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        OutputFormat format = OUTPUT_TABLE;
        bool legend = true;
        ImageRow *rows = NULL;
        size_t n = 0;
        int r;

        r = cli_parse_output_options(argc, argv, "image", "table", &format, &legend);
        if (r <= 0)
                return r;
        if (optind != argc)
                return log_usage_error("'peapod image list' takes no arguments.");
        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_list_images(bus, &rows, &n);
        if (r < 0)
                return r;

        if (format == OUTPUT_JSON) {
                json_object *a = json_object_new_array();

                for (size_t i = 0; a && i < n; i++) {
                        json_object *o = json_object_new_object();

                        json_object_object_add(o, "id", json_object_new_string(rows[i].id));
                        json_object_object_add(o, "names", json_new_strv(rows[i].names));
                        json_object_object_add(o, "size", json_object_new_uint64(rows[i].size));
                        json_object_object_add(o, "created", json_object_new_string(rows[i].created));
                        json_object_object_add(o, "path", json_object_new_string(rows[i].path));
                        json_object_array_add(a, o);
                }
                r = cli_print_json(a);
        } else {
                t = table_new(4, "ID", "NAME", "SIZE", "CREATED");
                for (size_t i = 0; t && i < n; i++) {
                        char size[32], id[13];

                        snprintf(id, sizeof(id), "%s", startswith(rows[i].id, "sha256:") ?: rows[i].id);
                        if (!rows[i].names || !rows[i].names[0])
                                r = table_add_row(t, id, "<none>", format_bytes(size, sizeof(size), rows[i].size),
                                                  rows[i].created);
                        for (size_t k = 0; rows[i].names && rows[i].names[k]; k++)
                                r = table_add_row(t, id, rows[i].names[k], format_bytes(size, sizeof(size), rows[i].size),
                                                  rows[i].created);
                }
                r = t ? table_print(t, stdout, legend) : log_oom();
                if (r >= 0 && legend)
                        printf("\n%zu image%s listed.\n", n, n == 1 ? "" : "s");
        }
        image_rows_free(rows, n);
        return r;
}

/* The image verbs without options of their own: --help, then exactly
 * n_args arguments. Returns 1 to go on, 0 when help was shown, -errno on a
 * usage error. */
static int parse_plain_args(int argc, char *argv[], int n_args, const char *usage_error) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("image");
                        return 0;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind + n_args != argc)
                return log_usage_error("%s", usage_error);
        return 1;
}

static int verb_image_inspect(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *props = NULL;
        json_object *o;
        const char *path;
        int r;

        r = parse_plain_args(argc, argv, 1, "'peapod image inspect' takes one image.");
        if (r <= 0)
                return r;
        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "GetImage", 0, &reply, "s", argv[optind]);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "Failed to parse GetImage reply: %m");
        r = cli_call(bus, path, "org.freedesktop.DBus.Properties", "GetAll", 0, &props, "s", PEAPOD_IMAGE_INTERFACE);
        if (r < 0)
                return r;

        /* Inspect is for programs first: JSON, keys as the D-Bus properties. */
        o = json_object_new_object();
        r = sd_bus_message_enter_container(props, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(props, 'e', "sv")) > 0) {
                const char *name, *contents;

                r = sd_bus_message_read(props, "s", &name);
                if (r < 0)
                        break;
                r = sd_bus_message_peek_type(props, NULL, &contents);
                if (r < 0)
                        break;
                r = sd_bus_message_enter_container(props, 'v', contents);
                if (r < 0)
                        break;
                if (streq(contents, "s")) {
                        const char *s;
                        r = sd_bus_message_read(props, "s", &s);
                        if (r >= 0)
                                json_object_object_add(o, name, json_object_new_string(s));
                } else if (streq(contents, "t")) {
                        uint64_t t;
                        r = sd_bus_message_read(props, "t", &t);
                        if (r >= 0)
                                json_object_object_add(o, name, json_object_new_uint64(t));
                } else if (streq(contents, "as")) {
                        _cleanup_strv_free_ char **l = NULL;
                        r = sd_bus_message_read_strv(props, &l);
                        if (r >= 0)
                                json_object_object_add(o, name, json_new_strv(l));
                } else if (streq(contents, "a{ss}")) {
                        json_object *labels = json_object_new_object();
                        const char *k, *v;

                        json_object_object_add(o, name, labels);
                        r = sd_bus_message_enter_container(props, 'a', "{ss}");
                        while (r >= 0 && (r = sd_bus_message_read(props, "{ss}", &k, &v)) > 0)
                                json_object_object_add(labels, k, json_object_new_string(v));
                        if (r >= 0)
                                r = sd_bus_message_exit_container(props);
                } else
                        r = sd_bus_message_skip(props, contents);
                if (r >= 0)
                        r = sd_bus_message_exit_container(props);
                if (r >= 0)
                        r = sd_bus_message_exit_container(props);
        }
        if (r < 0) {
                json_object_put(o);
                return log_error_errno(r, "Failed to parse the image's properties: %m");
        }
        return cli_print_json(o);
}

static int verb_image_rm(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "force", no_argument, NULL, 'f' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        uint64_t flags = 0;
        int c, r, ret = 0;

        while ((c = getopt_long(argc, argv, ":hf", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("image");
                        return 0;
                case 'f':
                        flags |= PEAPOD_REMOVE_IMAGE_FORCE;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind >= argc)
                return log_usage_error("'peapod image rm' takes one or more images.");
        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        /* Each image on its own: one that is in use does not keep the
         * others from going. */
        for (int i = optind; i < argc; i++) {
                r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "RemoveImage", CLI_SLOW_CALL_USEC, NULL, "st",
                             argv[i], flags);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

static int verb_image_tag(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = parse_plain_args(argc, argv, 2, "'peapod image tag' takes an image and a reference.");
        if (r <= 0)
                return r;
        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        return cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "TagImage", 0, NULL, "ss", argv[optind],
                        argv[optind + 1]);
}

static int verb_image_gc(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint64_t freed;
        char buf[32];
        int r;

        r = parse_plain_args(argc, argv, 0, "'peapod image gc' takes no arguments.");
        if (r <= 0)
                return r;
        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "PruneImages", CLI_SLOW_CALL_USEC, &reply, "t",
                     UINT64_C(0));
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "t", &freed);
        if (r < 0)
                return log_error_errno(r, "Failed to parse PruneImages reply: %m");
        printf("%s freed.\n", format_bytes(buf, sizeof(buf), freed));
        return 0;
}

/* An ACI with its detached signature: rkt's convention is that X.aci.asc
 * signs X.aci; peapodd decides what a missing one means. */
static int import_aci(sd_bus *bus, int fd, const char *file, const char *name, bool insecure_image, bool quiet,
                      char **ret_ids) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_free_ char *asc_path = NULL, *asc = NULL;
        size_t asc_size = 0;
        int r;

        if (asprintf(&asc_path, "%s.asc", file) < 0)
                return log_oom();
        r = read_file(asc_path, GPG_SIGNATURE_SIZE_MAX, &asc, &asc_size);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to read %s: %m", asc_path);
        r = sd_bus_message_new_method_call(bus, &call, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE,
                                           "ImportImageWithSignature");
        if (r >= 0)
                r = sd_bus_message_append(call, "h", fd);
        if (r >= 0)
                r = sd_bus_message_append_array(call, 'y', asc ?: "", asc ? asc_size : 0);
        if (r >= 0)
                r = sd_bus_message_append(call, "st", name,
                                          insecure_image ? PEAPOD_IMAGE_INSECURE_SKIP_VERIFY : UINT64_C(0));
        if (r < 0)
                return log_error_errno(r, "Failed to build ImportImageWithSignature call: %m");
        return job_send_and_wait(bus, "import", file, quiet, ret_ids, call);
}

static int verb_image_import(int argc, char *argv[]) {
        enum { ARG_NAME = 0x100, ARG_INSECURE_OPTIONS };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "name", required_argument, NULL, ARG_NAME },
                { "quiet", no_argument, NULL, 'q' },
                { "insecure-options", required_argument, NULL, ARG_INSECURE_OPTIONS },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *ids = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *name = "", *file;
        bool quiet = false, insecure_image = false;
        int c, r;

        while ((c = getopt_long(argc, argv, ":hq", options, NULL)) >= 0)
                switch (c) {
                case ARG_INSECURE_OPTIONS:
                        r = insecure_options_parse(optarg, &insecure_image);
                        if (r < 0)
                                return r;
                        break;
                case 'h':
                        verb_help("image");
                        return 0;
                case ARG_NAME:
                        if (isempty(optarg))
                                return log_usage_error("--name= needs a reference.");
                        name = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind + 1 != argc)
                return log_usage_error("'peapod image import' takes one file (or '-' for stdin).");
        file = argv[optind];
        if (streq(file, "-")) {
                if (isatty(STDIN_FILENO))
                        return log_usage_error("Refusing to read an archive from a terminal.");
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        } else
                fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", file);
        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        if (insecure_image)
                warn_insecure_image(file);
        if (endswith(file, ".aci"))
                r = import_aci(bus, fd, file, name, insecure_image, quiet, &ids);
        else
                r = job_call_and_wait(bus, "import", streq(file, "-") ? "standard input" : file, quiet, &ids,
                                      "ImportImage", "hst", fd, name,
                                      insecure_image ? PEAPOD_IMAGE_INSECURE_SKIP_VERIFY : UINT64_C(0));
        if (r < 0)
                return r;
        /* One id per line, like pull prints it. */
        for (char *p = ids; p && *p; p++)
                if (*p == ' ')
                        *p = '\n';
        if (!quiet && !isempty(ids))
                printf("%s\n", ids);
        return 0;
}

static int verb_image_export(int argc, char *argv[]) {
        enum { ARG_FORMAT = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "quiet", no_argument, NULL, 'q' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *format = "oci", *file;
        bool quiet = false;
        int c, r;

        while ((c = getopt_long(argc, argv, ":hq", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("image");
                        return 0;
                case ARG_FORMAT:
                        if (!streq(optarg, "oci") && !streq(optarg, "docker-archive"))
                                return log_usage_error("Invalid --format='%s': 'oci' or 'docker-archive'.", optarg);
                        format = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind + 2 != argc)
                return log_usage_error("'peapod image export' takes an image and a file (or '-' for stdout).");
        file = argv[optind + 1];
        if (streq(file, "-")) {
                if (isatty(STDOUT_FILENO))
                        return log_usage_error("Refusing to write an archive to a terminal.");
                fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        } else
                fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", file);
        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        return job_call_and_wait(bus, "export", argv[optind], quiet, NULL, "ExportImage", "shst", argv[optind], fd,
                                 format, UINT64_C(0));
}

int verb_image(int argc, char *argv[]) {
        static const struct {
                const char *name;
                int (*run)(int argc, char *argv[]);
        } subverbs[] = {
                { "pull", verb_image_pull },
                { "list", verb_image_list },
                { "inspect", verb_image_inspect },
                { "rm", verb_image_rm },
                { "tag", verb_image_tag },
                { "gc", verb_image_gc },
                { "import", verb_image_import },
                { "export", verb_image_export },
                { "sign", verb_image_sign },
        };

        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                verb_help("image");
                return argc < 2 ? log_usage_error("Missing image verb; see 'peapod image --help'.") : 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(subverbs); i++)
                if (streq(argv[1], subverbs[i].name)) {
                        optind = 0;
                        return subverbs[i].run(argc - 1, argv + 1);
                }
        return log_usage_error("Unknown image verb '%s'; see 'peapod image --help'.", argv[1]);
}
