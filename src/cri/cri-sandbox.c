/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RuntimeService: pod sandboxes. A sandbox is a pod created without apps
 * that runs until stopped (StopWhenAppsExit false): the pod's infra holds
 * the namespaces, so no pause container is needed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bus-util.h"
#include "cri-pod.h"
#include "log.h"
#include "peapod-bus.h"
#include "string-util.h"
#include "strv.h"

/* StopPod and RemovePod wait for the apps to stop, each within its own
 * stop timeout: kubelet's deadline bounds them, not our usual 5 s. */
#define CRI_STOP_BUS_TIMEOUT_USEC (5ULL * 60ULL * 1000000ULL)
#define POD_NAME_MAX 64

static void sanitize_into(char *dst, size_t size, const char *src) {
        size_t n = 0;

        for (; *src && n + 1 < size; src++)
                dst[n++] = (cri_char_is_alnum(*src) || *src == '.' || *src == '-') ? *src : '-';
        dst[n] = 0;
}

/* k8s-NAMESPACE-NAME-ATTEMPT as a valid pod (machine) name; when longer
 * than a pod name may be, cut with a hash of the whole as suffix, so that
 * two long names that share their start still differ. */
static int sandbox_pod_name(const Runtime__V1__PodSandboxMetadata *md, char **ret) {
        _cleanup_free_ char *full = NULL;
        char clean[512];
        uint32_t h = 2166136261u;

        if (asprintf(&full, "k8s-%s-%s-%" PRIu32, md->namespace_, md->name, md->attempt) < 0)
                return -ENOMEM;
        sanitize_into(clean, sizeof(clean), full);
        if (strlen(clean) <= POD_NAME_MAX) {
                *ret = strdup(clean);
                return *ret ? 0 : -ENOMEM;
        }
        for (const char *c = full; *c; c++)
                h = (h ^ (uint8_t) *c) * 16777619u;
        return asprintf(ret, "%.*s-%08" PRIx32, POD_NAME_MAX - 9, clean, h) < 0 ? -ENOMEM : 0;
}

static const char *namespace_mode_name(Runtime__V1__NamespaceMode m) {
        switch (m) {
        case RUNTIME__V1__NAMESPACE_MODE__POD: return "POD";
        case RUNTIME__V1__NAMESPACE_MODE__CONTAINER: return "CONTAINER";
        case RUNTIME__V1__NAMESPACE_MODE__NODE: return "NODE";
        case RUNTIME__V1__NAMESPACE_MODE__TARGET: return "TARGET";
        default: return "unknown";
        }
}

static bool selinux_is_set(const Runtime__V1__SELinuxOption *o) {
        return o && (!isempty(o->user) || !isempty(o->role) || !isempty(o->type) || !isempty(o->level));
}

/* What a sandbox's config asks that peapod cannot honour: a message, or
 * NULL. Nothing here may be dropped silently when it concerns isolation. */
