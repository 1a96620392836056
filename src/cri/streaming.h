/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* peapod-cri's streaming server: the URLs that Exec and PortForward answer
 * point here. HTTP/1.1 on the CRI's sd-event loop, one thread, every socket
 * non-blocking; a request names a single-use token that expires
 * (STREAM_TOKEN_USEC) and upgrades to a WebSocket carrying Kubernetes'
 * channel protocols. Exec runs through peapodd's Pod.Exec (the container's
 * namespaces and privileges, never more); attach reads the app's lines
 * from the journal and writes to the stdin peapodd's Pod.AttachApp hands
 * out; port-forward connects to
 * 127.0.0.1:PORT from a socket made in the pod's network namespace. */

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include <systemd/sd-event.h>

#include "macro.h"

typedef struct Cri Cri;
typedef struct StreamServer StreamServer;

#define STREAM_TOKEN_USEC (60ULL * 1000000ULL)          /* a URL is good for a minute */
#define STREAM_MAX_TOKENS 1024U                         /* URLs handed out, not used yet */
#define STREAM_MAX_CONNECTIONS 1024U
#define STREAM_REQUEST_MAX 8192U                        /* the HTTP request head */
#define STREAM_REQUEST_USEC (10ULL * 1000000ULL)        /* to send it */
#define STREAM_LINGER_USEC (2ULL * 1000000ULL)          /* reading to EOF after our last word */
#define STREAM_OUTPUT_MAX (256U * 1024U)                /* queued for one client before we stop reading for it */
#define STREAM_MAX_PORTS 16U                            /* per port-forward request */
#define STREAM_DEFAULT_ADDRESS "127.0.0.1"
/* A client that vanished without a word (its host gone, a cable pulled)
 * is noticed by TCP: keepalive probes after 15 s of silence, every 5 s, 3
 * unanswered end the connection; data not acknowledged within 30 s does
 * too. Then its command is killed and everything of its stream freed. */
#define STREAM_KEEPALIVE_IDLE_SEC 15
#define STREAM_KEEPALIVE_INTERVAL_SEC 5
#define STREAM_KEEPALIVE_COUNT 3
#define STREAM_USER_TIMEOUT_MSEC 30000U

typedef enum StreamKind {
        STREAM_EXEC,
        STREAM_PORT_FORWARD,
        STREAM_ATTACH,
} StreamKind;

/* What a token stands for, filled by the gRPC handler. */
typedef struct StreamRequest {
        StreamKind kind;
        char pod_id[33];
        char app_id[33];                /* exec, attach */
        char **cmd;                     /* exec */
        bool tty, in, out, err;         /* exec, attach */
        uint16_t ports[STREAM_MAX_PORTS];       /* port-forward: allowed ports (none: any) */
        size_t n_ports;
} StreamRequest;

/* Listens on address:port (port 0: a free one the kernel picks); a URL
 * handed out is good for token_usec (0: STREAM_TOKEN_USEC). */
int stream_server_new(Cri *cri, const char *address, uint16_t port, uint64_t token_usec, StreamServer **ret);
StreamServer *stream_server_free(StreamServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(StreamServer *, stream_server_free);

/* Takes the request (also on failure) and returns the URL of its token. */
int stream_server_add(StreamServer *s, StreamRequest *req, char **ret_url);
void stream_request_free(StreamRequest *req);

unsigned stream_server_n_connections(StreamServer *s);
/* The listening port (for logs and tests). */
uint16_t stream_server_port(StreamServer *s);
/* Serves one connected socket (fuzzing). Takes the fd. */
int stream_server_add_connection(StreamServer *s, int fd);
