/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exec and PortForward: each answers the URL of a single-use token of the
 * streaming server (streaming.c), where the client then streams. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cri.h"
#include "streaming.h"
#include "strv.h"

/* n lower-case hex digits, nothing else. */
static bool is_hex_id(const char *s, size_t n) {
        if (!s || strlen(s) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("0123456789abcdef", s[i]))
                        return false;
        return true;
}

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

int cri_runtime_exec(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__ExecRequest *e = (const Runtime__V1__ExecRequest *) request;
        Runtime__V1__ExecResponse resp = RUNTIME__V1__EXEC_RESPONSE__INIT;
        StreamRequest *req;

        /* A container id is the pod id and the app id, 64 hex digits. */
        if (!is_hex_id(e->container_id, 64))
                return grpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no such container: %s", e->container_id);
        if (e->n_cmd == 0 || isempty(e->cmd[0]))
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "Exec needs a command");
        if (!e->stdin && !e->stdout && !e->stderr)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
                                      "one of stdin, stdout and stderr must be set");
        if (e->tty && e->stderr)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
                                      "tty and stderr cannot both be set (a terminal has one output)");
        if (!cri->streaming)
                return grpc_call_fail(call, GRPC_STATUS_UNAVAILABLE, "the streaming server is not running");

        req = calloc(1, sizeof(StreamRequest));
        if (!req)
                return -ENOMEM;
        req->kind = STREAM_EXEC;
        memcpy(req->pod_id, e->container_id, 32);
        memcpy(req->app_id, e->container_id + 32, 32);
        req->tty = e->tty;
        req->in = e->stdin;
        req->out = e->stdout;
        req->err = e->stderr;
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
        StreamRequest *req;

        if (!is_hex_id(a->container_id, 64))
                return grpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no such container: %s", a->container_id);
        if (!a->stdin && !a->stdout && !a->stderr)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
                                      "one of stdin, stdout and stderr must be set");
        if (a->tty && a->stderr)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
                                      "tty and stderr cannot both be set (a terminal has one output)");
        if (!cri->streaming)
                return grpc_call_fail(call, GRPC_STATUS_UNAVAILABLE, "the streaming server is not running");

        req = calloc(1, sizeof(StreamRequest));
        if (!req)
                return -ENOMEM;
        req->kind = STREAM_ATTACH;
        memcpy(req->pod_id, a->container_id, 32);
        memcpy(req->app_id, a->container_id + 32, 32);
        req->tty = a->tty;
        req->in = a->stdin;
        req->out = a->stdout;
        req->err = a->stderr;
        return reply_url(call, &resp.base, &resp.url, cri->streaming, req);
}

int cri_runtime_port_forward(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__PortForwardRequest *p = (const Runtime__V1__PortForwardRequest *) request;
        Runtime__V1__PortForwardResponse resp = RUNTIME__V1__PORT_FORWARD_RESPONSE__INIT;
        StreamRequest *req;

        if (!is_hex_id(p->pod_sandbox_id, 32))
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