static const char *sandbox_config_refusal(const Runtime__V1__RunPodSandboxRequest *req, char *buf, size_t size) {
        const Runtime__V1__PodSandboxConfig *c = req->config;
        const Runtime__V1__LinuxPodSandboxConfig *l = c->linux;
        const Runtime__V1__LinuxSandboxSecurityContext *sc = l ? l->security_context : NULL;
        const Runtime__V1__NamespaceOption *ns = sc ? sc->namespace_options : NULL;

        if (!isempty(req->runtime_handler) && !streq(req->runtime_handler, "peapod"))
                return snprintf(buf, size, "unknown runtime handler \"%s\" (peapod-cri serves \"\" and \"peapod\")",
                                req->runtime_handler), buf;
        if (!c->metadata || isempty(c->metadata->name) || isempty(c->metadata->namespace_))
                return "the sandbox config needs metadata with a name and a namespace";
        if (ns) {
                if (ns->network != RUNTIME__V1__NAMESPACE_MODE__POD && ns->network != RUNTIME__V1__NAMESPACE_MODE__NODE)
                        return snprintf(buf, size, "network namespace mode %s is not supported (POD or NODE)",
                                        namespace_mode_name(ns->network)), buf;
                if (ns->pid != RUNTIME__V1__NAMESPACE_MODE__POD && ns->pid != RUNTIME__V1__NAMESPACE_MODE__CONTAINER)
                        return snprintf(buf, size, "PID namespace mode %s is not supported: a pod's apps never share the host's (POD or CONTAINER)",
                                        namespace_mode_name(ns->pid)), buf;
                if (ns->ipc != RUNTIME__V1__NAMESPACE_MODE__POD)
                        return snprintf(buf, size, "IPC namespace mode %s is not supported: a pod's apps share the pod's (POD)",
                                        namespace_mode_name(ns->ipc)), buf;
                if (ns->userns_options && ns->userns_options->mode != RUNTIME__V1__NAMESPACE_MODE__NODE)
                        return "user namespaces for pods are not supported by peapod (hostUsers must be true)";
        }
        if (sc && selinux_is_set(sc->selinux_options))
                return "SELinux options are not supported by peapod";
        for (size_t i = 0; i < c->n_port_mappings; i++) {
                const Runtime__V1__PortMapping *p = c->port_mappings[i];

                if (p->host_port == 0)
                        continue;
                if (p->protocol == RUNTIME__V1__PROTOCOL__SCTP)
                        return "SCTP port mappings are not supported by peapod";
                if (p->host_port < 0 || p->host_port > 65535 || p->container_port <= 0 || p->container_port > 65535)
                        return snprintf(buf, size, "invalid port mapping %" PRIi32 ":%" PRIi32, p->host_port,
                                        p->container_port), buf;
        }
        return NULL;
}

