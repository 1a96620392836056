/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json-util.h"
#include "string-util.h"
#include "strv.h"
#include "time-util.h"


static void app_info_done(AppInfo *a) {
        free(a->name);
        free(a->id);
        free(a->image);
        free(a->unit);
        free(a->state);
        free(a->result);
        strv_free(a->exec);
}

void pod_info_done(PodInfo *p) {
        free(p->id);
        free(p->name);
        free(p->state);
        free(p->machine);
        free(p->stage1);
        free(p->slice);
        free(p->unit);
        free(p->path);
        for (size_t i = 0; i < p->n_apps; i++)
                app_info_done(&p->apps[i]);
        free(p->apps);
        free(p->network_mode);
        free(p->hostname);
        for (size_t i = 0; i < p->n_addresses; i++) {
                free(p->addresses[i].network);
                free(p->addresses[i].ifname);
                free(p->addresses[i].address);
        }
        free(p->addresses);
        for (size_t i = 0; i < p->n_ports; i++) {
                free(p->ports[i].protocol);
                free(p->ports[i].host_ip);
        }
        free(p->ports);
        *p = (PodInfo) {};
}

void pod_info_array_free(PodInfo *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                pod_info_done(&p[i]);
        free(p);
}

/* Edit distance with transpositions (optimal string alignment): "lsit" is
 * one edit from "list". Short words only; longer ones are "far". */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), d[33][33];

        if (la > 32 || lb > 32)
                return SIZE_MAX;
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++)
                for (size_t j = 1; j <= lb; j++) {
                        size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

                        if (d[i - 1][j] + 1 < best)
                                best = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < best)
                                best = d[i][j - 1] + 1;
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                                best = d[i - 2][j - 2] + 1;
                        d[i][j] = best;
                }
        return d[la][lb];
}

const char *verb_suggestion(const char *typed, const char * const *verbs, size_t n_verbs, bool *ret_alias) {
        static const char *const aliases[][2] = {
                { "ps", "list" },          { "ls", "list" },           { "exec", "enter" },
                { "inspect", "status" },   { "show", "status" },       { "kill", "stop" },
                { "create", "pod create" }, { "images", "image list" }, { "pull", "image pull" },
                { "rmi", "image rm" },     { "load", "image import" }, { "save", "image export" },
                { "shell", "enter" },      { "attach", "logs --follow" },
        };

        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (streq(typed, aliases[i][0])) {
                        *ret_alias = true;
                        return aliases[i][1];
                }
        *ret_alias = false;
        return closest_word(typed, verbs, n_verbs);
}

const char *closest_word(const char *typed, const char * const *words, size_t n_words) {
        const char *best = NULL;
        size_t best_d = 3;
        bool tie = false;

        for (size_t i = 0; i < n_words; i++) {
                size_t d = edit_distance(typed, words[i]);

                /* Within two edits, and not the whole word; a word listed
                 * twice is no tie. */
                if (d > 2 || d >= strlen(words[i]) || (best && streq(best, words[i])))
                        continue;
                if (d < best_d) {
                        best = words[i];
                        best_d = d;
                        tie = false;
                } else if (d == best_d)
                        tie = true;
        }
        return tie ? NULL : best;
}

/* "KILL", "SIGKILL", "kill" or "9". */
int signal_from_string(const char *s) {
        static const struct {
                const char *name;
                int number;
        } names[] = {
                { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
                { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
                { "STOP", SIGSTOP }, { "ALRM", SIGALRM }, { "WINCH", SIGWINCH },
        };
        const char *n = s;
        char *end;
        long v;

        if (isempty(s))
                return -EINVAL;
        if (strncasecmp(n, "SIG", 3) == 0)
                n += 3;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcasecmp(n, names[i].name) == 0)
                        return names[i].number;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end != 0 || !isdigit((unsigned char) s[0]) || v < 1 || v > 64)
                return -EINVAL;
        return (int) v;
}

int format_app_result(const char *result, int32_t status, char **ret) {
        const char *sig;
        char *s;
        int r;

        if (isempty(result))
                r = asprintf(&s, "-");
        else if (streq(result, "killed") || streq(result, "dumped")) {
                sig = status > 0 && status < NSIG ? sigabbrev_np(status) : NULL;
                if (sig)
                        r = asprintf(&s, "%s, signal=%s", result, sig);
                else
                        r = asprintf(&s, "%s, signal=%" PRIi32, result, status);
        } else
                /* "exited", and any result this client does not know yet. */
                r = asprintf(&s, "%s, status=%" PRIi32, result, status);
        if (r < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

const char *format_timestamp(char *buf, size_t size, uint64_t usec) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, size, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, size, "n/a");
        return buf;
}

