/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats
 * from systemd's accounting of the units peapod runs things in: an app's
 * service (a container) and a pod's slice (a sandbox, its apps and its
 * infra together). One chain of asynchronous bus calls per request: which
 * pods (ListPods, unless one is named), each pod's Slice and Apps (their
 * units), then each unit's CPUUsageNSec, MemoryCurrent and TasksCurrent
 * from systemd, read-only calls that need no privilege. The labels,
 * annotations and metadata come with the pod's properties (its and its
 * apps' Annotations, cri-pod.h), so a label selector is applied before
 * any unit is read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peapod-bus.h"
#include "cri.h"
#include "cri-pod.h"
#include "log.h"
#include "string-util.h"
#include "strv.h"

#define SYSTEMD_BUS_NAME "org.freedesktop.systemd1"
#define SYSTEMD_UNIT_PATH "/org/freedesktop/systemd1/unit"

typedef struct UnitUsage {
        bool have;
        uint64_t cpu_nsec, memory, tasks;       /* UINT64_MAX: not known */
} UnitUsage;

typedef struct StatsApp {
        char container_id[65];
        char *name;             /* its app's (the overlay's directory) */
        char *unit;
        char **annotations;     /* borrowed from its pod's info */
        UnitUsage usage;
} StatsApp;

typedef struct StatsPod {
        char *id;
        char *slice;
        bool found;             /* its properties were read, and it is wanted */
        CriPod info;            /* its and its apps' annotations */
        UnitUsage usage;
        StatsApp *apps;
        size_t n_apps;
} StatsPod;

typedef enum StatsKind {
        STATS_CONTAINER,
        STATS_CONTAINER_LIST,
        STATS_POD,
        STATS_POD_LIST,
} StatsKind;

typedef struct CriStats {
        StatsKind kind;
        char *filter_pod;       /* a pod id, or NULL */
        char *filter_container; /* a container id, or NULL */
        bool filter_nothing;    /* filters that contradict each other */
        char **selector;        /* label selector pairs (of pods or of containers, after kind) */
        StatsPod *pods;
        size_t n_pods;
        size_t next_pod;        /* whose properties come next */
        size_t unit_pod, unit_app;      /* the unit read next: unit_app == SIZE_MAX is the pod's slice */
        int64_t now_nsec;
} CriStats;

static void stats_free(void *p) {
        CriStats *s = p;

        if (!s)
                return;
        for (size_t i = 0; i < s->n_pods; i++) {
                free(s->pods[i].id);
                free(s->pods[i].slice);
                for (size_t k = 0; k < s->pods[i].n_apps; k++) {
                        free(s->pods[i].apps[k].unit);
                        free(s->pods[i].apps[k].name);
                }
                free(s->pods[i].apps);
                cri_pod_done(&s->pods[i].info);
        }
        free(s->pods);
        free(s->filter_pod);
        free(s->filter_container);
        strv_free(s->selector);
        free(s);
}

static bool is_pod_id(const char *id) {
        if (!id || strlen(id) != 32)
                return false;
        for (size_t i = 0; i < 32; i++)
                if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
                        return false;
        return true;
}

static int stats_add_pod(CriStats *s, const char *id) {
        StatsPod *p;

        p = reallocarray(s->pods, s->n_pods + 1, sizeof(StatsPod));
        if (!p)
                return -ENOMEM;
        s->pods = p;
        s->pods[s->n_pods] = (StatsPod) {};
        s->pods[s->n_pods].id = strdup(id);
        if (!s->pods[s->n_pods].id)
                return -ENOMEM;
        s->n_pods++;
        return 0;
}

/* ---- the answer ---- */

typedef struct StatsProto {
        Runtime__V1__CpuUsage cpu;
        Runtime__V1__MemoryUsage memory;
        Runtime__V1__ProcessUsage process;
        Runtime__V1__UInt64Value cpu_ns, working_set, usage, tasks;
} StatsProto;