static int sandbox_annotations(const Runtime__V1__RunPodSandboxRequest *req, bool host_network, bool pid_container,
                               char ***ret) {
        const Runtime__V1__PodSandboxConfig *c = req->config;
        _cleanup_strv_free_ char **l = NULL;
        char attempt[16];
        int r;

        snprintf(attempt, sizeof(attempt), "%" PRIu32, c->metadata->attempt);
        if ((r = cri_pairs_add(&l, NULL, CRI_KEY_NAME, c->metadata->name)) < 0 ||
            (r = cri_pairs_add(&l, NULL, CRI_KEY_UID, c->metadata->uid)) < 0 ||
            (r = cri_pairs_add(&l, NULL, CRI_KEY_NAMESPACE, c->metadata->namespace_)) < 0 ||
            (r = cri_pairs_add(&l, NULL, CRI_KEY_ATTEMPT, attempt)) < 0 ||
            (r = cri_pairs_add(&l, NULL, CRI_KEY_LOG_DIRECTORY, c->log_directory)) < 0 ||
            (r = cri_pairs_add(&l, NULL, CRI_KEY_NETWORK, host_network ? "node" : "pod")) < 0 ||
            (r = cri_pairs_add(&l, NULL, CRI_KEY_PID, pid_container ? "container" : "pod")) < 0 ||
            (r = cri_pairs_add(&l, NULL, CRI_KEY_HANDLER, req->runtime_handler)) < 0)
                return r;
        /* kubelet's QoS slice for the pod: peapodd places every pod in a
         * slice of its own (limits per app, UpdateContainerResources), so
         * the parent is only recorded, shown by verbose PodSandboxStatus. */
        /* kubelet's rule, kept for CreateContainer: only a privileged
         * sandbox may hold privileged containers. The sandbox itself runs
         * no app and is the same either way. */
        if (c->linux && c->linux->security_context && c->linux->security_context->privileged &&
            (r = cri_pairs_add(&l, NULL, CRI_KEY_PRIVILEGED, "true")) < 0)
                return r;
        if (c->linux && !isempty(c->linux->cgroup_parent)) {
                r = cri_pairs_add(&l, NULL, CRI_KEY_CGROUP_PARENT, c->linux->cgroup_parent);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->n_labels; i++) {
                r = cri_pairs_add(&l, CRI_PREFIX_LABEL, c->labels[i]->key, c->labels[i]->value);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->n_annotations; i++) {
                r = cri_pairs_add(&l, CRI_PREFIX_ANNOTATION, c->annotations[i]->key, c->annotations[i]->value);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* CreatePod's pod properties for the sandbox. */
static int append_sandbox_properties(sd_bus_message *m, const Runtime__V1__RunPodSandboxRequest *req, bool host_network,
                                     char **annotations) {
        const Runtime__V1__PodSandboxConfig *c = req->config;
        int r;

        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        /* The kubelet reads its containers' CPU time here (ContainerStats):
         * accounted whatever the host's cgroups make it cost. */
        r = sd_bus_message_append(m, "(sv)(sv)", "StopWhenAppsExit", "b", 0, "CPUAccounting", "b", 1);
        if (r < 0)
                return r;
        if (host_network) {
                /* The host's network: its host name and ports are the host's. */
                r = bus_append_property_as(m, "Networks", STRV_MAKE("host"));
                if (r < 0)
                        return r;
        } else {
                if (!isempty(c->hostname)) {
                        r = sd_bus_message_append(m, "(sv)", "Hostname", "s", c->hostname);
                        if (r < 0)
                                return r;
                }
                r = bus_open_array_property(m, "Ports", "(ssqq)");
                for (size_t i = 0; r >= 0 && i < c->n_port_mappings; i++) {
                        const Runtime__V1__PortMapping *p = c->port_mappings[i];

                        /* A container port without a host port is only declared. */
                        if (p->host_port == 0)
                                continue;
                        r = sd_bus_message_append(m, "(ssqq)", p->protocol == RUNTIME__V1__PROTOCOL__UDP ? "udp" : "tcp",
                                                  strempty(p->host_ip), (uint16_t) p->host_port, (uint16_t) p->container_port);
                }
                if (r >= 0)
                        r = bus_close_array_property(m);
                if (r < 0)
                        return r;
        }
        if (c->dns_config && c->dns_config->n_servers > 0) {
                r = bus_append_property_strn(m, "DNS", c->dns_config->servers, c->dns_config->n_servers);
                if (r < 0)
                        return r;
        }
        if (c->dns_config && c->dns_config->n_searches > 0) {
                r = bus_append_property_strn(m, "DNSSearch", c->dns_config->searches, c->dns_config->n_searches);
                if (r < 0)
                        return r;
        }
        /* kubelet's ndots:5 and the like: peapodd checks each word. */
        if (c->dns_config && c->dns_config->n_options > 0) {
                r = bus_append_property_strn(m, "DNSOptions", c->dns_config->options, c->dns_config->n_options);
                if (r < 0)
                        return r;
        }
        /* peapodd takes those of the pod's own namespaces (net.* unless on
         * the host's network, kernel.shm*, msg*, sem, fs.mqueue.*) and
         * refuses any other, naming it: INVALID_ARGUMENT. */
        if (c->linux && c->linux->n_sysctls > 0) {
                r = bus_open_array_property(m, "Sysctls", "{ss}");
                for (size_t i = 0; r >= 0 && i < c->linux->n_sysctls; i++)
                        r = sd_bus_message_append(m, "{ss}", c->linux->sysctls[i]->key, c->linux->sysctls[i]->value);
                if (r >= 0)
                        r = bus_close_array_property(m);
                if (r < 0)
                        return r;
        }
        r = cri_append_annotations_property(m, annotations);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

/* RunPodSandbox's chain: CreatePod, StartPod; a pod that does not start is
 * removed again, so that a refused sandbox leaves nothing. */
typedef struct SandboxRun {
        char *id;
        sd_bus_error error;     /* why StartPod failed, answered after the removal */
} SandboxRun;

static void sandbox_run_free(void *p) {
        SandboxRun *s = p;

        if (!s)
                return;
        free(s->id);
        sd_bus_error_free(&s->error);
        free(s);
}

static int run_on_removed(CriQuery *q, sd_bus_message *m) {
        SandboxRun *s = q->data;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e)
                log_warning("Failed to remove pod %s after its start failed: %s", s->id, e->message ?: e->name);
        return cri_fail_from_bus(q, &s->error);
}

static int run_on_started(CriQuery *q, sd_bus_message *m) {
        Runtime__V1__RunPodSandboxResponse resp = RUNTIME__V1__RUN_POD_SANDBOX_RESPONSE__INIT;
        SandboxRun *s = q->data;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        int r;

        if (e) {
                r = sd_bus_error_copy(&s->error, e);
                if (r < 0)
                        return r;
                return cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "RemovePod", run_on_removed, "st",
                                      s->id, PEAPOD_REMOVE_POD_FORCE);
        }
        resp.pod_sandbox_id = s->id;
        return cri_reply(q->call, &resp.base);
}

static int run_on_created(CriQuery *q, sd_bus_message *m) {
        SandboxRun *s;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *path, *id;
        int r;

        if (e)
                return cri_fail_from_bus(q, e);
        r = sd_bus_message_read(m, "o", &path);
        if (r < 0)
                return r;
        id = strrchr(path, '/');
        if (!id || !cri_hex_id_is_valid(id + 1, CRI_POD_ID_LEN))
                return -EBADMSG;
        s = calloc(1, sizeof(SandboxRun));
        if (!s)
                return -ENOMEM;
        q->data = s;
        q->data_free = sandbox_run_free;
        s->id = strdup(id + 1);
        if (!s->id)
                return -ENOMEM;
        return cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "StartPod", run_on_started, "s", s->id);
}

