/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "peapod-bus.h"
#include "cri.h"
#include "log.h"
#include "string-util.h"

#define MISSING_NOT_YET "is not implemented by peapod-cri yet"
#define MISSING_SERVER_STREAM "is not implemented by peapod-cri (no server-streaming calls yet)"

/* Every method of the CRI's two services, in cri.proto's order. */
static const CriMethod cri_methods[] = {
        { "RuntimeService/Version", &runtime__v1__version_request__descriptor, cri_runtime_version, NULL },
        { "RuntimeService/RunPodSandbox", &runtime__v1__run_pod_sandbox_request__descriptor, cri_run_pod_sandbox, NULL },
        { "RuntimeService/StopPodSandbox", &runtime__v1__stop_pod_sandbox_request__descriptor, cri_stop_pod_sandbox, NULL },
        { "RuntimeService/RemovePodSandbox", &runtime__v1__remove_pod_sandbox_request__descriptor, cri_remove_pod_sandbox, NULL },
        { "RuntimeService/PodSandboxStatus", &runtime__v1__pod_sandbox_status_request__descriptor, cri_pod_sandbox_status, NULL },
        { "RuntimeService/ListPodSandbox", &runtime__v1__list_pod_sandbox_request__descriptor, cri_list_pod_sandbox, NULL },
        { "RuntimeService/StreamPodSandboxes", &runtime__v1__stream_pod_sandboxes_request__descriptor, NULL, MISSING_SERVER_STREAM },
        { "RuntimeService/CreateContainer", &runtime__v1__create_container_request__descriptor, cri_create_container, NULL },
        { "RuntimeService/StartContainer", &runtime__v1__start_container_request__descriptor, cri_start_container, NULL },
        { "RuntimeService/StopContainer", &runtime__v1__stop_container_request__descriptor, cri_stop_container, NULL },
        { "RuntimeService/RemoveContainer", &runtime__v1__remove_container_request__descriptor, cri_remove_container, NULL },
        { "RuntimeService/ListContainers", &runtime__v1__list_containers_request__descriptor, cri_list_containers, NULL },
        { "RuntimeService/StreamContainers", &runtime__v1__stream_containers_request__descriptor, NULL, MISSING_SERVER_STREAM },
        { "RuntimeService/ContainerStatus", &runtime__v1__container_status_request__descriptor, cri_container_status, NULL },
        { "RuntimeService/UpdateContainerResources", &runtime__v1__update_container_resources_request__descriptor, cri_update_container_resources, NULL },
        { "RuntimeService/ReopenContainerLog", &runtime__v1__reopen_container_log_request__descriptor, cri_reopen_container_log, NULL },
        { "RuntimeService/ExecSync", &runtime__v1__exec_sync_request__descriptor, cri_exec_sync, NULL },
        { "RuntimeService/Exec", &runtime__v1__exec_request__descriptor, cri_runtime_exec, NULL },
        { "RuntimeService/Attach", &runtime__v1__attach_request__descriptor, cri_runtime_attach, NULL },
        { "RuntimeService/PortForward", &runtime__v1__port_forward_request__descriptor, cri_runtime_port_forward, NULL },
        { "RuntimeService/ContainerStats", &runtime__v1__container_stats_request__descriptor, cri_container_stats, NULL },
        { "RuntimeService/ListContainerStats", &runtime__v1__list_container_stats_request__descriptor, cri_list_container_stats, NULL },
        { "RuntimeService/StreamContainerStats", &runtime__v1__stream_container_stats_request__descriptor, NULL, MISSING_SERVER_STREAM },
        { "RuntimeService/PodSandboxStats", &runtime__v1__pod_sandbox_stats_request__descriptor, cri_pod_sandbox_stats, NULL },
        { "RuntimeService/ListPodSandboxStats", &runtime__v1__list_pod_sandbox_stats_request__descriptor, cri_list_pod_sandbox_stats, NULL },
        { "RuntimeService/StreamPodSandboxStats", &runtime__v1__stream_pod_sandbox_stats_request__descriptor, NULL, MISSING_SERVER_STREAM },
        { "RuntimeService/UpdateRuntimeConfig", &runtime__v1__update_runtime_config_request__descriptor, cri_update_runtime_config, NULL },
        { "RuntimeService/Status", &runtime__v1__status_request__descriptor, cri_runtime_status, NULL },
        { "RuntimeService/CheckpointContainer", &runtime__v1__checkpoint_container_request__descriptor, NULL, MISSING_NOT_YET },
        { "RuntimeService/CheckpointPod", &runtime__v1__checkpoint_pod_request__descriptor, NULL, MISSING_NOT_YET },
        { "RuntimeService/RestorePod", &runtime__v1__restore_pod_request__descriptor, NULL, MISSING_NOT_YET },
        { "RuntimeService/GetContainerEvents", &runtime__v1__get_events_request__descriptor, NULL, MISSING_SERVER_STREAM },
        { "RuntimeService/ListMetricDescriptors", &runtime__v1__list_metric_descriptors_request__descriptor, NULL, MISSING_NOT_YET },
        { "RuntimeService/ListPodSandboxMetrics", &runtime__v1__list_pod_sandbox_metrics_request__descriptor, NULL, MISSING_NOT_YET },
        { "RuntimeService/StreamPodSandboxMetrics", &runtime__v1__stream_pod_sandbox_metrics_request__descriptor, NULL, MISSING_SERVER_STREAM },
        { "RuntimeService/RuntimeConfig", &runtime__v1__runtime_config_request__descriptor, NULL, MISSING_NOT_YET },
        { "RuntimeService/UpdatePodSandboxResources", &runtime__v1__update_pod_sandbox_resources_request__descriptor, NULL, MISSING_NOT_YET },
        { "ImageService/ListImages", &runtime__v1__list_images_request__descriptor, cri_image_list, NULL },
        { "ImageService/StreamImages", &runtime__v1__stream_images_request__descriptor, NULL, MISSING_SERVER_STREAM },
        { "ImageService/ImageStatus", &runtime__v1__image_status_request__descriptor, cri_image_status, NULL },
        { "ImageService/PullImage", &runtime__v1__pull_image_request__descriptor, cri_image_pull, NULL },
        { "ImageService/RemoveImage", &runtime__v1__remove_image_request__descriptor, cri_image_remove, NULL },
        { "ImageService/ImageFsInfo", &runtime__v1__image_fs_info_request__descriptor, cri_image_fs_info, NULL },
};