static void usage_to_proto(const UnitUsage *u, int64_t now, StatsProto *p, Runtime__V1__CpuUsage **ret_cpu,
                           Runtime__V1__MemoryUsage **ret_memory, Runtime__V1__ProcessUsage **ret_process) {
        runtime__v1__cpu_usage__init(&p->cpu);
        runtime__v1__memory_usage__init(&p->memory);
        runtime__v1__process_usage__init(&p->process);
        runtime__v1__uint64_value__init(&p->cpu_ns);
        runtime__v1__uint64_value__init(&p->working_set);
        runtime__v1__uint64_value__init(&p->usage);
        runtime__v1__uint64_value__init(&p->tasks);
        *ret_cpu = NULL;
        *ret_memory = NULL;
        if (ret_process)
                *ret_process = NULL;
        if (!u->have)
                return;
        if (u->cpu_nsec != UINT64_MAX) {
                p->cpu.timestamp = now;
                p->cpu_ns.value = u->cpu_nsec;
                p->cpu.usage_core_nano_seconds = &p->cpu_ns;
                *ret_cpu = &p->cpu;
        }
        if (u->memory != UINT64_MAX) {
                /* systemd gives the cgroup's memory.current; the working
                 * set (less inactive file pages) is not among its
                 * properties, so it is the same figure. */
                p->memory.timestamp = now;
                p->working_set.value = u->memory;
                p->usage.value = u->memory;
                p->memory.working_set_bytes = &p->working_set;
                p->memory.usage_bytes = &p->usage;
                *ret_memory = &p->memory;
        }
        if (ret_process && u->tasks != UINT64_MAX) {
                p->process.timestamp = now;
                p->tasks.value = u->tasks;
                p->process.process_count = &p->tasks;
                *ret_process = &p->process;
        }
}

typedef struct ContainerProto {
        Runtime__V1__ContainerStats stats;
        Runtime__V1__ContainerAttributes attributes;
        Runtime__V1__FilesystemUsage writable;
        Runtime__V1__FilesystemIdentifier fs_id;
        Runtime__V1__UInt64Value used, inodes;
        StatsProto usage;
} ContainerProto;

/* The writable layer's usage is what the last walk of the app's overlay
 * upper dir found (cri-disk.c: off the loop, at most every 10 s); 0 until
 * the first one is done. */
static int container_to_proto(Cri *cri, CriArena *arena, const CriStats *s, const StatsApp *a, ContainerProto *c) {
        uint64_t bytes = 0, inodes = 0;
        void **labels, **annotations;
        size_t n_labels, n_annotations;
        int r;

        runtime__v1__container_stats__init(&c->stats);
        runtime__v1__container_attributes__init(&c->attributes);
        runtime__v1__filesystem_usage__init(&c->writable);
        runtime__v1__filesystem_identifier__init(&c->fs_id);
        runtime__v1__uint64_value__init(&c->used);
        runtime__v1__uint64_value__init(&c->inodes);
        c->attributes.id = (char *) a->container_id;
        c->attributes.metadata = cri_container_metadata(arena, a->annotations);
        if (!c->attributes.metadata)
                return -ENOMEM;
        r = cri_pairs_to_map(arena, a->annotations, CRI_PREFIX_LABEL,
                             &runtime__v1__container_attributes__labels_entry__descriptor, &labels, &n_labels);
        if (r >= 0)
                r = cri_pairs_to_map(arena, a->annotations, CRI_PREFIX_ANNOTATION,
                                     &runtime__v1__container_attributes__annotations_entry__descriptor, &annotations,
                                     &n_annotations);
        if (r < 0)
                return r;
        c->attributes.n_labels = n_labels;
        c->attributes.labels = (Runtime__V1__ContainerAttributes__LabelsEntry **) labels;
        c->attributes.n_annotations = n_annotations;
        c->attributes.annotations = (Runtime__V1__ContainerAttributes__AnnotationsEntry **) annotations;
        c->stats.attributes = &c->attributes;
        usage_to_proto(&a->usage, s->now_nsec, &c->usage, &c->stats.cpu, &c->stats.memory, NULL);
        c->writable.timestamp = s->now_nsec;
        c->fs_id.mountpoint = (char *) PEAPOD_STATE_DIR "/pods";
        c->writable.fs_id = &c->fs_id;
        if (cri_disk_usage(cri, a->container_id, a->name, &bytes, &inodes) > 0) {
                c->used.value = bytes;
                c->inodes.value = inodes;
        }
        c->writable.used_bytes = &c->used;
        c->writable.inodes_used = &c->inodes;
        c->stats.writable_layer = &c->writable;
        return 0;
}

