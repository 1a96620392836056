/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RuntimeService methods that are about the runtime itself. */
#include <errno.h>
#include <stdlib.h>

#include "cni.h"
#include "cri-bus.h"
#include "cri.h"
#include "json-util.h"
#include "pod-network.h"

/* A Status call waiting for peapodd's answer. */
typedef struct StatusQuery {
        Cri *cri;
        GrpcCall *call;
        sd_bus_slot *slot;
} StatusQuery;

static StatusQuery *status_query_free(StatusQuery *q) {
        if (!q)
                return NULL;
        /* Unreferencing a pending call's slot cancels it: its callback never runs. */
        sd_bus_slot_unref(q->slot);
        if (q->call) {
                grpc_call_set_cancel(q->call, NULL, NULL);
                grpc_call_unref(q->call);
        }
        return mfree(q);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(StatusQuery *, status_query_free);

/* NetworkReady: the pods' default network is configured (what a
 * RunPodSandbox without other wishes attaches). A file read, so answered
 * here without the bus. */
static bool network_ready(Cri *cri, char *reason_message, size_t size) {
        _cleanup_(json_object_putp) json_object *list = NULL;
        PeapodError err = PEAPOD_ERROR_NULL;
        const char *dir = cri->cni_conf_dir ?: CNI_DEFAULT_CONF_DIR;
        int r;

        r = cni_conflist_load(dir, POD_NETWORK_DEFAULT, &list, &err);
        if (r < 0) {
                snprintf(reason_message, size, "the CNI network \"%s\" is not usable in %s: %s", POD_NETWORK_DEFAULT,
                         dir, peapod_error_is_set(&err) ? err.message : strerror(-r));
                return false;
        }
        return true;
}

static int status_answer(Cri *cri, GrpcCall *call, const char *runtime_problem) {
        Runtime__V1__StatusResponse resp = RUNTIME__V1__STATUS_RESPONSE__INIT;
        Runtime__V1__RuntimeStatus status = RUNTIME__V1__RUNTIME_STATUS__INIT;
        Runtime__V1__RuntimeCondition runtime = RUNTIME__V1__RUNTIME_CONDITION__INIT,
                                      network = RUNTIME__V1__RUNTIME_CONDITION__INIT;
        Runtime__V1__RuntimeCondition *conditions[] = { &runtime, &network };
        Runtime__V1__RuntimeHandlerFeatures features = RUNTIME__V1__RUNTIME_HANDLER_FEATURES__INIT;
        Runtime__V1__RuntimeHandler handler = RUNTIME__V1__RUNTIME_HANDLER__INIT;
        Runtime__V1__RuntimeHandler *handlers[] = { &handler };
        Runtime__V1__RuntimeFeatures runtime_features = RUNTIME__V1__RUNTIME_FEATURES__INIT;
        char network_message[1024];

        runtime.type = (char *) "RuntimeReady";
        runtime.status = !runtime_problem;
        if (runtime_problem) {
                runtime.reason = (char *) "PeapodUnavailable";
                runtime.message = (char *) runtime_problem;
        }
        network.type = (char *) "NetworkReady";
        network.status = network_ready(cri, network_message, sizeof(network_message));
        if (!network.status) {
                /* kubelet's and containerd's reason for it. */
                network.reason = (char *) "NetworkPluginNotReady";
                network.message = network_message;
        }
        status.n_conditions = ELEMENTSOF(conditions);
        status.conditions = conditions;
        resp.status = &status;
        /* The default handler ("") only, and none of the optional features yet. */
        handler.name = (char *) "";
        handler.features = &features;
        resp.n_runtime_handlers = ELEMENTSOF(handlers);
        resp.runtime_handlers = handlers;
        resp.features = &runtime_features;
        return cri_reply(call, &resp.base);
}

static int status_on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(status_query_freep) StatusQuery *q = userdata;
        _cleanup_free_ char *problem = NULL;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *version, *text = NULL;

        if (e) {
                if (asprintf(&problem, "peapodd does not answer on the system bus: %s", e->message ?: e->name) < 0)
                        problem = NULL;
                text = problem ?: "peapodd does not answer on the system bus";
        } else if (sd_bus_message_read(m, "v", "s", &version) < 0)
                text = "peapodd answered its Version property with something unexpected";
        (void) status_answer(q->cri, q->call, text);
        return 0;
}

static void status_on_cancel(GrpcCall *call, void *userdata) {
        status_query_free(userdata);
}

/* RuntimeReady: peapodd answers on the system bus (its Version property,
 * read asynchronously: a peapodd that is being activated or is busy must
 * not stop other calls). */
int cri_runtime_status(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(status_query_freep) StatusQuery *q = NULL;
        _cleanup_free_ char *problem = NULL;
        sd_bus *bus;
        int r;

        r = cri_bus(cri, &bus);
        if (r < 0) {
                if (asprintf(&problem, "cannot connect to the system bus: %s", strerror(-r)) < 0)
                        return -ENOMEM;
                return status_answer(cri, call, problem);
        }
        q = calloc(1, sizeof(StatusQuery));
        if (!q)
                return -ENOMEM;
        q->cri = cri;
        r = sd_bus_message_new_method_call(bus, &m, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH,
                                           "org.freedesktop.DBus.Properties", "Get");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", PEAPOD_MANAGER_INTERFACE, "Version");
        if (r < 0)
                return r;
        r = sd_bus_call_async(bus, &q->slot, m, status_on_reply, q, CRI_BUS_TIMEOUT_USEC);
        if (r < 0) {
                if (asprintf(&problem, "cannot call peapodd: %s", strerror(-r)) < 0)
                        return -ENOMEM;
                return status_answer(cri, call, problem);
        }
        q->call = grpc_call_ref(call);
        grpc_call_set_cancel(call, status_on_cancel, q);
        TAKE_PTR(q);
        return 0;
}