/* Both API versions are served by the same methods: the messages of
 * runtime.v1alpha2 have the wire shape of runtime.v1's. */
static const char *const cri_api_packages[_CRI_API_MAX] = {
        [CRI_API_V1] = "/runtime.v1.",
        [CRI_API_V1ALPHA2] = "/runtime.v1alpha2.",
};

const CriMethod *cri_method_lookup(const char *path, CriApi *ret_api) {
        for (CriApi api = 0; api < _CRI_API_MAX; api++) {
                const char *name = startswith(path, cri_api_packages[api]);

                if (!name)
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(cri_methods); i++)
                        if (streq(cri_methods[i].name, name)) {
                                if (ret_api)
                                        *ret_api = api;
                                return &cri_methods[i];
                        }
        }
        return NULL;
}

static const void *cri_lookup(const char *path, void *userdata) {
        return cri_method_lookup(path, NULL);
}

int cri_reply(GrpcCall *call, const ProtobufCMessage *m) {
        size_t len = protobuf_c_message_get_packed_size(m);
        uint8_t *frame;

        if (len > GRPC_MESSAGE_MAX)
                return grpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "the answer would be larger than 16 MiB");
        frame = malloc(GRPC_PREFIX_SIZE + len);
        if (!frame)
                return grpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        (void) protobuf_c_message_pack(m, frame + GRPC_PREFIX_SIZE);
        return grpc_call_reply_frame(call, frame, len);
}

static void cri_dispatch(GrpcCall *call, const void *method, const uint8_t *msg, size_t len, void *userdata) {
        const CriMethod *m = method;
        Cri *cri = userdata;
        ProtobufCMessage *request;
        CriApi api = CRI_API_V1;
        int r;

        (void) cri_method_lookup(grpc_call_path(call), &api);
        if (!m->handler) {
                (void) grpc_call_fail(call, GRPC_STATUS_UNIMPLEMENTED, "%s %s", m->name, m->missing);
                return;
        }
        request = protobuf_c_message_unpack(m->request, NULL, len, msg);
        if (!request) {
                (void) grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "malformed %s", m->request->name);
                return;
        }
        r = m->handler(cri, call, api, request);
        protobuf_c_message_free_unpacked(request, NULL);
        /* A handler that failed without answering gets a generic answer;
         * one that went asynchronous holds its own reference. */
        if (r < 0 && grpc_call_fail(call, r == -ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED : GRPC_STATUS_INTERNAL,
                                    "%s failed: %s", m->name, strerror(-r)) >= 0)
                log_debug_errno(r, "%s failed: %m", m->name);
}