static int pod_attributes(CriArena *arena, const StatsPod *p, Runtime__V1__PodSandboxAttributes *attrs) {
        void **labels, **annotations;
        size_t n_labels, n_annotations;
        int r;

        runtime__v1__pod_sandbox_attributes__init(attrs);
        attrs->id = p->id;
        attrs->metadata = cri_sandbox_metadata(arena, &p->info);
        if (!attrs->metadata)
                return -ENOMEM;
        r = cri_pairs_to_map(arena, p->info.annotations, CRI_PREFIX_LABEL,
                             &runtime__v1__pod_sandbox_attributes__labels_entry__descriptor, &labels, &n_labels);
        if (r >= 0)
                r = cri_pairs_to_map(arena, p->info.annotations, CRI_PREFIX_ANNOTATION,
                                     &runtime__v1__pod_sandbox_attributes__annotations_entry__descriptor, &annotations,
                                     &n_annotations);
        if (r < 0)
                return r;
        attrs->n_labels = n_labels;
        attrs->labels = (Runtime__V1__PodSandboxAttributes__LabelsEntry **) labels;
        attrs->n_annotations = n_annotations;
        attrs->annotations = (Runtime__V1__PodSandboxAttributes__AnnotationsEntry **) annotations;
        return 0;
}

static size_t stats_n_apps(const CriStats *s) {
        size_t n = 0;

        for (size_t i = 0; i < s->n_pods; i++)
                n += s->pods[i].n_apps;
        return n;
}

/* PodSandboxStats or ListPodSandboxStats: the pods found, each with its
 * containers' stats (cptrs, in the order of the pods' apps). */
static int stats_answer_pods(CriQuery *q, CriArena *arena, Runtime__V1__ContainerStats **cptrs) {
        CriStats *s = q->data;
        _cleanup_free_ Runtime__V1__PodSandboxStats *pods = NULL, **pptrs = NULL;
        _cleanup_free_ Runtime__V1__PodSandboxAttributes *attrs = NULL;
        _cleanup_free_ Runtime__V1__LinuxPodSandboxStats *linux_stats = NULL;
        _cleanup_free_ StatsProto *usage = NULL;
        size_t m = 0, k = 0;
        int r;

        pods = calloc(s->n_pods ?: 1, sizeof(*pods));
        pptrs = calloc(s->n_pods ?: 1, sizeof(*pptrs));
        attrs = calloc(s->n_pods ?: 1, sizeof(*attrs));
        linux_stats = calloc(s->n_pods ?: 1, sizeof(*linux_stats));
        usage = calloc(s->n_pods ?: 1, sizeof(*usage));
        if (!pods || !pptrs || !attrs || !linux_stats || !usage)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_pods; i++) {
                StatsPod *p = &s->pods[i];

                if (!p->found) {
                        k += p->n_apps;
                        continue;
                }
                runtime__v1__pod_sandbox_stats__init(&pods[m]);
                runtime__v1__linux_pod_sandbox_stats__init(&linux_stats[m]);
                r = pod_attributes(arena, p, &attrs[m]);
                if (r < 0)
                        return r;
                pods[m].attributes = &attrs[m];
                usage_to_proto(&p->usage, s->now_nsec, &usage[m], &linux_stats[m].cpu, &linux_stats[m].memory,
                               &linux_stats[m].process);
                linux_stats[m].n_containers = p->n_apps;
                linux_stats[m].containers = cptrs + k;
                k += p->n_apps;
                pods[m].linux = &linux_stats[m];
                pptrs[m] = &pods[m];
                m++;
        }
        if (s->kind == STATS_POD) {
                Runtime__V1__PodSandboxStatsResponse resp = RUNTIME__V1__POD_SANDBOX_STATS_RESPONSE__INIT;

                if (m != 1)
                        return grpc_call_fail(q->call, GRPC_STATUS_NOT_FOUND, "no such sandbox: %s", s->filter_pod);
                resp.stats = pptrs[0];
                return cri_reply(q->call, &resp.base);
        } else {
                Runtime__V1__ListPodSandboxStatsResponse resp = RUNTIME__V1__LIST_POD_SANDBOX_STATS_RESPONSE__INIT;

                resp.n_stats = m;
                resp.stats = pptrs;
                return cri_reply(q->call, &resp.base);
        }
}