const char *format_timestamp_relative(char *buf, size_t size, uint64_t usec, uint64_t now_usec) {
        static const struct {
                const char *one, *many;
                uint64_t sec;
        } units[] = {
                { " day", " days", 86400 },
                { "h", "h", 3600 },
                { "min", "min", 60 },
                { "s", "s", 1 },
        };
        uint64_t d;
        size_t i;
        int n;

        if (usec == 0)
                snprintf(buf, size, "n/a");
        else if (usec > now_usec)
                snprintf(buf, size, "in the future");
        else if ((d = (now_usec - usec) / USEC_PER_SEC) == 0)
                snprintf(buf, size, "just now");
        else {
                for (i = 0; d < units[i].sec; i++)
                        ;
                n = snprintf(buf, size, "%" PRIu64 "%s", d / units[i].sec,
                             d / units[i].sec == 1 ? units[i].one : units[i].many);
                /* The two largest units are precise enough for a human. */
                if (i + 1 < ELEMENTSOF(units)) {
                        uint64_t rest = d % units[i].sec / units[i + 1].sec;

                        if (rest > 0 && n >= 0 && (size_t) n < size)
                                n += snprintf(buf + n, size - n, " %" PRIu64 "%s", rest,
                                              rest == 1 ? units[i + 1].one : units[i + 1].many);
                }
                if (n >= 0 && (size_t) n < size)
                        snprintf(buf + n, size - n, " ago");
        }
        return buf;
}

static bool word_needs_quotes(const char *w) {
        if (isempty(w))
                return true;
        for (const char *p = w; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%", *p))
                        return true;
        return false;
}

char *command_to_string(char * const *argv) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        for (size_t i = 0; argv && argv[i]; i++) {
                if (i > 0)
                        fputc(' ', f);
                if (!word_needs_quotes(argv[i])) {
                        fputs(argv[i], f);
                        continue;
                }
                /* Single quotes keep everything literal, except a single
                 * quote itself, which closes, escapes and reopens. */
                fputc('\'', f);
                for (const char *p = argv[i]; *p; p++)
                        if (*p == '\'')
                                fputs("'\\''", f);
                        else
                                fputc(*p, f);
                fputc('\'', f);
        }
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(buf) ?: strdup("");
}

static int json_add_string(json_object *o, const char *key, const char *value) {
        json_object *v = json_object_new_string(strempty(value));

        if (!v)
                return -ENOMEM;
        return json_object_object_add(o, key, v) < 0 ? -ENOMEM : 0;
}

static int json_add_uint64(json_object *o, const char *key, uint64_t value) {
        json_object *v = json_object_new_uint64(value);

        if (!v)
                return -ENOMEM;
        return json_object_object_add(o, key, v) < 0 ? -ENOMEM : 0;
}

static int json_add_int64(json_object *o, const char *key, int64_t value) {
        json_object *v = json_object_new_int64(value);

        if (!v)
                return -ENOMEM;
        return json_object_object_add(o, key, v) < 0 ? -ENOMEM : 0;
}

int format_pod_port(const PodPortInfo *port, char **ret) {
        bool v6 = strchr(port->host_ip, ':');

        /* As podman shows them: host address:port->pod port/protocol. */
        return asprintf(ret, "%s%s%s:%u->%u/%s", v6 ? "[" : "", isempty(port->host_ip) ? "0.0.0.0" : port->host_ip,
                        v6 ? "]" : "", port->host_port, port->pod_port, port->protocol) < 0 ? -ENOMEM : 0;
}

static int add_ports_json(json_object *o, const PodInfo *p) {
        _cleanup_json_ json_object *ports = json_object_new_array();

        if (!ports)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_ports; i++) {
                _cleanup_json_ json_object *j = json_object_new_object();

                if (!j || json_add_string(j, "protocol", p->ports[i].protocol) < 0 ||
                    json_add_string(j, "host_ip", p->ports[i].host_ip) < 0 ||
                    json_add_uint64(j, "host_port", p->ports[i].host_port) < 0 ||
                    json_add_uint64(j, "pod_port", p->ports[i].pod_port) < 0 || json_object_array_add(ports, j) < 0)
                        return -ENOMEM;
                TAKE_PTR(j);
        }
        if (json_object_object_add(o, "ports", ports) < 0)
                return -ENOMEM;
        TAKE_PTR(ports);
        return 0;
}

