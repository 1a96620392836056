/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* UpdateContainerResources, ReopenContainerLog, UpdateRuntimeConfig. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "peapod-bus.h"
#include "cri.h"
#include "log.h"
#include "string-util.h"

static int fail_from_bus(CriQuery *q, const sd_bus_error *e) {
        /* No pod of that id (no object) is no such container, like NoSuchApp. */
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_METHOD))
                return grpc_call_fail(q->call, GRPC_STATUS_NOT_FOUND, "no such container");
        return grpc_call_fail(q->call, cri_status_from_bus_error(e), "peapodd: %s", e->message ?: e->name);
}

static int update_on_reply(CriQuery *q, sd_bus_message *m) {
        Runtime__V1__UpdateContainerResourcesResponse resp = RUNTIME__V1__UPDATE_CONTAINER_RESOURCES_RESPONSE__INIT;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e)
                return fail_from_bus(q, e);
        return cri_reply(q->call, &resp.base);
}

/* CPU quota per period becomes systemd's quota per second. */
static uint64_t quota_per_sec_usec(int64_t quota, int64_t period) {
        if (quota <= 0)
                return 0;
        if (period <= 0)
                period = 100000;        /* the kernel's default period, as runc takes it */
        if ((uint64_t) quota > UINT64_MAX / 1000000)
                return UINT64_MAX;
        return (uint64_t) quota * 1000000 / (uint64_t) period;
}

/* The CPU quota, shares and memory limit, through peapodd's
 * Pod.SetAppResources (peapod-cri never changes systemd units itself):
 * they replace the app's, 0 lifting a limit, on its running unit and in
 * its record. What systemd's units do not carry per app (cpusets,
 * hugepages, unified, oom_score_adj, swap) is left as it is. */
int cri_update_container_resources(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__UpdateContainerResourcesRequest *req = (const Runtime__V1__UpdateContainerResourcesRequest *) request;
        const Runtime__V1__LinuxContainerResources *l = req->linux;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        _cleanup_free_ char *path = NULL;
        char pod[33], app[33];
        int r;

        if (cri_container_id_parse(req->container_id, pod, app) < 0)
                return grpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no such container: %s", strna(req->container_id));
        if (!l) {
                Runtime__V1__UpdateContainerResourcesResponse resp = RUNTIME__V1__UPDATE_CONTAINER_RESOURCES_RESPONSE__INIT;

                return cri_reply(call, &resp.base);
        }
        if (l->cpu_shares < 0 || l->memory_limit_in_bytes < 0)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "negative CPU shares or memory limit");
        if (!isempty(l->cpuset_cpus) || !isempty(l->cpuset_mems) || l->n_hugepage_limits > 0 || l->n_unified > 0)
                log_debug("UpdateContainerResources of %s: cpusets, hugepages and unified are left as they are.",
                          req->container_id);
        if (asprintf(&path, PEAPOD_POD_PATH_PREFIX "/%s", pod) < 0)
                return -ENOMEM;
        q = cri_query_new(cri, call);
        if (!q)
                return -ENOMEM;
        r = cri_query_call(q, path, PEAPOD_POD_INTERFACE, "SetAppResources", update_on_reply, "sa(sv)t", app, 3,
                           "CPUQuotaPerSecUSec", "t", quota_per_sec_usec(l->cpu_quota, l->cpu_period),
                           "CPUShares", "t", (uint64_t) l->cpu_shares,
                           "MemoryMax", "t", (uint64_t) l->memory_limit_in_bytes,
                           UINT64_C(0));
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

static int reopen_on_app(CriQuery *q, sd_bus_message *m) {
        Runtime__V1__ReopenContainerLogResponse resp = RUNTIME__V1__REOPEN_CONTAINER_LOG_RESPONSE__INIT;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *id = q->data;
        int r;

        if (e)
                return fail_from_bus(q, e);
        r = cri_container_log_reopen(q->cri, id);
        if (r < 0)
                return grpc_call_fail(q->call, GRPC_STATUS_INTERNAL, "reopening the log of %s failed: %s", id, strerror(-r));
        return cri_reply(q->call, &resp.base);
}

/* kubelet rotated the container's log file: reopen it (the follower's
 * hook), once peapodd says the container exists (GetApp). */
int cri_reopen_container_log(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__ReopenContainerLogRequest *req = (const Runtime__V1__ReopenContainerLogRequest *) request;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        _cleanup_free_ char *path = NULL;
        char pod[33], app[33];
        int r;

        if (cri_container_id_parse(req->container_id, pod, app) < 0)
                return grpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no such container: %s", strna(req->container_id));
        if (asprintf(&path, PEAPOD_POD_PATH_PREFIX "/%s", pod) < 0)
                return -ENOMEM;
        q = cri_query_new(cri, call);
        if (!q)
                return -ENOMEM;
        q->data = strdup(req->container_id);
        if (!q->data)
                return -ENOMEM;
        q->data_free = free;
        r = cri_query_call(q, path, PEAPOD_POD_INTERFACE, "GetApp", reopen_on_app, "s", app);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

/* A CIDR as kubelet sends it ("10.244.1.0/24", "fd00::/64"), checked
 * loosely but bounded: it is logged and kept, not used. */
static bool cidr_is_plausible(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 64 || !strchr(s, '/'))
                return false;
        return strspn(s, "0123456789abcdefABCDEF.:/") == n;
}

/* The pod CIDR: recorded and logged. Pods get their addresses from the CNI
 * network's own configuration (its IPAM range), which the node's
 * administrator makes agree with the CIDR; peapod-cri does not rewrite it. */
int cri_update_runtime_config(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__UpdateRuntimeConfigRequest *req = (const Runtime__V1__UpdateRuntimeConfigRequest *) request;
        Runtime__V1__UpdateRuntimeConfigResponse resp = RUNTIME__V1__UPDATE_RUNTIME_CONFIG_RESPONSE__INIT;
        const char *cidr = req->runtime_config && req->runtime_config->network_config ?
                                   req->runtime_config->network_config->pod_cidr : NULL;

        if (!isempty(cidr)) {
                if (!cidr_is_plausible(cidr))
                        return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "pod CIDR %.64s is not a CIDR", cidr);
                if (!streq_ptr(cri->pod_cidr, cidr)) {
                        char *c = strdup(cidr);

                        if (!c)
                                return -ENOMEM;
                        free(cri->pod_cidr);
                        cri->pod_cidr = c;
                        log_info("The pod CIDR is now %s (pods take their addresses from the CNI network's configuration).",
                                 cidr);
                }
        }
        return cri_reply(call, &resp.base);
}
