/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A gRPC server for unary calls: libnghttp2 server sessions on sd-event,
 * one thread, every socket non-blocking. A connection is read only while
 * what it was sent has left, so a client that stops reading stalls only
 * itself; HTTP/2 flow control does the same per stream.
 *
 * The user resolves a request's :path to a method (lookup) and handles a
 * call (dispatch). A handler may answer at once or later: it takes a
 * reference on the call, answers with grpc_call_reply()/grpc_call_fail()
 * and drops the reference. A call outlives its stream: when the client
 * cancels (RST_STREAM) or goes away, the call's cancel callback runs and
 * later answers are dropped (-ECANCELED), never written to freed memory. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "grpc.h"
#include "macro.h"

typedef struct GrpcServer GrpcServer;
typedef struct GrpcCall GrpcCall;

/* The method of :path, or NULL for UNIMPLEMENTED. */
typedef const void *(*GrpcLookup)(const char *path, void *userdata);
/* Called once per call with its one request message (msg is valid only
 * during the call). It must answer, now or later. */
typedef void (*GrpcDispatch)(GrpcCall *call, const void *method, const uint8_t *msg, size_t len, void *userdata);
typedef void (*GrpcCancel)(GrpcCall *call, void *userdata);

/* Limits, each a bound on what one client can make us hold. */
#define GRPC_MAX_CONNECTIONS 1024U
#define GRPC_MAX_STREAMS 128U                           /* concurrent, per connection */
#define GRPC_MAX_HEADER_BYTES (16U * 1024U)             /* one request's header block */
#define GRPC_MAX_CONNECTION_BUFFERED (64U * 1024U * 1024U) /* request bytes held per connection */

int grpc_server_new(sd_event *event, GrpcLookup lookup, GrpcDispatch dispatch, void *userdata,
                    GrpcServer **ret);
GrpcServer *grpc_server_free(GrpcServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(GrpcServer *, grpc_server_free);
/* Serves a listening stream socket (takes the fd, also on failure). */
int grpc_server_add_listener(GrpcServer *s, int fd);
/* Serves one already connected socket (tests, fuzzing). Takes the fd. */
int grpc_server_add_connection(GrpcServer *s, int fd);
unsigned grpc_server_n_connections(GrpcServer *s);

GrpcCall *grpc_call_ref(GrpcCall *c);
GrpcCall *grpc_call_unref(GrpcCall *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(GrpcCall *, grpc_call_unref);

const char *grpc_call_path(GrpcCall *c);
/* When the client gives up (its grpc-timeout), CLOCK_MONOTONIC in
 * microseconds; 0 when it set none. */
uint64_t grpc_call_deadline(GrpcCall *c);
/* True once the client cancelled or its connection is gone. */
bool grpc_call_is_cancelled(GrpcCall *c);
void grpc_call_set_cancel(GrpcCall *c, GrpcCancel cb, void *userdata);

/* Answers with one message and OK. frame holds GRPC_PREFIX_SIZE free bytes
 * followed by the len bytes of the message; the call takes it (always).
 * -ECANCELED when the client is gone, -EALREADY when answered before,
 * -EMSGSIZE over the cap (then the call is answered RESOURCE_EXHAUSTED). */
int grpc_call_reply_frame(GrpcCall *c, uint8_t *frame, size_t len);
/* Answers with a status other than OK and a message (printf format). */
int grpc_call_fail(GrpcCall *c, GrpcStatus status, const char *format, ...) _printf_(3, 4);