json_object *pod_list_to_json(const PodInfo *pods, size_t n) {
        _cleanup_json_ json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                _cleanup_json_ json_object *o = json_object_new_object();

                if (!o ||
                    json_add_string(o, "id", pods[i].id) < 0 ||
                    json_add_string(o, "name", pods[i].name) < 0 ||
                    json_add_string(o, "state", pods[i].state) < 0 ||
                    json_add_string(o, "machine", pods[i].machine) < 0 ||
                    json_add_uint64(o, "created", pods[i].created_usec) < 0 ||
                    json_add_string(o, "path", pods[i].path) < 0 || add_ports_json(o, &pods[i]) < 0)
                        return NULL;
                if (json_object_array_add(a, o) < 0)
                        return NULL;
                TAKE_PTR(o);
        }
        return TAKE_PTR(a);
}

json_object *pod_info_to_json(const PodInfo *p) {
        _cleanup_json_ json_object *o = json_object_new_object(), *apps = json_object_new_array();

        if (!o || !apps)
                return NULL;
        if (json_add_string(o, "id", p->id) < 0 ||
            json_add_string(o, "name", p->name) < 0 ||
            json_add_string(o, "state", p->state) < 0 ||
            json_add_string(o, "machine", p->machine) < 0 ||
            json_add_string(o, "stage1", p->stage1 ?: "default") < 0 ||
            json_add_string(o, "slice", p->slice) < 0 ||
            json_add_string(o, "unit", p->unit) < 0 ||
            json_add_uint64(o, "leader", p->leader) < 0 ||
            json_add_uint64(o, "created", p->created_usec) < 0 ||
            json_add_uint64(o, "started", p->started_usec) < 0 ||
            json_add_uint64(o, "exited", p->exited_usec) < 0 ||
            json_add_string(o, "path", p->path) < 0)
                return NULL;
        if (p->network_mode && json_add_string(o, "network_mode", p->network_mode) < 0)
                return NULL;
        if (p->hostname && json_add_string(o, "hostname", p->hostname) < 0)
                return NULL;
        {
                _cleanup_json_ json_object *addrs = json_object_new_array();

                if (!addrs)
                        return NULL;
                for (size_t i = 0; i < p->n_addresses; i++) {
                        _cleanup_json_ json_object *j = json_object_new_object();

                        if (!j || json_add_string(j, "network", p->addresses[i].network) < 0 ||
                            json_add_string(j, "ifname", p->addresses[i].ifname) < 0 ||
                            json_add_string(j, "address", p->addresses[i].address) < 0 ||
                            json_object_array_add(addrs, j) < 0)
                                return NULL;
                        TAKE_PTR(j);
                }
                if (json_object_object_add(o, "networks", addrs) < 0)
                        return NULL;
                TAKE_PTR(addrs);
        }
        if (add_ports_json(o, p) < 0)
                return NULL;

        for (size_t i = 0; i < p->n_apps; i++) {
                const AppInfo *a = &p->apps[i];
                _cleanup_json_ json_object *j = json_object_new_object();
                json_object *exec;

                if (!j ||
                    json_add_string(j, "name", a->name) < 0 ||
                    json_add_string(j, "id", a->id) < 0 ||
                    json_add_string(j, "image", a->image) < 0)
                        return NULL;
                exec = json_new_strv(a->exec);
                if (!exec)
                        return NULL;
                if (json_object_object_add(j, "exec", exec) < 0) {
                        json_object_put(exec);
                        return NULL;
                }
                if (json_add_string(j, "unit", a->unit) < 0 ||
                    json_add_string(j, "state", a->state) < 0 ||
                    json_add_string(j, "result", a->result) < 0 ||
                    json_add_int64(j, "status", a->status) < 0)
                        return NULL;
                if (json_object_array_add(apps, j) < 0)
                        return NULL;
                TAKE_PTR(j);
        }
        if (json_object_object_add(o, "apps", apps) < 0)
                return NULL;
        TAKE_PTR(apps);
        return TAKE_PTR(o);
}

/* A caller that is not reaching peapodd at all should hear that, not the
 * bus's wording of it. */
static bool error_means_unreachable(const sd_bus_error *e) {
        return sd_bus_error_has_names(e,
                                      SD_BUS_ERROR_SERVICE_UNKNOWN,
                                      SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                      SD_BUS_ERROR_NO_SERVER,
                                      SD_BUS_ERROR_DISCONNECTED) ||
               (e->name && startswith(e->name, "org.freedesktop.DBus.Error.Spawn.")) ||
               /* Bus activation through systemd failed (masked, failed to
                * start): dbus-daemon passes systemd's error on. peapodd
                * itself never answers with systemd's error names. */
               (e->name && startswith(e->name, "org.freedesktop.systemd1."));
}

