/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "string-util.h"
#include "strv.h"

int cli_bus_open(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        /* Our error names then come back from calls as their errno. */
        (void) peapod_bus_error_map_add();
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "Cannot reach peapodd (" PEAPOD_BUS_NAME "): cannot connect to the system bus: %m");
        /* On a terminal, polkit may ask for a password (through an agent
         * such as pkttyagent or the desktop's) before a call that needs one;
         * in a script it must answer at once, as for systemctl. */
        (void) sd_bus_set_allow_interactive_authorization(bus, isatty(STDIN_FILENO) > 0);
        *ret = TAKE_PTR(bus);
        return 0;
}

int cli_log_bus_error(const sd_bus_error *error, int r) {
        _cleanup_free_ char *s = NULL;
        int e = sd_bus_error_is_set(error) ? sd_bus_error_get_errno(error) : r;

        if (e == 0)
                e = EIO;
        if (bus_error_to_string(error, r, &s) < 0)
                return log_oom();
        return log_error_errno(e, "%s", s);
}

int cli_call(sd_bus *bus, const char *path, const char *interface, const char *member, uint64_t timeout_usec,
             sd_bus_message **ret_reply, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, PEAPOD_BUS_NAME, path, interface, member);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s call: %m", member);
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return log_error_errno(r, "Failed to build %s call: %m", member);
        }
        r = sd_bus_call(bus, m, timeout_usec, &error, &reply);
        if (r < 0)
                return cli_log_bus_error(&error, r);
        if (ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return 0;
}

/* Bounded: a flapping peapodd must not grow this without end. The list
 * matters only for names lost before the call's reply named the peer. */
#define CLI_WATCH_LOST_MAX 64

static int on_peapodd_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        CliWatch *w = userdata;
        const char *name, *old, *new;

        if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || !streq(name, PEAPOD_BUS_NAME) || isempty(old))
                return 0;
        if (streq_ptr(w->peer, old))
                w->gone = true;
        if (strv_contains(w->lost, old) || strv_length(w->lost) >= CLI_WATCH_LOST_MAX)
                return 0;
        return strv_extend(&w->lost, old);
}

int cli_watch_begin(sd_bus *bus, CliWatch *w) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *owner;
        int r;

        *w = (CliWatch) {};
        /* The match is in place (AddMatch is synchronous) before we ask who
         * owns the name and before the caller's call: whoever answers that
         * call is still on the bus now, so its leaving is seen. */
        r = sd_bus_add_match(bus, &w->slot,
                             "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                             "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" PEAPOD_BUS_NAME "'",
                             on_peapodd_owner_changed, w);
        if (r < 0)
                return log_error_errno(r, "Failed to watch peapodd: %m");
        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetNameOwner", NULL, &reply, "s", PEAPOD_BUS_NAME);
        if (r >= 0 && sd_bus_message_read(reply, "s", &owner) >= 0) {
                w->peer = strdup(owner);
                if (!w->peer)
                        return log_oom();
        }
        return 0;
}

int cli_watch_set_peer(CliWatch *w, sd_bus_message *reply) {
        const char *sender = sd_bus_message_get_sender(reply);

        if (!sender || streq_ptr(w->peer, sender))
                return 0;
        free(w->peer);
        w->peer = strdup(sender);
        if (!w->peer)
                return log_oom();
        w->gone = strv_contains(w->lost, sender);
        return 0;
}

bool cli_watch_gone(const CliWatch *w) {
        return w->gone;
}

void cli_watch_done(CliWatch *w) {
        w->slot = sd_bus_slot_unref(w->slot);
        w->peer = mfree(w->peer);
        strv_free(w->lost);
        w->lost = NULL;
        w->gone = false;
}

int cli_wait(sd_bus *bus, CliWatch *w, int (*check)(void *userdata), void *userdata, const char *doing,
             const char *unfinished) {
        int r;

        for (;;) {
                r = check(userdata);
                if (r != 0)
                        return r < 0 ? r : 0;
                if (cli_watch_gone(w))
                        return log_error_errno(ECONNRESET, "peapodd exited while %s; %s.", doing, unfinished);
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return log_error_errno(r, "Lost the connection to the bus while %s: %m", doing);
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        return log_error_errno(r, "Failed to wait while %s: %m", doing);
        }
}