int cri_run_pod_sandbox(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__RunPodSandboxRequest *req = (const Runtime__V1__RunPodSandboxRequest *) request;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        _cleanup_strv_free_ char **annotations = NULL;
        _cleanup_free_ char *name = NULL;
        const Runtime__V1__NamespaceOption *ns;
        const char *refusal;
        char buf[256];
        int r;

        if (!req->config)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "RunPodSandbox needs a config");
        refusal = sandbox_config_refusal(req, buf, sizeof(buf));
        if (refusal)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", refusal);
        ns = req->config->linux && req->config->linux->security_context ?
                req->config->linux->security_context->namespace_options : NULL;
        r = sandbox_pod_name(req->config->metadata, &name);
        if (r < 0)
                return r;
        r = sandbox_annotations(req, ns && ns->network == RUNTIME__V1__NAMESPACE_MODE__NODE,
                                ns && ns->pid == RUNTIME__V1__NAMESPACE_MODE__CONTAINER, &annotations);
        if (r < 0)
                return r;

        q = cri_query_new(cri, call);
        if (!q)
                return -ENOMEM;
        /* Starting a pod sets up its network: more than a quick call. A
         * sandbox begun is started (or removed again), whether kubelet
         * waits or not. */
        q->bus_timeout_usec = CRI_STOP_BUS_TIMEOUT_USEC;
        cri_query_detach(q);
        r = cri_query_new_method(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "CreatePod", &m);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        r = sd_bus_message_append(m, "s", name);
        if (r < 0)
                return r;
        r = append_sandbox_properties(m, req, ns && ns->network == RUNTIME__V1__NAMESPACE_MODE__NODE, annotations);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a(ssa(sv))", 0);
        if (r < 0)
                return r;
        r = cri_query_send(q, m, run_on_created);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

/* Stop and Remove: first whether the id names a sandbox at all (a pod of
 * the CLI is none of kubelet's business); an unknown one is done already. */
typedef enum SandboxVerb {
        SANDBOX_STOP,
        SANDBOX_REMOVE,
} SandboxVerb;

typedef struct SandboxAct {
        char id[CRI_POD_ID_LEN + 1];
        SandboxVerb verb;
} SandboxAct;

static int sandbox_act_answer(CriQuery *q) {
        SandboxAct *s = q->data;

        if (s->verb == SANDBOX_STOP) {
                Runtime__V1__StopPodSandboxResponse resp = RUNTIME__V1__STOP_POD_SANDBOX_RESPONSE__INIT;
                return cri_reply(q->call, &resp.base);
        } else {
                Runtime__V1__RemovePodSandboxResponse resp = RUNTIME__V1__REMOVE_POD_SANDBOX_RESPONSE__INIT;
                return cri_reply(q->call, &resp.base);
        }
}

