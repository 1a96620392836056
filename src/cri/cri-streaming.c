/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exec and PortForward: each answers the URL of a single-use token of the
 * streaming server (streaming.c), where the client then streams. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cri.h"
#include "cri-pod.h"
#include "streaming.h"
#include "strv.h"

static int reply_url(GrpcCall *call, const ProtobufCMessage *base, char **url_field, StreamServer *s,
                     StreamRequest *req) {
        _cleanup_free_ char *url = NULL;
        int r;

        r = stream_server_add(s, req, &url);
        if (r == -EBUSY)
                return grpc_call_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                                      "too many streaming URLs handed out and not used yet");
        if (r < 0)
                return r;
        *url_field = url;
        return cri_reply(call, base);
}

/* What Exec and Attach check alike, and their request: the container,
 * the streams wanted, a terminal's single output, a running server. 0 and
 * *ret, or the call failed (> 0 from grpc_call_fail()) or -ENOMEM. */
static int stream_request_for_container(Cri *cri, GrpcCall *call, StreamKind kind, const char *container_id, bool tty,
                                        bool in, bool out, bool err, StreamRequest **ret) {
        StreamRequest *req;
        char pod_id[33], app_id[33];

        if (cri_container_id_parse(container_id, pod_id, app_id) < 0)
                return grpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no such container: %s", container_id);
        if (!in && !out && !err)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
                                      "one of stdin, stdout and stderr must be set");
        if (tty && err)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
                                      "tty and stderr cannot both be set (a terminal has one output)");
        if (!cri->streaming)
                return grpc_call_fail(call, GRPC_STATUS_UNAVAILABLE, "the streaming server is not running");

        req = calloc(1, sizeof(StreamRequest));
        if (!req)
                return -ENOMEM;
        *req = (StreamRequest) { .kind = kind, .tty = tty, .in = in, .out = out, .err = err };
        memcpy(req->pod_id, pod_id, sizeof(pod_id));
        memcpy(req->app_id, app_id, sizeof(app_id));
        *ret = req;
        return 0;
}

int cri_runtime_exec(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__ExecRequest *e = (const Runtime__V1__ExecRequest *) request;
        Runtime__V1__ExecResponse resp = RUNTIME__V1__EXEC_RESPONSE__INIT;
        StreamRequest *req = NULL;
        int r;

        if (e->n_cmd == 0 || isempty(e->cmd[0]))
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "Exec needs a command");
        r = stream_request_for_container(cri, call, STREAM_EXEC, e->container_id, e->tty, e->stdin, e->stdout,
                                         e->stderr, &req);
        if (!req)
                return r;
        req->cmd = calloc(e->n_cmd + 1, sizeof(char *));
        if (!req->cmd)
                return stream_request_free(req), -ENOMEM;
        for (size_t i = 0; i < e->n_cmd; i++)
                if (!(req->cmd[i] = strdup(e->cmd[i])))
                        return stream_request_free(req), -ENOMEM;
        return reply_url(call, &resp.base, &resp.url, cri->streaming, req);
}

/* The container's state is checked when the client comes (the URL is good
 * for a minute; the app may end meanwhile): not running is an error on the
 * stream. */
int cri_runtime_attach(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__AttachRequest *a = (const Runtime__V1__AttachRequest *) request;
        Runtime__V1__AttachResponse resp = RUNTIME__V1__ATTACH_RESPONSE__INIT;
        StreamRequest *req = NULL;
        int r;

        r = stream_request_for_container(cri, call, STREAM_ATTACH, a->container_id, a->tty, a->stdin, a->stdout,
                                         a->stderr, &req);
        if (!req)
                return r;
        return reply_url(call, &resp.base, &resp.url, cri->streaming, req);
}

int cri_runtime_port_forward(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__PortForwardRequest *p = (const Runtime__V1__PortForwardRequest *) request;
        Runtime__V1__PortForwardResponse resp = RUNTIME__V1__PORT_FORWARD_RESPONSE__INIT;
        StreamRequest *req;

        if (!cri_hex_id_is_valid(p->pod_sandbox_id, CRI_POD_ID_LEN))
                return grpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no such pod sandbox: %s", p->pod_sandbox_id);
        if (p->n_port > STREAM_MAX_PORTS)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "at most %u ports per request",
                                      STREAM_MAX_PORTS);
        for (size_t i = 0; i < p->n_port; i++)
                if (p->port[i] <= 0 || p->port[i] > 65535)
                        return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "bad port %d", p->port[i]);
        if (!cri->streaming)
                return grpc_call_fail(call, GRPC_STATUS_UNAVAILABLE, "the streaming server is not running");

        req = calloc(1, sizeof(StreamRequest));
        if (!req)
                return -ENOMEM;
        req->kind = STREAM_PORT_FORWARD;
        memcpy(req->pod_id, p->pod_sandbox_id, 32);
        for (size_t i = 0; i < p->n_port; i++)
                req->ports[req->n_ports++] = p->port[i];
        return reply_url(call, &resp.base, &resp.url, cri->streaming, req);
}