int cri_bus(Cri *cri, sd_bus **ret) {
        int r;

        /* The bus may have gone (dbus restarted); connect again lazily so
         * that Status says "not ready" until it is back, never exits. */
        if (cri->bus && !sd_bus_is_open(cri->bus))
                cri->bus = sd_bus_flush_close_unref(cri->bus);
        if (!cri->bus) {
                _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;

                r = sd_bus_open_system(&bus);
                if (r < 0)
                        return r;
                r = sd_bus_attach_event(bus, cri->event, SD_EVENT_PRIORITY_NORMAL);
                if (r < 0)
                        return r;
                cri->bus = TAKE_PTR(bus);
        }
        *ret = cri->bus;
        return 0;
}

CriQuery *cri_query_new(Cri *cri, GrpcCall *call) {
        CriQuery *q = calloc(1, sizeof(CriQuery));

        if (!q)
                return NULL;
        q->cri = cri;
        q->call = grpc_call_ref(call);
        return q;
}

CriQuery *cri_query_free(CriQuery *q) {
        if (!q)
                return NULL;
        /* Unreferencing a pending call's slot cancels it: its callback never runs. */
        sd_bus_slot_unref(q->slot);
        sd_event_source_disable_unref(q->timer);
        if (q->detached) {
                if (q->detached_prev)
                        q->detached_prev->detached_next = q->detached_next;
                else
                        q->cri->detached = q->detached_next;
                if (q->detached_next)
                        q->detached_next->detached_prev = q->detached_prev;
        }
        sd_bus_slot_unref(q->match);
        if (q->data_free)
                q->data_free(q->data);
        grpc_call_set_cancel(q->call, NULL, NULL);
        grpc_call_unref(q->call);
        return mfree(q);
}

/* peapodd gets as long as the client waits (its grpc-timeout), at most
 * CRI_BUS_TIMEOUT_USEC. */
static uint64_t cri_query_timeout(CriQuery *q) {
        uint64_t deadline = grpc_call_deadline(q->call), now, max = q->bus_timeout_usec ?: CRI_BUS_TIMEOUT_USEC;

        if (q->detached || deadline == 0 || sd_event_now(q->cri->event, CLOCK_MONOTONIC, &now) < 0)
                return max;
        if (deadline <= now)
                return 1;
        return deadline - now < max ? deadline - now : max;
}

static void cri_query_on_cancel(GrpcCall *call, void *userdata) {
        cri_query_free(userdata);
}

static void cri_query_step(CriQuery *q, sd_bus_message *m) {
        int r;

        r = q->handler(q, m);
        if (r < 0)
                (void) grpc_call_fail(q->call, GRPC_STATUS_INTERNAL, "reading peapodd's answer failed: %s", strerror(-r));
        /* Done, unless the handler sent the next call of a chain, paused
         * it, or waits for a signal (whose handler frees the query). */
        if (r < 0 || (!q->slot && !q->timer && !q->match))
                cri_query_free(q);
}

static int cri_query_on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        CriQuery *q = userdata;

        q->slot = sd_bus_slot_unref(q->slot);
        cri_query_step(q, m);
        return 0;
}

static int cri_query_on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        CriQuery *q = userdata;

        q->timer = sd_event_source_disable_unref(q->timer);
        cri_query_step(q, NULL);
        return 0;
}

int cri_query_sleep(CriQuery *q, uint64_t usec, CriQueryHandler handler) {
        int r;

        r = sd_event_add_time_relative(q->cri->event, &q->timer, CLOCK_MONOTONIC, usec, 0, cri_query_on_timer, q);
        if (r < 0)
                return r;
        q->handler = handler;
        grpc_call_set_cancel(q->call, q->detached ? NULL : cri_query_on_cancel, q);
        return 0;
}

void cri_query_detach(CriQuery *q) {
        if (q->detached)
                return;
        q->detached = true;
        q->detached_next = q->cri->detached;
        if (q->detached_next)
                q->detached_next->detached_prev = q;
        q->cri->detached = q;
        grpc_call_set_cancel(q->call, NULL, NULL);
}

int cri_query_new_method(CriQuery *q, const char *path, const char *interface, const char *member,
                         sd_bus_message **ret) {
        sd_bus *bus;
        int r;

        r = cri_bus(q->cri, &bus);
        if (r < 0)
                return r;
        return sd_bus_message_new_method_call(bus, ret, PEAPOD_BUS_NAME, path, interface, member);
}

int cri_query_send(CriQuery *q, sd_bus_message *m, CriQueryHandler handler) {
        int r;

        r = sd_bus_call_async(sd_bus_message_get_bus(m), &q->slot, m, cri_query_on_reply, q, cri_query_timeout(q));
        if (r < 0)
                return r;
        q->handler = handler;
        grpc_call_set_cancel(q->call, q->detached ? NULL : cri_query_on_cancel, q);
        return 0;
}