static int stats_answer(CriQuery *q) {
        CriStats *s = q->data;
        _cleanup_(cri_arena_done) CriArena arena = {};
        _cleanup_free_ ContainerProto *containers = NULL;
        _cleanup_free_ Runtime__V1__ContainerStats **cptrs = NULL;
        size_t n = stats_n_apps(s), k = 0;
        struct timespec ts;
        int r;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        s->now_nsec = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
        containers = calloc(n ?: 1, sizeof(ContainerProto));
        cptrs = calloc(n ?: 1, sizeof(*cptrs));
        if (!containers || !cptrs)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_pods; i++)
                for (size_t j = 0; j < s->pods[i].n_apps; j++, k++) {
                        r = container_to_proto(q->cri, &arena, s, &s->pods[i].apps[j], &containers[k]);
                        if (r < 0)
                                return r;
                        cptrs[k] = &containers[k].stats;
                }

        switch (s->kind) {
        case STATS_CONTAINER: {
                Runtime__V1__ContainerStatsResponse resp = RUNTIME__V1__CONTAINER_STATS_RESPONSE__INIT;

                if (n != 1)
                        return grpc_call_fail(q->call, GRPC_STATUS_NOT_FOUND, "no such container: %s", s->filter_container);
                resp.stats = cptrs[0];
                return cri_reply(q->call, &resp.base);
        }
        case STATS_CONTAINER_LIST: {
                Runtime__V1__ListContainerStatsResponse resp = RUNTIME__V1__LIST_CONTAINER_STATS_RESPONSE__INIT;

                resp.n_stats = n;
                resp.stats = cptrs;
                return cri_reply(q->call, &resp.base);
        }
        case STATS_POD:
        case STATS_POD_LIST:
                return stats_answer_pods(q, &arena, cptrs);
        }
        return -EINVAL;
}

/* ---- reading the units' accounting from systemd ---- */

static int stats_next_unit(CriQuery *q);

static int read_unit_usage(sd_bus_message *m, UnitUsage *ret) {
        UnitUsage u = { .have = true, .cpu_nsec = UINT64_MAX, .memory = UINT64_MAX, .tasks = UINT64_MAX };
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name;
                uint64_t *target = NULL;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        break;
                if (streq(name, "CPUUsageNSec"))
                        target = &u.cpu_nsec;
                else if (streq(name, "MemoryCurrent"))
                        target = &u.memory;
                else if (streq(name, "TasksCurrent"))
                        target = &u.tasks;
                if (target)
                        r = sd_bus_message_read(m, "v", "t", target);
                else
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = u;
        return 0;
}

static int stats_on_unit(CriQuery *q, sd_bus_message *m) {
        CriStats *s = q->data;
        StatsPod *p = &s->pods[s->unit_pod];
        UnitUsage *u = s->unit_app == SIZE_MAX ? &p->usage : &p->apps[s->unit_app].usage;

        /* A unit that just went (an app that exited): no figures, not an error. */
        if (!sd_bus_message_is_method_error(m, NULL) && read_unit_usage(m, u) < 0)
                *u = (UnitUsage) {};
        if (s->unit_app == SIZE_MAX)
                s->unit_app = 0;
        else
                s->unit_app++;
        return stats_next_unit(q);
}