int cli_pod_exit_status(sd_bus *bus, const char *key) {
        _cleanup_(pod_info_done) PodInfo p = {};
        int r;

        r = cli_get_pod_info(bus, key, &p);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p.n_apps; i++) {
                const AppInfo *app = &p.apps[i];

                if (streq_ptr(app->result, "exited") && app->status != 0)
                        return app->status & 0xff;
                if (streq_ptr(app->result, "killed") || streq_ptr(app->result, "dumped"))
                        return 128 + (app->status & 0x7f);
        }
        return 0;
}

void image_rows_free(ImageRow *rows, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(rows[i].id);
                free(rows[i].created);
                free(rows[i].path);
                strv_free(rows[i].names);
        }
        free(rows);
}

int cli_list_images(sd_bus *bus, ImageRow **ret, size_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ImageRow *rows = NULL;
        size_t n = 0;
        int r;

        r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "ListImages", 0, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sastso)");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "sastso")) > 0) {
                const char *id, *created, *path;
                ImageRow *nr = realloc(rows, sizeof(ImageRow) * (n + 1));

                if (!nr) {
                        r = -ENOMEM;
                        break;
                }
                rows = nr;
                memset(&rows[n], 0, sizeof(ImageRow));
                r = sd_bus_message_read(reply, "s", &id);
                if (r >= 0)
                        r = sd_bus_message_read_strv(reply, &rows[n].names);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "tso", &rows[n].size, &created, &path);
                n++;
                if (r < 0)
                        break;
                rows[n - 1].id = strdup(id);
                rows[n - 1].created = strdup(created);
                rows[n - 1].path = strdup(path);
                r = sd_bus_message_exit_container(reply);
        }
        if (r < 0) {
                image_rows_free(rows, n);
                return log_error_errno(r, "Failed to parse ListImages reply: %m");
        }
        *ret = rows;
        *ret_n = n;
        return 0;
}

int cli_get_pod_path(sd_bus *bus, const char *key, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        char *p;
        int r;

        r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "GetPod", 0, &reply, "s", key);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "Failed to parse GetPod reply: %m");
        p = strdup(path);
        if (!p)
                return log_oom();
        *ret = p;
        return 0;
}

static int read_string(sd_bus_message *m, char **ret) {
        const char *s;
        char *c;
        int r;

        r = sd_bus_message_read_basic(m, 's', &s);
        if (r < 0)
                return r;
        c = strdup(s);
        if (!c)
                return -ENOMEM;
        free(*ret);
        *ret = c;
        return 0;
}