int bus_error_to_string(const sd_bus_error *e, int r, char **ret) {
        const char *msg = e && !isempty(e->message) ? e->message : NULL;
        char *s = NULL;
        int k;

        if (!e || !sd_bus_error_is_set(e))
                k = asprintf(&s, "%s", strerror(abs(r ?: EIO)));
        else if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) && msg && strstr(msg, "isconnected"))
                /* The bus answers for a callee that died before it replied
                 * (dbus-daemon: "...recipient disconnected...", dbus-broker:
                 * "Remote peer disconnected"); a timeout is worded otherwise. */
                k = asprintf(&s, "peapodd exited before it answered (journalctl -u peapodd may say why)");
        else if (error_means_unreachable(e))
                k = asprintf(&s, "Cannot reach peapodd (" PEAPOD_BUS_NAME "): %s", msg ?: strerror(abs(r ?: EIO)));
        else if (sd_bus_error_has_names(e, SD_BUS_ERROR_ACCESS_DENIED,
                                        SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)) {
                /* dbus-daemon's own refusal names matched rules and message
                 * fields, which helps nobody who just ran a command. */
                if (!msg || startswith(msg, "Rejected send message"))
                        msg = "the bus policy does not allow this call for this user";
                /* Changing pods, images and trust is root's, or what a
                 * polkit rule grants (peapodd's message names the action). */
                k = asprintf(&s, "Permission denied: %s%s", startswith(msg, "Access denied: ") ?: msg,
                             geteuid() != 0 ? " (run it as root, e.g. with sudo, or ask for a polkit rule that grants it: see peapodd(8))" : "");
        } else if (msg)
                k = asprintf(&s, "%s", msg);
        else
                k = asprintf(&s, "%s", peapod_bus_error_text(e->name) ?: strerror(abs(r ?: EIO)));
        if (k < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int cli_parse_format(const char *s, const char *table_name, OutputFormat *ret) {
        if (streq(s, table_name))
                *ret = OUTPUT_TABLE;
        else if (streq(s, "json"))
                *ret = OUTPUT_JSON;
        else
                return log_usage_error("Unknown --format='%s': use '%s' or 'json'.", s, table_name);
        return 0;
}

int cli_print_json(json_object *o) {
        const char *s;

        if (!o)
                return log_oom();
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return log_oom();
        puts(s);
        return 0;
}

/* ---- tables ---- */

struct Table {
        size_t n_columns;
        char **cells;      /* row-major, header first */
        size_t n_cells;
};

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
        return NULL;
}

static int table_add_cellsv(Table *t, va_list ap) {
        char **n;

        n = reallocarray(t->cells, t->n_cells + t->n_columns, sizeof(char *));
        if (!n)
                return -ENOMEM;
        t->cells = n;
        for (size_t i = 0; i < t->n_columns; i++) {
                const char *s = va_arg(ap, const char *);

                t->cells[t->n_cells] = strdup(isempty(s) ? "-" : s);
                if (!t->cells[t->n_cells])
                        return -ENOMEM;
                t->n_cells++;
        }
        return 0;
}

Table *table_new(size_t n_columns, ...) {
        _cleanup_(table_freep) Table *t = NULL;
        va_list ap;
        int r;

        t = calloc(1, sizeof(Table));
        if (!t)
                return NULL;
        t->n_columns = n_columns;
        va_start(ap, n_columns);
        r = table_add_cellsv(t, ap);
        va_end(ap);
        if (r < 0)
                return NULL;
        return TAKE_PTR(t);
}

int table_add_row(Table *t, ...) {
        va_list ap;
        int r;

        va_start(ap, t);
        r = table_add_cellsv(t, ap);
        va_end(ap);
        return r;
}

size_t table_rows(const Table *t) {
        return t->n_cells / t->n_columns - 1;
}

int table_print(const Table *t, FILE *f, bool header) {
        _cleanup_free_ size_t *width = calloc(t->n_columns, sizeof(size_t));

        if (!width)
                return -ENOMEM;
        for (size_t i = header ? 0 : t->n_columns; i < t->n_cells; i++) {
                size_t l = strlen(t->cells[i]);
                if (l > width[i % t->n_columns])
                        width[i % t->n_columns] = l;
        }
        for (size_t i = header ? 0 : t->n_columns; i < t->n_cells; i++) {
                size_t c = i % t->n_columns;

                if (c + 1 == t->n_columns)
                        fprintf(f, "%s\n", t->cells[i]);
                else
                        fprintf(f, "%-*s ", (int) width[c], t->cells[i]);
        }
        return 0;
}