static int stats_next_unit(CriQuery *q) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = NULL;
        CriStats *s = q->data;
        const char *unit, *interface;
        sd_bus *bus;
        int r;

        for (;;) {
                StatsPod *p;

                if (s->unit_pod >= s->n_pods)
                        return stats_answer(q);
                p = &s->pods[s->unit_pod];
                if (s->unit_app == SIZE_MAX && (!p->found || !p->slice || (s->kind != STATS_POD && s->kind != STATS_POD_LIST))) {
                        s->unit_app = 0;
                        continue;
                }
                if (s->unit_app != SIZE_MAX && s->unit_app >= p->n_apps) {
                        s->unit_pod++;
                        s->unit_app = SIZE_MAX;
                        continue;
                }
                if (s->unit_app != SIZE_MAX && !p->apps[s->unit_app].unit) {
                        s->unit_app++;
                        continue;
                }
                break;
        }
        if (s->unit_app == SIZE_MAX) {
                unit = s->pods[s->unit_pod].slice;
                interface = "org.freedesktop.systemd1.Slice";
        } else {
                unit = s->pods[s->unit_pod].apps[s->unit_app].unit;
                interface = "org.freedesktop.systemd1.Service";
        }
        r = sd_bus_path_encode(SYSTEMD_UNIT_PATH, unit, &path);
        if (r < 0)
                return r;
        r = cri_bus(q->cri, &bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", interface);
        if (r >= 0)
                r = cri_query_send(q, m, stats_on_unit);
        return r;
}

/* ---- the pods and their apps, from peapodd ---- */

static int stats_next_pod(CriQuery *q);

static char **app_annotations(const CriPod *info, const char *app_id) {
        for (size_t i = 0; i < info->n_apps; i++)
                if (streq_ptr(info->apps[i].id, app_id))
                        return info->apps[i].annotations;
        return NULL;
}

/* Whether the app is among the containers asked for: kubelet's (an app
 * without the CRI's name is none of its containers), of the id asked for,
 * running unless one container is named, its labels matching. */
static bool app_wanted(const CriStats *s, const StatsPod *p, const char *id, const char *state, char **annotations) {
        if (!cri_pairs_get(annotations, CRI_KEY_NAME))
                return false;
        if (s->filter_container && (!startswith(s->filter_container, p->id) || !streq(s->filter_container + 32, id)))
                return false;
        if (s->kind != STATS_CONTAINER && !streq(state, "running"))
                return false;
        return s->kind != STATS_CONTAINER_LIST || cri_selector_match(annotations, s->selector);
}

/* Pod properties: Slice, State, Apps a(sssassssi) (name, id, image, exec,
 * unit, state, result, status). Only running apps have a unit to read.
 * p->info (the same properties as cri-pod.c reads them) is read first. */