static int act_on_done(CriQuery *q, sd_bus_message *m) {
        const sd_bus_error *e = sd_bus_message_get_error(m);

        /* Gone meanwhile, or stopped already: what was asked is true. */
        if (e && !sd_bus_error_has_names(e, BUS_ERROR_NO_SUCH_POD, BUS_ERROR_BAD_STATE, SD_BUS_ERROR_UNKNOWN_OBJECT))
                return cri_fail_from_bus(q, e);
        return sandbox_act_answer(q);
}

static int act_on_annotations(CriQuery *q, sd_bus_message *m) {
        _cleanup_strv_free_ char **pairs = NULL;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        SandboxAct *s = q->data;
        int r;

        if (e && sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_METHOD))
                return sandbox_act_answer(q);
        if (e)
                return cri_fail_from_bus(q, e);
        r = sd_bus_message_enter_container(m, 'v', "a{ss}");
        if (r < 0)
                return r;
        r = cri_read_pairs(m, &pairs);
        if (r < 0)
                return r;
        if (!cri_pairs_get(pairs, CRI_KEY_NAME))
                return sandbox_act_answer(q);
        q->bus_timeout_usec = CRI_STOP_BUS_TIMEOUT_USEC;
        if (s->verb == SANDBOX_STOP)
                return cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "StopPod", act_on_done, "s", s->id);
        return cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "RemovePod", act_on_done, "st", s->id,
                              PEAPOD_REMOVE_POD_FORCE);
}

static int sandbox_act(Cri *cri, GrpcCall *call, const char *id, SandboxVerb verb) {
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        _cleanup_free_ char *path = NULL;
        SandboxAct *s;
        int r;

        if (!cri_hex_id_is_valid(id, CRI_POD_ID_LEN))
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "invalid sandbox id \"%.80s\" (32 hex digits)",
                                      strempty(id));
        q = cri_query_new(cri, call);
        s = calloc(1, sizeof(SandboxAct));
        if (!q || !s) {
                free(s);
                return -ENOMEM;
        }
        q->data = s;
        q->data_free = free;
        memcpy(s->id, id, sizeof(s->id));
        s->verb = verb;
        cri_query_detach(q);
        if (asprintf(&path, PEAPOD_POD_PATH_PREFIX "/%s", id) < 0)
                return -ENOMEM;
        r = cri_query_call(q, path, "org.freedesktop.DBus.Properties", "Get", act_on_annotations, "ss",
                           PEAPOD_POD_INTERFACE, "Annotations");
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

int cri_stop_pod_sandbox(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__StopPodSandboxRequest *req = (const Runtime__V1__StopPodSandboxRequest *) request;

        return sandbox_act(cri, call, req->pod_sandbox_id, SANDBOX_STOP);
}

int cri_remove_pod_sandbox(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__RemovePodSandboxRequest *req = (const Runtime__V1__RemovePodSandboxRequest *) request;

        return sandbox_act(cri, call, req->pod_sandbox_id, SANDBOX_REMOVE);
}

static Runtime__V1__PodSandboxState sandbox_state(const CriPod *p) {
        return streq_ptr(p->state, "running") ? RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY
                                              : RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_NOTREADY;
}

Runtime__V1__PodSandboxMetadata *cri_sandbox_metadata(CriArena *a, const CriPod *p) {
        Runtime__V1__PodSandboxMetadata *md = cri_arena_new(a, sizeof(*md));
        const char *attempt = cri_pairs_get(p->annotations, CRI_KEY_ATTEMPT);

        if (!md)
                return NULL;
        runtime__v1__pod_sandbox_metadata__init(md);
        md->name = (char *) strempty(cri_pairs_get(p->annotations, CRI_KEY_NAME));
        md->uid = (char *) strempty(cri_pairs_get(p->annotations, CRI_KEY_UID));
        md->namespace_ = (char *) strempty(cri_pairs_get(p->annotations, CRI_KEY_NAMESPACE));
        md->attempt = attempt ? (uint32_t) strtoul(attempt, NULL, 10) : 0;
        return md;
}

