/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "grpc-server.h"

/* What a client of peapod-cri's socket sends, whole: the HTTP/2 preface,
 * frames, header blocks and gRPC messages, through a socketpair into the
 * server's nghttp2 session and our callbacks. Calls to "/sync..." are
 * answered at once, calls to "/async..." from a later event-loop turn
 * (the client may be gone by then), the rest are unknown methods. */

typedef struct Pending {
        GrpcCall *call;
        sd_event_source *source;
} Pending;

static int on_later(sd_event_source *s, void *userdata) {
        Pending *p = userdata;
        uint8_t *frame = malloc(GRPC_PREFIX_SIZE + 3);

        if (frame) {
                memcpy(frame + GRPC_PREFIX_SIZE, "abc", 3);
                (void) grpc_call_reply_frame(p->call, frame, 3);
        }
        grpc_call_unref(p->call);
        sd_event_source_disable_unref(s);
        free(p);
        return 0;
}

static const void *lookup(const char *path, void *userdata) {
        if (strncmp(path, "/sync", 5) == 0)
                return "sync";
        if (strncmp(path, "/async", 6) == 0)
                return "async";
        return NULL;
}

static void dispatch(GrpcCall *call, const void *method, const uint8_t *msg, size_t len, void *userdata) {
        sd_event *event = userdata;
        Pending *p;

        if (strcmp(method, "sync") == 0) {
                uint8_t *frame = malloc(GRPC_PREFIX_SIZE + len);

                if (!frame)
                        return;
                memcpy(frame + GRPC_PREFIX_SIZE, msg, len);
                (void) grpc_call_reply_frame(call, frame, len);
                return;
        }
        p = calloc(1, sizeof(Pending));
        if (!p)
                return;
        p->call = grpc_call_ref(call);
        if (sd_event_add_defer(event, &p->source, on_later, p) < 0) {
                (void) grpc_call_fail(call, GRPC_STATUS_INTERNAL, "no defer");
                grpc_call_unref(p->call);
                free(p);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(grpc_server_freep) GrpcServer *server = NULL;
        sd_event *event = NULL;
        int fds[2], sndbuf = 1 << 20;
        uint8_t sink[65536];
        size_t off = 0;

        if (size > 256 * 1024)
                return 0;
        if (sd_event_new(&event) < 0)
                abort();
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
                abort();
        (void) setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        if (grpc_server_new(event, lookup, dispatch, event, &server) < 0 ||
            grpc_server_add_connection(server, fds[0]) < 0)
                abort();

        /* Feed everything, reading what the server answers, until it has
         * closed the connection or nothing moves any more. */
        for (unsigned idle = 0; idle < 4 && grpc_server_n_connections(server) > 0;) {
                bool moved = false;
                ssize_t n;

                if (off < size) {
                        n = send(fds[1], data + off, size - off, MSG_NOSIGNAL);
                        if (n > 0) {
                                off += (size_t) n;
                                moved = true;
                        }
                        if (off == size)
                                (void) shutdown(fds[1], SHUT_WR);
                } else if (size == 0)
                        (void) shutdown(fds[1], SHUT_WR);
                while ((n = recv(fds[1], sink, sizeof(sink), MSG_DONTWAIT)) > 0)
                        moved = true;
                if (sd_event_run(event, 0) > 0)
                        moved = true;
                idle = moved ? 0 : idle + 1;
        }
        /* Calls still waiting for their later answer see the server go. */
        server = grpc_server_free(server);
        while (sd_event_run(event, 0) > 0)
                ;
        close(fds[1]);
        sd_event_unref(event);
        return 0;
}
