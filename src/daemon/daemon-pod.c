/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "string-util.h"
#include "strv.h"
#include "time-util.h"

const char *pod_object_path_into(const Pod *p, char buf[static POD_OBJECT_PATH_MAX]) {
        memcpy(stpcpy(buf, PEAPOD_POD_PATH_PREFIX "/"), p->id, sizeof(p->id));
        return buf;
}

int pod_object_path(const Pod *p, char **ret) {
        char buf[POD_OBJECT_PATH_MAX];

        *ret = strdup(pod_object_path_into(p, buf));
        return *ret ? 0 : -ENOMEM;
}

int pod_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        Daemon *d = userdata;
        const char *id = startswith(path, PEAPOD_POD_PATH_PREFIX "/");
        Pod *p;

        if (!id || !id_is_valid(id))
                return 0;
        p = daemon_pod_by_id(d, id);
        if (!p)
                return 0;
        *found = p;
        return 1;
}

int pod_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Daemon *d = userdata;
        char **l = calloc(d->n_pods + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_pods; i++)
                if (pod_object_path(d->pods[i], &l[i]) < 0) {
                        for (size_t k = 0; k < i; k++)
                                free(l[k]);
                        free(l);
                        return -ENOMEM;
                }
        *nodes = l;
        return 0;
}

/* Handlers get the pod (from pod_object_find); the daemon is the userdata of
 * the fallback vtable's slot that is being dispatched. */
static Daemon *daemon_of(sd_bus_message *m) {
        return sd_bus_slot_get_userdata(sd_bus_get_current_slot(sd_bus_message_get_bus(m)));
}

static int property_get_id(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return sd_bus_message_append(reply, "s", p->id);
}

static int property_get_name(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return sd_bus_message_append(reply, "s", p->name);
}

static int property_get_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return sd_bus_message_append(reply, "s", pod_state_to_string(p->state));
}

static int property_get_unit(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *slice = NULL, *scope = NULL;
        Pod *p = userdata;
        int r;

        r = pod_unit_names(p, &slice, &scope);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "s", streq(property, "Slice") ? slice : scope);
}

static int property_get_leader(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return sd_bus_message_append(reply, "u", (uint32_t) (p->state == POD_RUNNING ? p->leader : 0));
}

static int property_get_apps(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sssassssi)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_apps; i++) {
                App *a = &p->apps[i];
                _cleanup_free_ char *unit = NULL;

                r = app_unit_name(p->name, a->name, &unit);
                if (r < 0)
                        return r;
                r = sd_bus_message_open_container(reply, 'r', "sssassssi");
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "sss", a->name, a->id, a->image);
                if (r < 0)
                        return r;
                r = sd_bus_message_append_strv(reply, a->exec);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "sssi", unit, app_state_to_string(a->state),
                                          app_result_to_string(a->result), (int32_t) a->status);
                if (r < 0)
                        return r;
                r = sd_bus_message_close_container(reply);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_stage1(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return sd_bus_message_append(reply, "s", pod_stage1(p));
}

static int bus_property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", *(bool *) userdata);
}

/* (network, interface in the pod, address/prefix), one per address. */
static int property_get_networks(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->net.n_addresses; i++) {
                r = sd_bus_message_append(reply, "(sss)", p->net.addresses[i].network, p->net.addresses[i].ifname,
                                          p->net.addresses[i].address);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_network_mode(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return sd_bus_message_append(reply, "s", pod_network_mode_to_string(p->net.mode));
}

static int property_get_ports(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ssqq)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->net.n_ports; i++) {
                r = sd_bus_message_append(reply, "(ssqq)", p->net.ports[i].protocol, strempty(p->net.ports[i].host_ip),
                                          p->net.ports[i].host_port, p->net.ports[i].pod_port);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_hostname(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return sd_bus_message_append(reply, "s", p->net.hostname ?: p->name);
}

static int property_get_annotations(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        return bus_append_annotations(reply, p->annotations);
}

static int property_get_app_annotations(sd_bus *bus, const char *path, const char *interface, const char *property,
                                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Pod *p = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sa{ss}}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_apps; i++) {
                r = sd_bus_message_open_container(reply, 'e', "sa{ss}");
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "s", p->apps[i].id);
                if (r < 0)
                        return r;
                r = bus_append_annotations(reply, p->apps[i].annotations);
                if (r < 0)
                        return r;
                r = sd_bus_message_close_container(reply);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int method_start(sd_bus_message *m, void *userdata, sd_bus_error *error);
static int method_stop(sd_bus_message *m, void *userdata, sd_bus_error *error);
static int method_remove(sd_bus_message *m, void *userdata, sd_bus_error *error);