/* m: the pod's GetAll, for verbose info. */
static int sandbox_status_answer(CriQuery *q, const CriPod *p, sd_bus_message *m, bool verbose) {
        Runtime__V1__PodSandboxStatusResponse resp = RUNTIME__V1__POD_SANDBOX_STATUS_RESPONSE__INIT;
        Runtime__V1__PodSandboxStatus st = RUNTIME__V1__POD_SANDBOX_STATUS__INIT;
        Runtime__V1__PodSandboxNetworkStatus net = RUNTIME__V1__POD_SANDBOX_NETWORK_STATUS__INIT;
        Runtime__V1__LinuxPodSandboxStatus linux_status = RUNTIME__V1__LINUX_POD_SANDBOX_STATUS__INIT;
        Runtime__V1__Namespace namespaces = RUNTIME__V1__NAMESPACE__INIT;
        Runtime__V1__NamespaceOption options = RUNTIME__V1__NAMESPACE_OPTION__INIT;
        Runtime__V1__PodSandboxStatusResponse__InfoEntry info = RUNTIME__V1__POD_SANDBOX_STATUS_RESPONSE__INFO_ENTRY__INIT;
        Runtime__V1__PodSandboxStatusResponse__InfoEntry *infos[] = { &info };
        _cleanup_(cri_arena_done) CriArena a = {};
        _cleanup_free_ char *json = NULL;
        void **labels, **annotations;
        size_t n_labels, n_annotations;
        int r;

        st.id = p->id;
        st.metadata = cri_sandbox_metadata(&a, p);
        if (!st.metadata)
                return -ENOMEM;
        st.state = sandbox_state(p);
        st.created_at = cri_usec_to_ns(p->created_usec);
        /* The host's network has no address of the pod's: kubelet takes the node's. */
        if (p->ip && !streq_ptr(p->network_mode, "host")) {
                net.ip = p->ip;
                st.network = &net;
        }
        options.network = streq_ptr(p->network_mode, "host") ? RUNTIME__V1__NAMESPACE_MODE__NODE
                                                             : RUNTIME__V1__NAMESPACE_MODE__POD;
        options.pid = streq_ptr(cri_pairs_get(p->annotations, CRI_KEY_PID), "container")
                ? RUNTIME__V1__NAMESPACE_MODE__CONTAINER : RUNTIME__V1__NAMESPACE_MODE__POD;
        options.ipc = RUNTIME__V1__NAMESPACE_MODE__POD;
        namespaces.options = &options;
        linux_status.namespaces = &namespaces;
        st.linux = &linux_status;
        r = cri_pairs_to_map(&a, p->annotations, CRI_PREFIX_LABEL, &runtime__v1__pod_sandbox_status__labels_entry__descriptor,
                             &labels, &n_labels);
        if (r < 0)
                return r;
        r = cri_pairs_to_map(&a, p->annotations, CRI_PREFIX_ANNOTATION,
                             &runtime__v1__pod_sandbox_status__annotations_entry__descriptor, &annotations, &n_annotations);
        if (r < 0)
                return r;
        st.n_labels = n_labels;
        st.labels = (Runtime__V1__PodSandboxStatus__LabelsEntry **) labels;
        st.n_annotations = n_annotations;
        st.annotations = (Runtime__V1__PodSandboxStatus__AnnotationsEntry **) annotations;
        st.runtime_handler = (char *) strempty(cri_pairs_get(p->annotations, CRI_KEY_HANDLER));
        resp.status = &st;
        if (verbose) {
                /* The pod as peapodd describes it (its Properties.GetAll). */
                r = cri_properties_to_json(m, &json);
                if (r < 0)
                        return r;
                info.key = (char *) "info";
                info.value = json;
                resp.n_info = 1;
                resp.info = infos;
        }
        return cri_reply(q->call, &resp.base);
}

static int status_on_properties(CriQuery *q, sd_bus_message *m) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        CriPod p = {};
        int r;

        if (e && sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT))
                return grpc_call_fail(q->call, GRPC_STATUS_NOT_FOUND, "no such sandbox");
        if (e)
                return cri_fail_from_bus(q, e);
        r = cri_pod_read(m, &p);
        if (r < 0)
                return r;
        if (!cri_pod_is_sandbox(&p))
                r = grpc_call_fail(q->call, GRPC_STATUS_NOT_FOUND, "no such sandbox: pod %s is not one of the CRI's", p.id);
        else
                r = sandbox_status_answer(q, &p, m, q->list);
        cri_pod_done(&p);
        return r;
}