static int read_apps(sd_bus_message *m, void *base) {
        PodInfo *p = base;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sssassssi)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', "sssassssi")) > 0) {
                AppInfo *n, *a;

                n = reallocarray(p->apps, p->n_apps + 1, sizeof(AppInfo));
                if (!n)
                        return -ENOMEM;
                p->apps = n;
                a = &p->apps[p->n_apps++];
                *a = (AppInfo) {};

                if ((r = read_string(m, &a->name)) < 0 ||
                    (r = read_string(m, &a->id)) < 0 ||
                    (r = read_string(m, &a->image)) < 0 ||
                    (r = sd_bus_message_read_strv(m, &a->exec)) < 0 ||
                    (r = read_string(m, &a->unit)) < 0 ||
                    (r = read_string(m, &a->state)) < 0 ||
                    (r = read_string(m, &a->result)) < 0 ||
                    (r = sd_bus_message_read_basic(m, 'i', &a->status)) < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_networks(sd_bus_message *m, void *base) {
        PodInfo *p = base;
        const char *net, *ifn, *addr;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(sss)", &net, &ifn, &addr)) > 0) {
                PodAddressInfo *n = reallocarray(p->addresses, p->n_addresses + 1, sizeof(PodAddressInfo));

                if (!n)
                        return -ENOMEM;
                p->addresses = n;
                n[p->n_addresses] = (PodAddressInfo) { .network = strdup(net), .ifname = strdup(ifn), .address = strdup(addr) };
                p->n_addresses++;
                if (!n[p->n_addresses - 1].network || !n[p->n_addresses - 1].ifname || !n[p->n_addresses - 1].address)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_ports(sd_bus_message *m, void *base) {
        PodInfo *p = base;
        const char *proto, *ip;
        uint16_t host_port, pod_port;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(ssqq)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(ssqq)", &proto, &ip, &host_port, &pod_port)) > 0) {
                PodPortInfo *n = reallocarray(p->ports, p->n_ports + 1, sizeof(PodPortInfo));

                if (!n)
                        return -ENOMEM;
                p->ports = n;
                n[p->n_ports++] = (PodPortInfo) { .protocol = strdup(proto), .host_ip = strdup(ip),
                                                  .host_port = host_port, .pod_port = pod_port };
                if (!n[p->n_ports - 1].protocol || !n[p->n_ports - 1].host_ip)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

typedef struct PortsQuery {
        PodInfo *pod;
        size_t *pending;
        int r;
        sd_bus_error error;
} PortsQuery;

static int on_ports_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PortsQuery *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        (*q->pending)--;
        if (e) {
                /* Removed since it was listed: no ports. */
                if (!sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_INTERFACE))
                        q->r = sd_bus_error_copy(&q->error, e);
                return 0;
        }
        q->r = sd_bus_message_enter_container(m, 'v', "a(ssqq)");
        if (q->r >= 0)
                q->r = read_ports(m, q->pod);
        if (q->r < 0)
                q->r = log_error_errno(q->r, "Failed to parse the ports of pod %s: %m", q->pod->name);
        return 0;
}

/* dbus-daemon's default max_replies_per_connection is 128. */
#define PORTS_QUERIES_IN_FLIGHT 64

int cli_get_pods_ports(sd_bus *bus, PodInfo *pods, size_t n) {
        _cleanup_free_ PortsQuery *q = calloc(n ?: 1, sizeof(PortsQuery));
        size_t pending = 0, sent = 0;
        int r = 0;

        if (!q)
                return log_oom();
        /* Asked all at once (a window of them in flight), answered in any
         * order: one round trip for the whole list, not one per pod. */
        while (r >= 0 && (sent < n || pending > 0)) {
                while (sent < n && pending < PORTS_QUERIES_IN_FLIGHT) {
                        q[sent] = (PortsQuery) { .pod = &pods[sent], .pending = &pending };
                        r = sd_bus_call_method_async(bus, NULL, PEAPOD_BUS_NAME, pods[sent].path,
                                                     "org.freedesktop.DBus.Properties", "Get", on_ports_reply,
                                                     &q[sent], "ss", PEAPOD_POD_INTERFACE, "Ports");
                        if (r < 0)
                                break;
                        sent++;
                        pending++;
                }
                if (r < 0)
                        break;
                r = sd_bus_process(bus, NULL);
                if (r == 0)
                        r = sd_bus_wait(bus, UINT64_MAX);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to ask peapodd for the ports of the pods: %m");
        /* The first failure is told (parse errors were, as they came). */
        for (size_t i = 0; i < sent; i++) {
                if (r >= 0 && q[i].r < 0)
                        r = sd_bus_error_is_set(&q[i].error) ? cli_log_bus_error(&q[i].error, q[i].r) : q[i].r;
                sd_bus_error_free(&q[i].error);
        }
        return r < 0 ? r : 0;
}

int cli_read_properties(sd_bus_message *m, const CliBusProperty *props, size_t n_props, void *base) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *contents;
                bool known = false;

                r = sd_bus_message_read_basic(m, 's', &name);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_props && !known; i++) {
                        void *field = (uint8_t *) base + props[i].offset;

                        if (!streq(name, props[i].name) || !streq(contents, props[i].type))
                                continue;
                        known = true;
                        r = sd_bus_message_enter_container(m, 'v', contents);
                        if (r < 0)
                                return r;
                        if (props[i].read)
                                r = props[i].read(m, base);
                        else if (streq(contents, "s"))
                                r = read_string(m, field);
                        else if (streq(contents, "as")) {
                                strv_free(*(char ***) field);
                                *(char ***) field = NULL;
                                r = sd_bus_message_read_strv(m, field);
                        } else
                                r = sd_bus_message_read_basic(m, contents[0], field);
                        if (r < 0)
                                return r;
                        r = sd_bus_message_exit_container(m);
                        if (r < 0)
                                return r;
                }
                if (!known) {
                        r = sd_bus_message_skip(m, "v");
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_pod_properties(sd_bus_message *m, PodInfo *p) {
        static const CliBusProperty props[] = {
                { "Id", "s", offsetof(PodInfo, id) },
                { "Name", "s", offsetof(PodInfo, name) },
                { "State", "s", offsetof(PodInfo, state) },
                { "MachineName", "s", offsetof(PodInfo, machine) },
                { "Stage1", "s", offsetof(PodInfo, stage1) },
                { "Slice", "s", offsetof(PodInfo, slice) },
                { "Unit", "s", offsetof(PodInfo, unit) },
                { "Leader", "u", offsetof(PodInfo, leader) },
                { "CreatedTimestamp", "t", offsetof(PodInfo, created_usec) },
                { "StartedTimestamp", "t", offsetof(PodInfo, started_usec) },
                { "ExitedTimestamp", "t", offsetof(PodInfo, exited_usec) },
                { "Apps", "a(sssassssi)", 0, read_apps },
                { "NetworkMode", "s", offsetof(PodInfo, network_mode) },
                { "Hostname", "s", offsetof(PodInfo, hostname) },
                { "Networks", "a(sss)", 0, read_networks },
                { "Ports", "a(ssqq)", 0, read_ports },
        };

        return cli_read_properties(m, props, ELEMENTSOF(props), p);
}

int cli_get_pod_info(sd_bus *bus, const char *key, PodInfo *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(pod_info_done) PodInfo p = {};
        int r;

        r = cli_get_pod_path(bus, key, &p.path);
        if (r < 0)
                return r;
        r = sd_bus_call_method(bus, PEAPOD_BUS_NAME, p.path, "org.freedesktop.DBus.Properties", "GetAll", &error,
                               &reply, "s", PEAPOD_POD_INTERFACE);
        if (r < 0) {
                /* Removed between the two calls. */
                if (sd_bus_error_has_names(&error, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_INTERFACE))
                        return log_error_errno(ENOENT, "No such pod: %s", key);
                return cli_log_bus_error(&error, r);
        }
        r = read_pod_properties(reply, &p);
        if (r < 0)
                return log_error_errno(r, "Failed to parse the properties of pod %s: %m", key);
        if (!p.id)
                return log_error_errno(EBADMSG, "peapodd did not tell the id of pod %s.", key);
        *ret = p;
        p = (PodInfo) {};
        return 0;
}

int cli_list_pods(sd_bus *bus, PodInfo **ret, size_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        PodInfo *pods = NULL;
        size_t n = 0;
        int r;

        r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "ListPods", 0, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssssto)");
        if (r < 0)
                goto parse_error;
        for (;;) {
                const char *id, *name, *state, *machine, *path;
                uint64_t created;
                PodInfo *np;

                r = sd_bus_message_read(reply, "(ssssto)", &id, &name, &state, &machine, &created, &path);
                if (r < 0)
                        goto parse_error;
                if (r == 0)
                        break;
                np = reallocarray(pods, n + 1, sizeof(PodInfo));
                if (!np) {
                        pod_info_array_free(pods, n);
                        return log_oom();
                }
                pods = np;
                pods[n] = (PodInfo) {
                        .id = strdup(id),
                        .name = strdup(name),
                        .state = strdup(state),
                        .machine = strdup(machine),
                        .path = strdup(path),
                        .created_usec = created,
                };
                n++;
                if (!pods[n - 1].id || !pods[n - 1].name || !pods[n - 1].state || !pods[n - 1].machine ||
                    !pods[n - 1].path) {
                        pod_info_array_free(pods, n);
                        return log_oom();
                }
        }
        *ret = pods;
        *ret_n = n;
        return 0;

parse_error:
        pod_info_array_free(pods, n);
        return log_error_errno(r, "Failed to parse ListPods reply: %m");
}

int cli_getopt_error(int c, char *argv[]) {
        if (c == ':')
                return log_usage_error("Option '%s' needs a value.", argv[optind - 1]);
        return log_usage_error("Unknown option '%s'.", argv[optind - 1]);
}