int cri_query_call(CriQuery *q, const char *path, const char *interface, const char *member,
                   CriQueryHandler handler, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = cri_query_new_method(q, path, interface, member, &m);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        return cri_query_send(q, m, handler);
}

int cri_fail_unreachable(GrpcCall *call, int error) {
        if (error == -ENOMEM)
                return grpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        return grpc_call_fail(call, GRPC_STATUS_UNAVAILABLE, "cannot call peapodd: %s", strerror(-error));
}

GrpcStatus cri_status_from_bus_error(const sd_bus_error *e) {
        if (sd_bus_error_has_names(e, BUS_ERROR_NO_SUCH_IMAGE, BUS_ERROR_NO_SUCH_POD, BUS_ERROR_NO_SUCH_APP,
                                   SD_BUS_ERROR_UNKNOWN_OBJECT))
                return GRPC_STATUS_NOT_FOUND;
        if (sd_bus_error_has_names(e, BUS_ERROR_IMAGE_IN_USE, BUS_ERROR_BAD_STATE))
                return GRPC_STATUS_FAILED_PRECONDITION;
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_INVALID_ARGS, BUS_ERROR_INVALID_NAME))
                return GRPC_STATUS_INVALID_ARGUMENT;
        if (sd_bus_error_has_names(e, BUS_ERROR_POD_EXISTS, BUS_ERROR_APP_EXISTS))
                return GRPC_STATUS_ALREADY_EXISTS;
        if (sd_bus_error_has_names(e, BUS_ERROR_POD_RUNNING, BUS_ERROR_APP_RUNNING, BUS_ERROR_PORT_IN_USE))
                return GRPC_STATUS_FAILED_PRECONDITION;
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                return GRPC_STATUS_PERMISSION_DENIED;
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER, SD_BUS_ERROR_NO_REPLY,
                                   SD_BUS_ERROR_TIMEOUT, SD_BUS_ERROR_DISCONNECTED, "org.freedesktop.systemd1.UnitMasked"))
                return GRPC_STATUS_UNAVAILABLE;
        return GRPC_STATUS_UNKNOWN;
}

int cri_new(sd_event *event, Cri **ret) {
        _cleanup_(cri_freep) Cri *cri = NULL;
        sd_bus *bus;
        int r;

        cri = calloc(1, sizeof(Cri));
        if (!cri)
                return -ENOMEM;
        cri->event = sd_event_ref(event);
        cri->images_dir = CRI_IMAGES_DIR;
        cri->logs_state_dir = CRI_LOGS_STATE_DIR;
        r = grpc_server_new(event, cri_lookup, cri_dispatch, cri, &cri->server);
        if (r < 0)
                return r;
        /* Not fatal: Status reports it, and the next call tries again. */
        r = cri_bus(cri, &bus);
        if (r < 0)
                log_warning_errno(r, "Failed to connect to the system bus, will retry: %m");
        else if (cri_cache_start(cri) < 0)
                log_debug("Failed to follow peapodd's pods yet, will retry with the first list.");
        /* Not fatal either: the containers run, without log files. */
        if (cri_logs_start(cri) < 0)
                cri_logs_stop(cri);
        *ret = TAKE_PTR(cri);
        return 0;
}

Cri *cri_free(Cri *cri) {
        if (!cri)
                return NULL;
        /* The server first: cancelling its calls releases their bus slots. */
        grpc_server_free(cri->server);
        while (cri->detached)
                cri_query_free(cri->detached);
        cri_logs_stop(cri);
        cri_cache_free(cri->cache);
        cri_disk_free(cri->disk);
        stream_server_free(cri->streaming);
        sd_bus_flush_close_unref(cri->bus);
        sd_event_unref(cri->event);
        free(cri->pod_cidr);
        return mfree(cri);
}

int cri_runtime_version(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        Runtime__V1__VersionResponse v = RUNTIME__V1__VERSION_RESPONSE__INIT;

        /* As containerd answers: "0.1.0" is the kubelet API version the
         * CRI has carried since its beginning; runtime_api_version names
         * the package the client spoke. */
        v.version = (char *) "0.1.0";
        v.runtime_name = (char *) "peapod";
        v.runtime_version = (char *) PACKAGE_VERSION;
        v.runtime_api_version = (char *) (api == CRI_API_V1ALPHA2 ? "v1alpha2" : "v1");
        return cri_reply(call, &v.base);
}