static int read_pod(CriStats *s, StatsPod *p, sd_bus_message *m) {
        _cleanup_free_ char *state = NULL;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *v;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        break;
                if (streq(name, "Slice") || streq(name, "State")) {
                        r = sd_bus_message_read(m, "v", "s", &v);
                        if (r >= 0 && !(*(streq(name, "Slice") ? &p->slice : &state) = strdup(v)))
                                r = -ENOMEM;
                } else if (streq(name, "Apps")) {
                        r = sd_bus_message_enter_container(m, 'v', "a(sssassssi)");
                        if (r >= 0)
                                r = sd_bus_message_enter_container(m, 'a', "(sssassssi)");
                        while (r >= 0) {
                                const char *app_name, *id = "", *image, *unit, *app_state, *result;
                                int32_t status;
                                char **annotations;
                                StatsApp *a;

                                r = sd_bus_message_enter_container(m, 'r', "sssassssi");
                                if (r <= 0)
                                        break;
                                r = sd_bus_message_read(m, "sss", &app_name, &id, &image);
                                if (r >= 0)
                                        r = sd_bus_message_skip(m, "as");
                                if (r >= 0)
                                        r = sd_bus_message_read(m, "sssi", &unit, &app_state, &result, &status);
                                if (r >= 0)
                                        r = sd_bus_message_exit_container(m);
                                if (r < 0 || strlen(id) != 32)
                                        break;
                                annotations = app_annotations(&p->info, id);
                                if (!app_wanted(s, p, id, app_state, annotations))
                                        continue;
                                a = reallocarray(p->apps, p->n_apps + 1, sizeof(StatsApp));
                                if (!a) {
                                        r = -ENOMEM;
                                        break;
                                }
                                p->apps = a;
                                a = &p->apps[p->n_apps++];
                                *a = (StatsApp) {};
                                snprintf(a->container_id, sizeof(a->container_id), "%s%s", p->id, id);
                                a->annotations = annotations;
                                if (!(a->name = strdup(app_name)))
                                        r = -ENOMEM;
                                else if (streq(app_state, "running") && !isempty(unit) && !(a->unit = strdup(unit)))
                                        r = -ENOMEM;
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        /* A pod that does not run has no slice to account (it is gone). */
        if (!streq_ptr(state, "running"))
                p->slice = mfree(p->slice);
        p->found = true;
        return 0;
}

static int stats_on_pod(CriQuery *q, sd_bus_message *m) {
        CriStats *s = q->data;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        int r;

        /* A pod removed meanwhile (or never there): left out. So is a pod
         * that is no sandbox (not made by peapod-cri), and one whose labels
         * do not match. */
        if (!e) {
                StatsPod *p = &s->pods[s->next_pod];

                r = cri_pod_read(m, &p->info);
                if (r >= 0)
                        r = sd_bus_message_rewind(m, true);
                if (r >= 0 && cri_pod_is_sandbox(&p->info) &&
                    (s->kind != STATS_POD_LIST || cri_selector_match(p->info.annotations, s->selector)))
                        r = read_pod(s, p, m);
                if (r < 0)
                        return r;
        } else if (!sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_METHOD,
                                           SD_BUS_ERROR_UNKNOWN_INTERFACE))
                return grpc_call_fail(q->call, cri_status_from_bus_error(e), "peapodd: %s", e->message ?: e->name);
        s->next_pod++;
        return stats_next_pod(q);
}

static int stats_next_pod(CriQuery *q) {
        _cleanup_free_ char *path = NULL;
        CriStats *s = q->data;

        if (s->next_pod >= s->n_pods) {
                s->unit_pod = 0;
                s->unit_app = SIZE_MAX;
                return stats_next_unit(q);
        }
        if (asprintf(&path, PEAPOD_POD_PATH_PREFIX "/%s", s->pods[s->next_pod].id) < 0)
                return -ENOMEM;
        return cri_query_call(q, path, "org.freedesktop.DBus.Properties", "GetAll", stats_on_pod, "s",
                              PEAPOD_POD_INTERFACE);
}

static int stats_on_list(CriQuery *q, sd_bus_message *m) {
        CriStats *s = q->data;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        int r;

        if (e)
                return grpc_call_fail(q->call, cri_status_from_bus_error(e), "peapodd: %s", e->message ?: e->name);
        r = sd_bus_message_enter_container(m, 'a', "(ssssto)");
        while (r >= 0) {
                const char *id, *name, *state, *machine, *path;
                uint64_t created;

                r = sd_bus_message_read(m, "(ssssto)", &id, &name, &state, &machine, &created, &path);
                if (r <= 0)
                        break;
                if (!streq(state, "running") || !is_pod_id(id) || (s->filter_pod && !streq(s->filter_pod, id)))
                        continue;
                r = stats_add_pod(s, id);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return stats_next_pod(q);
}

static int stats_start(Cri *cri, GrpcCall *call, CriStats *s) {
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        int r;

        q = cri_query_new(cri, call);
        if (!q) {
                stats_free(s);
                return -ENOMEM;
        }
        q->data = s;
        q->data_free = stats_free;
        if (s->filter_nothing)
                return stats_answer(q);
        if (s->kind == STATS_CONTAINER || s->kind == STATS_POD) {
                r = stats_add_pod(s, s->filter_pod);
                if (r >= 0)
                        r = stats_next_pod(q);
        } else
                r = cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "ListPods", stats_on_list, NULL);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

static CriStats *stats_new(StatsKind kind, const char *pod, const char *container, void **label_selector,
                           size_t n_label_selector) {
        CriStats *s = calloc(1, sizeof(CriStats));

        if (!s)
                return NULL;
        s->kind = kind;
        if ((!isempty(pod) && !(s->filter_pod = strdup(pod))) ||
            (!isempty(container) && !(s->filter_container = strdup(container))) ||
            cri_map_to_pairs(label_selector, n_label_selector, &s->selector) < 0) {
                stats_free(s);
                return NULL;
        }
        return s;
}

int cri_container_stats(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__ContainerStatsRequest *req = (const Runtime__V1__ContainerStatsRequest *) request;
        char pod[33], app[33];
        CriStats *s;

        if (cri_container_id_parse(req->container_id, pod, app) < 0)
                return grpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no such container: %s", strna(req->container_id));
        s = stats_new(STATS_CONTAINER, pod, req->container_id, NULL, 0);
        if (!s)
                return -ENOMEM;
        return stats_start(cri, call, s);
}

int cri_list_container_stats(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__ListContainerStatsRequest *req = (const Runtime__V1__ListContainerStatsRequest *) request;
        const Runtime__V1__ContainerStatsFilter *f = req->filter;
        char pod[33], app[33];
        CriStats *s;

        Runtime__V1__ListContainerStatsResponse none = RUNTIME__V1__LIST_CONTAINER_STATS_RESPONSE__INIT;

        /* Filters that name what cannot exist match nothing. */
        if (f && !isempty(f->id) && cri_container_id_parse(f->id, pod, app) < 0)
                return cri_reply(call, &none.base);
        if (f && !isempty(f->pod_sandbox_id) && !is_pod_id(f->pod_sandbox_id))
                return cri_reply(call, &none.base);
        s = stats_new(STATS_CONTAINER_LIST,
                      f && !isempty(f->id) ? pod : f ? f->pod_sandbox_id : NULL, f ? f->id : NULL,
                      f ? (void **) f->label_selector : NULL, f ? f->n_label_selector : 0);
        if (!s)
                return -ENOMEM;
        /* An id and a different sandbox: nothing. */
        if (f && !isempty(f->id) && !isempty(f->pod_sandbox_id) && !streq(pod, f->pod_sandbox_id))
                s->filter_nothing = true;
        return stats_start(cri, call, s);
}

int cri_pod_sandbox_stats(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__PodSandboxStatsRequest *req = (const Runtime__V1__PodSandboxStatsRequest *) request;
        CriStats *s;

        if (!is_pod_id(req->pod_sandbox_id))
                return grpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no such sandbox: %s", strna(req->pod_sandbox_id));
        s = stats_new(STATS_POD, req->pod_sandbox_id, NULL, NULL, 0);
        if (!s)
                return -ENOMEM;
        return stats_start(cri, call, s);
}

int cri_list_pod_sandbox_stats(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__ListPodSandboxStatsRequest *req = (const Runtime__V1__ListPodSandboxStatsRequest *) request;
        const Runtime__V1__PodSandboxStatsFilter *f = req->filter;
        CriStats *s;

        Runtime__V1__ListPodSandboxStatsResponse none = RUNTIME__V1__LIST_POD_SANDBOX_STATS_RESPONSE__INIT;

        if (f && !isempty(f->id) && !is_pod_id(f->id))
                return cri_reply(call, &none.base);
        s = stats_new(STATS_POD_LIST, f ? f->id : NULL, NULL, f ? (void **) f->label_selector : NULL,
                      f ? f->n_label_selector : 0);
        if (!s)
                return -ENOMEM;
        return stats_start(cri, call, s);
}