int cri_pod_sandbox_status(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__PodSandboxStatusRequest *req = (const Runtime__V1__PodSandboxStatusRequest *) request;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (!cri_hex_id_is_valid(req->pod_sandbox_id, CRI_POD_ID_LEN))
                return grpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no such sandbox \"%.80s\" (an id has 32 hex digits)",
                                      strempty(req->pod_sandbox_id));
        q = cri_query_new(cri, call);
        if (!q)
                return -ENOMEM;
        q->list = req->verbose;         /* carried along: verbose */
        if (asprintf(&path, PEAPOD_POD_PATH_PREFIX "/%s", req->pod_sandbox_id) < 0)
                return -ENOMEM;
        r = cri_query_call(q, path, "org.freedesktop.DBus.Properties", "GetAll", status_on_properties, "s",
                           PEAPOD_POD_INTERFACE);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

static int list_answer(GrpcCall *call, const CriPod *pods, size_t n_pods, const CriListFilter *f) {
        Runtime__V1__ListPodSandboxResponse resp = RUNTIME__V1__LIST_POD_SANDBOX_RESPONSE__INIT;
        _cleanup_(cri_arena_done) CriArena a = {};
        Runtime__V1__PodSandbox **items;
        int r = 0;

        items = cri_arena_new(&a, n_pods * sizeof(void *));
        if (!items)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n_pods; i++) {
                const CriPod *p = &pods[i];
                Runtime__V1__PodSandbox *s;
                void **labels, **annotations;
                size_t n_labels, n_annotations;

                if (f->id && !startswith(p->id, f->id))
                        continue;
                if (f->has_state && (int) sandbox_state(p) != f->state)
                        continue;
                if (!cri_selector_match(p->annotations, f->selector))
                        continue;
                s = cri_arena_new(&a, sizeof(*s));
                if (!s) {
                        r = -ENOMEM;
                        break;
                }
                runtime__v1__pod_sandbox__init(s);
                s->id = p->id;
                s->metadata = cri_sandbox_metadata(&a, p);
                if (!s->metadata) {
                        r = -ENOMEM;
                        break;
                }
                s->state = sandbox_state(p);
                s->created_at = cri_usec_to_ns(p->created_usec);
                r = cri_pairs_to_map(&a, p->annotations, CRI_PREFIX_LABEL, &runtime__v1__pod_sandbox__labels_entry__descriptor,
                                     &labels, &n_labels);
                if (r >= 0)
                        r = cri_pairs_to_map(&a, p->annotations, CRI_PREFIX_ANNOTATION,
                                             &runtime__v1__pod_sandbox__annotations_entry__descriptor, &annotations,
                                             &n_annotations);
                if (r < 0)
                        break;
                s->n_labels = n_labels;
                s->labels = (Runtime__V1__PodSandbox__LabelsEntry **) labels;
                s->n_annotations = n_annotations;
                s->annotations = (Runtime__V1__PodSandbox__AnnotationsEntry **) annotations;
                s->runtime_handler = (char *) strempty(cri_pairs_get(p->annotations, CRI_KEY_HANDLER));
                items[resp.n_items++] = s;
        }
        if (r < 0)
                return r;
        resp.items = items;
        return cri_reply(call, &resp.base);
}

int cri_list_pod_sandbox(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__ListPodSandboxRequest *req = (const Runtime__V1__ListPodSandboxRequest *) request;
        const Runtime__V1__PodSandboxFilter *filter = req->filter;
        CriListFilter *f;
        int r;

        r = cri_list_filter_new(filter ? filter->id : NULL, NULL, filter && filter->state,
                                filter && filter->state ? (int) filter->state->state : 0,
                                filter ? (void **) filter->label_selector : NULL, filter ? filter->n_label_selector : 0, &f);
        if (r < 0)
                return r;
        return cri_list(cri, call, f, list_answer);
}
