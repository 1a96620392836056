/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RuntimeService methods that are about the runtime itself. */
#include <errno.h>
#include <stdlib.h>

#include "cni.h"
#include "peapod-bus.h"
#include "cri.h"
#include "json-util.h"
#include "pod-network.h"

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

static int status_on_reply(CriQuery *q, sd_bus_message *m) {
        _cleanup_free_ char *problem = NULL;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *version, *text = NULL;

        if (e) {
                if (asprintf(&problem, "peapodd does not answer on the system bus: %s", e->message ?: e->name) < 0)
                        problem = NULL;
                text = problem ?: "peapodd does not answer on the system bus";
        } else if (sd_bus_message_read(m, "v", "s", &version) < 0)
                text = "peapodd answered its Version property with something unexpected";
        return status_answer(q->cri, q->call, text);
}

/* RuntimeReady: peapodd answers on the system bus (its Version property,
 * read asynchronously: a peapodd that is being activated or is busy must
 * not stop other calls). */
int cri_runtime_status(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        _cleanup_free_ char *problem = NULL;
        int r;

        q = cri_query_new(cri, call);
        if (!q)
                return -ENOMEM;
        r = cri_query_call(q, PEAPOD_ROOT_PATH, "org.freedesktop.DBus.Properties", "Get", status_on_reply, "ss",
                           PEAPOD_MANAGER_INTERFACE, "Version");
        if (r < 0) {
                if (asprintf(&problem, "cannot call peapodd on the system bus: %s", strerror(-r)) < 0)
                        return -ENOMEM;
                return status_answer(cri, call, problem);
        }
        TAKE_PTR(q);
        return 0;
}