const sd_bus_vtable pod_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", property_get_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MachineName", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Slice", "s", property_get_unit, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Unit", "s", property_get_unit, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Leader", "u", property_get_leader, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CreatedTimestamp", "t", NULL, offsetof(Pod, created_usec), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StartedTimestamp", "t", NULL, offsetof(Pod, started_usec), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExitedTimestamp", "t", NULL, offsetof(Pod, exited_usec), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Apps", "a(sssassssi)", property_get_apps, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NetworkMode", "s", property_get_network_mode, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Networks", "a(sss)", property_get_networks, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Ports", "a(ssqq)", property_get_ports, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Hostname", "s", property_get_hostname, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("Start", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Stop", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Remove", SD_BUS_ARGS("t", flags), SD_BUS_NO_RESULT, method_remove,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("Stage1", "s", property_get_stage1, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StopWhenAppsExit", "b", bus_property_get_bool, offsetof(Pod, stop_when_apps_exit),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("CPUAccounting", "b", bus_property_get_bool, offsetof(Pod, cpu_accounting),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Annotations", "a{ss}", property_get_annotations, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AppAnnotations", "a{sa{ss}}", property_get_app_annotations, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("AddApp", SD_BUS_ARGS("s", name, "s", image, "a(sv)", properties, "t", flags),
                                SD_BUS_RESULT("s", name, "s", id), bus_pod_method_add_app, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartApp", SD_BUS_ARGS("s", app), SD_BUS_NO_RESULT, bus_pod_method_start_app,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopApp", SD_BUS_ARGS("s", app), SD_BUS_NO_RESULT, bus_pod_method_stop_app,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveApp", SD_BUS_ARGS("s", app, "t", flags), SD_BUS_NO_RESULT,
                                bus_pod_method_remove_app, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Exec",
                                SD_BUS_ARGS("s", app, "as", command, "a(sv)", options, "h", stdin_fd, "h", stdout_fd,
                                            "h", stderr_fd, "t", flags),
                                SD_BUS_RESULT("s", id), bus_pod_method_exec, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("ExecFinished", SD_BUS_ARGS("s", id, "s", result, "i", status), 0),
        SD_BUS_METHOD_WITH_ARGS("GetApp", SD_BUS_ARGS("s", app), SD_BUS_RESULT("a{sv}", properties),
                                bus_pod_method_get_app, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Kill", SD_BUS_ARGS("s", app, "i", signal), SD_BUS_NO_RESULT, bus_pod_method_kill,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetAppResources", SD_BUS_ARGS("s", app, "a(sv)", resources, "t", flags),
                                SD_BUS_NO_RESULT, bus_pod_method_set_app_resources, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("KillExec", SD_BUS_ARGS("s", id, "i", signal), SD_BUS_NO_RESULT,
                                bus_pod_method_kill_exec, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AttachApp", SD_BUS_ARGS("s", app, "t", flags), SD_BUS_RESULT("h", stdin_fd),
                                bus_pod_method_attach_app, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static int method_start(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_pod_start(daemon_of(m), userdata, NULL, m, error);
}

static int method_stop(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return bus_pod_stop(daemon_of(m), userdata, m, error);
}

static int method_remove(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        uint64_t flags;
        int r;

        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        return bus_pod_remove(daemon_of(m), userdata, flags, m, error);
}

/* FNV-1a over what a property getter returns: a change of Apps or Networks
 * is seen without keeping a copy of them. Strings are hashed with their
 * NUL, so that ("ab", "c") and ("a", "bc") differ.
 *
 * Eight bytes per step rather than one: every pod is hashed after many of
 * the loop's events (daemon_publish_pod_changes()), and the byte-wise loop
 * was most of that cost. Each step (xor a word, multiply by an odd
 * constant) is a bijection of the state for a given word, so two inputs of
 * the same length that differ in one word always hash apart, as byte-wise
 * FNV-1a does for one byte; a change of length changes the words hashed
 * (the string's NUL, the counts hashed before arrays). */
static uint64_t hash_bytes(uint64_t h, const void *data, size_t size) {
        const uint8_t *b = data;

        for (; size >= sizeof(uint64_t); b += sizeof(uint64_t), size -= sizeof(uint64_t)) {
                uint64_t w;

                memcpy(&w, b, sizeof(w));
                h ^= w;
                h *= UINT64_C(0x100000001b3);
        }
        if (size > 0) {
                uint64_t w = 0;

                memcpy(&w, b, size);
                h ^= w;
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

static uint64_t hash_string(uint64_t h, const char *s) {
        return hash_bytes(h, strempty(s), strlen(strempty(s)) + 1);
}

#define HASH_INIT UINT64_C(0xcbf29ce484222325)

/* What of the apps does not change while their pod keeps its generation
 * (pod.json's save count, pod_save()): which apps there are, their names,
 * ids, images and commands. Adding or removing an app saves the pod. */
static uint64_t pod_apps_identity_hash(const Pod *p) {
        uint64_t h = hash_bytes(HASH_INIT, &p->n_apps, sizeof(p->n_apps));

        /* The unit name is made of the pod's and the app's names. */
        for (size_t i = 0; i < p->n_apps; i++) {
                const App *a = &p->apps[i];

                h = hash_string(h, a->name);
                h = hash_string(h, a->id);
                h = hash_string(h, a->image);
                h = hash_bytes(h, &(size_t) { strv_length(a->exec) }, sizeof(size_t));
                for (char **e = a->exec; e && *e; e++)
                        h = hash_string(h, *e);
        }
        return h;
}

/* The rest of Apps, which changes without a save at times (an app's state
 * from its unit's signals is recorded after it is applied): one word per
 * app, no string. */
static uint64_t pod_apps_hash(const Pod *p, uint64_t identity) {
        uint64_t h = identity;

        for (size_t i = 0; i < p->n_apps; i++) {
                const App *a = &p->apps[i];
                uint64_t w = (uint64_t) (uint8_t) a->state | (uint64_t) (uint8_t) a->result << 8 |
                             (uint64_t) (uint32_t) a->status << 32;

                h = hash_bytes(h, &w, sizeof(w));
        }
        return h;
}

static uint64_t pod_networks_hash(const Pod *p) {
        uint64_t h = hash_bytes(HASH_INIT, &p->net.n_addresses, sizeof(p->net.n_addresses));

        for (size_t i = 0; i < p->net.n_addresses; i++) {
                h = hash_string(h, p->net.addresses[i].network);
                h = hash_string(h, p->net.addresses[i].ifname);
                h = hash_string(h, p->net.addresses[i].address);
        }
        return h;
}

/* pub from p; the string hashes are taken from was when p has not been
 * saved since they were made (was NULL: made now). With 1000 pods the
 * strings were most of the compares' cost (perf: strlen()). */
static void pod_published_make(PodPublished *pub, const PodPublished *was, const Pod *p) {
        uint64_t identity, networks;

        if (was && was->hashed && was->hashed_generation == p->generation) {
                identity = was->apps_identity_hash;
                networks = was->networks_hash;
        } else {
                identity = pod_apps_identity_hash(p);
                networks = pod_networks_hash(p);
        }
        *pub = (PodPublished) {
                .state = p->state,
                .leader = p->state == POD_RUNNING ? (uint32_t) p->leader : 0, /* as property_get_leader() */
                .started_usec = p->started_usec,
                .exited_usec = p->exited_usec,
                .apps_hash = pod_apps_hash(p, identity),
                .networks_hash = networks,
                .hashed = true,
                .hashed_generation = p->generation,
                .apps_identity_hash = identity,
        };
}

void pod_published_init(PodPublished *pub, const Pod *p) {
        pod_published_make(pub, NULL, p);
}

void daemon_event_touched(Daemon *d, Pod *p) {
        uint64_t iteration;

        /* Counted once per event (a read's filter and its handler may both
         * say so); unknown, not counted: the publish compares all. */
        if (sd_event_get_iteration(d->event, &iteration) >= 0 && iteration != d->touched_iteration) {
                d->touched_iteration = iteration;
                d->publish_signals++;
        }
        if (p)
                for (size_t i = 0; i < d->n_pods; i++)
                        if (d->pods[i] == p) {
                                d->published[i].dirty = true;
                                break;
                        }
}

static int on_incoming(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *i = sd_bus_message_get_interface(m), *member = sd_bus_message_get_member(m);

        if (!sd_bus_message_is_method_call(m, NULL, NULL) || !i || !member)
                return 0;
        if ((streq(i, "org.freedesktop.DBus.Properties") && (streq(member, "Get") || streq(member, "GetAll"))) ||
            streq(i, "org.freedesktop.DBus.Introspectable") || streq(i, "org.freedesktop.DBus.Peer") ||
            (streq(i, "org.freedesktop.DBus.ObjectManager") && streq(member, "GetManagedObjects")))
                daemon_event_touched(userdata, NULL);
        return 0; /* dispatched as usual */
}

int daemon_watch_reads(Daemon *d) {
        return sd_bus_add_filter(d->bus, NULL, on_incoming, d);
}

/* Runs after every event the loop dispatches (a post source): whatever
 * changed a pod (a method, a signal from systemd, a stop that ended, a
 * restart's reconciliation), the change is announced here, once, with the
 * properties that really changed. The handlers announce nothing.
 *
 * Comparing every pod costs O(pods) per event, and with 1000 pods that was
 * most of peapodd's CPU (perf: pod_published_init() and its strlen()s),
 * since every change signal of every peapod unit is an event. So the
 * common case is cut short: each iteration of the loop dispatches at most
 * one event (sd_event_dispatch(3)) and sd-bus processes one message per
 * dispatch (sd_bus_process(3)); when every event since the last publish
 * was a change signal that marked the one pod it touched, or a read
 * (ListPods, a property's Get, GetAll, daemon_watch_reads()), only the
 * marked pods are compared. Any other event (another method, a reply, a
 * job's end, a worker's, a timer) owes a compare of them all.
 *
 * That compare waits until the loop has nothing else to do (an idle
 * source), at most PUBLISH_ALL_DELAY_USEC: during a churn of 50 pods
 * beside 1000 others, one after every such event made 1750 compares of
 * all pods (uprobes), 17% of the loop's time; a backlog of events now
 * owes one. Marked pods are still compared at once. */
#define PUBLISH_ALL_DELAY_USEC (50 * USEC_PER_MSEC)

static void publish_compare(Daemon *d, bool all) {
        for (size_t i = 0; i < d->n_pods; i++) {
                PodPublished now, *was = &d->published[i];
                const char *changed[8];
                _cleanup_free_ char *path = NULL;
                size_t n = 0;

                if (!all && !was->dirty)
                        continue;
                pod_published_make(&now, was, d->pods[i]);
                if (now.state != was->state)
                        changed[n++] = "State";
                if (now.leader != was->leader)
                        changed[n++] = "Leader";
                if (now.started_usec != was->started_usec)
                        changed[n++] = "StartedTimestamp";
                if (now.exited_usec != was->exited_usec)
                        changed[n++] = "ExitedTimestamp";
                if (now.apps_hash != was->apps_hash) {
                        changed[n++] = "Apps";
                        /* Constant per app, but apps come and go. */
                        changed[n++] = "AppAnnotations";
                }
                if (now.networks_hash != was->networks_hash)
                        changed[n++] = "Networks";
                if (n == 0) {
                        /* Nothing to say; what was hashed is kept for the
                         * next compare. */
                        was->dirty = false;
                        was->hashed = now.hashed;
                        was->hashed_generation = now.hashed_generation;
                        was->apps_identity_hash = now.apps_identity_hash;
                        continue;
                }
                changed[n] = NULL;
                if (pod_object_path(d->pods[i], &path) < 0) {
                        was->dirty = true; /* out of memory: tried again after the next event */
                        continue;
                }
                *was = now;
                (void) sd_bus_emit_properties_changed_strv(d->bus, path, PEAPOD_POD_INTERFACE, (char **) changed);
        }
}

static int publish_all(sd_event_source *s, void *userdata) {
        Daemon *d = userdata;

        /* This event changes nothing: its own publish owes no compare. */
        daemon_event_touched(d, NULL);
        if (d->publish_all_pending) {
                d->publish_all_pending = false;
                publish_compare(d, true);
        }
        return 0;
}

int daemon_publish_pod_changes(sd_event_source *s, void *userdata) {
        Daemon *d = userdata;
        uint64_t iteration = 0, now = 0;
        bool all;

        /* Unknown iteration: compare all. */
        all = sd_event_get_iteration(d->event, &iteration) < 0 ||
              iteration - d->publish_iteration - 1 != d->publish_signals;
        d->publish_iteration = iteration;
        d->publish_signals = 0;

        if (all || d->publish_all_pending)
                (void) sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        if (all && !d->publish_all_pending &&
            sd_event_source_set_enabled(d->publish_all_source, SD_EVENT_ONESHOT) >= 0) {
                d->publish_all_pending = true;
                d->publish_all_since = now;
        }
        /* Owed: left to the idle source, but a loop never idle for that
         * long compares here. */
        if (d->publish_all_pending) {
                all = now >= d->publish_all_since + PUBLISH_ALL_DELAY_USEC;
                if (all) {
                        d->publish_all_pending = false;
                        (void) sd_event_source_set_enabled(d->publish_all_source, SD_EVENT_OFF);
                }
        }
        publish_compare(d, all);
        return 0;
}

int daemon_watch_pod_changes(Daemon *d) {
        int r;

        r = sd_event_add_post(d->event, NULL, daemon_publish_pod_changes, d);
        if (r < 0)
                return r;
        r = sd_event_add_defer(d->event, &d->publish_all_source, publish_all, d);
        if (r < 0)
                return r;
        if ((r = sd_event_source_set_priority(d->publish_all_source, SD_EVENT_PRIORITY_IDLE)) < 0 ||
            (r = sd_event_source_set_enabled(d->publish_all_source, SD_EVENT_OFF)) < 0 ||
            (r = sd_event_source_set_floating(d->publish_all_source, true)) < 0)
                return r;
        /* The loop owns it now (floating takes a reference of its own);
         * ours is dropped and the pointer kept, valid as long as the loop,
         * only to turn the source on. */
        (void) sd_event_source_unref(d->publish_all_source);
        return 0;
}
