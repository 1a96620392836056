/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "grpc-server.h"
#include "log.h"

typedef struct GrpcConnection GrpcConnection;

struct GrpcServer {
        sd_event *event;
        GrpcLookup lookup;
        GrpcDispatch dispatch;
        void *userdata;
        sd_event_source **listeners;
        size_t n_listeners;
        GrpcConnection *connections;
        unsigned n_connections;
        nghttp2_session_callbacks *callbacks;
        nghttp2_option *option;
};

struct GrpcConnection {
        GrpcServer *server;
        GrpcConnection *prev, *next;
        int fd;
        sd_event_source *io, *defer;
        nghttp2_session *session;
        GrpcCall *calls;        /* the calls whose streams are open */
        /* What nghttp2 produced and the socket did not take yet. While
         * anything is here the connection is not read: a client that does
         * not read its answers cannot make us queue more. */
        uint8_t *out;
        size_t out_len, out_off, out_allocated;
        bool in_io;             /* inside connection_on_io(), which flushes at its end */
        size_t buffered;        /* request bytes held by this connection's calls */
};

struct GrpcCall {
        unsigned n_ref;
        GrpcServer *server;
        GrpcConnection *conn;   /* NULL once the stream is gone */
        GrpcCall *prev, *next;
        int32_t stream_id;

        char *path;
        bool post, content_type_ok, encoding_ok, timeout_ok;
        uint64_t deadline;
        size_t header_bytes;
        bool headers_done, dispatched, answered;
        const void *method;
        GrpcReader reader;

        uint8_t *frame;         /* the answer's message, prefix included */
        size_t frame_len, frame_off;

        GrpcCancel cancel;
        void *cancel_userdata;
};

static void connection_free(GrpcConnection *conn);
static void connection_process(GrpcConnection *conn);

/* --- calls --- */

GrpcCall *grpc_call_ref(GrpcCall *c) {
        if (c)
                c->n_ref++;
        return c;
}

GrpcCall *grpc_call_unref(GrpcCall *c) {
        if (!c || --c->n_ref > 0)
                return NULL;
        grpc_reader_done(&c->reader);
        free(c->path);
        free(c->frame);
        return mfree(c);
}

const char *grpc_call_path(GrpcCall *c) {
        return c->path;
}

uint64_t grpc_call_deadline(GrpcCall *c) {
        return c->deadline;
}

bool grpc_call_is_cancelled(GrpcCall *c) {
        return !c->conn;
}

void grpc_call_set_cancel(GrpcCall *c, GrpcCancel cb, void *userdata) {
        c->cancel = cb;
        c->cancel_userdata = userdata;
}

static void call_release_request(GrpcCall *c) {
        if (c->conn)
                c->conn->buffered -= MIN(c->conn->buffered, c->reader.allocated);
        grpc_reader_done(&c->reader);
}

/* The stream is gone (closed, reset, or its connection ended): unlink the
 * call and drop the stream's reference. An unanswered call is cancelled. */
static void call_detach(GrpcCall *c) {
        GrpcConnection *conn = c->conn;

        if (!conn)
                return;
        call_release_request(c);
        if (c->prev)
                c->prev->next = c->next;
        else
                conn->calls = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->prev = c->next = NULL;
        c->conn = NULL;
        c->frame = mfree(c->frame);
        if (!c->answered && c->cancel)
                c->cancel(c, c->cancel_userdata);
        grpc_call_unref(c);
}

static void connection_kick(GrpcConnection *conn) {
        /* Written out by the event loop, never from inside nghttp2's
         * callbacks (which may not call nghttp2_session_mem_send()). An
         * answer given while the connection's input is processed goes out
         * at the end of that. */
        if (!conn->in_io)
                (void) sd_event_source_set_enabled(conn->defer, SD_EVENT_ONESHOT);
}

#define NV(n, v) { (uint8_t *) (n), (uint8_t *) (v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

/* A "Trailers-Only" answer: one HEADERS frame with the status, ending the stream. */
static int call_answer_status(GrpcCall *c, unsigned http_status, GrpcStatus status, const char *message) {
        _cleanup_free_ char *encoded = NULL;
        char hs[8], gs[8];
        int r;

        if (c->answered)
                return -EALREADY;
        if (!c->conn)
                return -ECANCELED;
        c->answered = true;
        call_release_request(c);

        encoded = grpc_percent_encode(strempty(message));
        if (!encoded)
                return -ENOMEM;
        snprintf(hs, sizeof(hs), "%u", http_status);
        snprintf(gs, sizeof(gs), "%d", (int) status);
        nghttp2_nv nva[] = {
                NV(":status", hs),
                NV("content-type", "application/grpc"),
                NV("grpc-status", gs),
                NV("grpc-message", encoded),
        };
        r = nghttp2_submit_response(c->conn->session, c->stream_id, nva, ELEMENTSOF(nva) - isempty(encoded), NULL);
        if (r < 0)
                return -EIO;
        connection_kick(c->conn);
        return 0;
}

int grpc_call_fail(GrpcCall *c, GrpcStatus status, const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;

        if (c->answered)
                return -EALREADY;
        if (!c->conn)
                return -ECANCELED;
        va_start(ap, format);
        if (vasprintf(&message, format, ap) < 0)
                message = NULL;
        va_end(ap);
        return call_answer_status(c, 200, status, message);
}

static ssize_t call_read_frame(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                               uint32_t *data_flags, nghttp2_data_source *source, void *userdata) {
        GrpcCall *c = source->ptr;
        size_t n = MIN(length, c->frame_len - c->frame_off);

        memcpy(buf, c->frame + c->frame_off, n);
        c->frame_off += n;
        if (c->frame_off == c->frame_len) {
                nghttp2_nv trailers[] = { NV("grpc-status", "0") };

                c->frame = mfree(c->frame);
                *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
                if (nghttp2_submit_trailer(session, stream_id, trailers, ELEMENTSOF(trailers)) < 0)
                        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
        return (ssize_t) n;
}

int grpc_call_reply_frame(GrpcCall *c, uint8_t *frame, size_t len) {
        nghttp2_nv nva[] = {
                NV(":status", "200"),
                NV("content-type", "application/grpc"),
        };
        nghttp2_data_provider provider = {
                .source.ptr = c,
                .read_callback = call_read_frame,
        };

        if (c->answered) {
                free(frame);
                return -EALREADY;
        }
        if (!c->conn) {
                free(frame);
                return -ECANCELED;
        }
        if (len > GRPC_MESSAGE_MAX) {
                free(frame);
                (void) grpc_call_fail(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "response larger than 16 MiB");
                return -EMSGSIZE;
        }
        grpc_prefix_write(frame, len);
        c->answered = true;
        call_release_request(c);
        c->frame = frame;
        c->frame_len = GRPC_PREFIX_SIZE + len;
        c->frame_off = 0;
        if (nghttp2_submit_response(c->conn->session, c->stream_id, nva, ELEMENTSOF(nva), &provider) < 0)
                return -EIO;
        connection_kick(c->conn);
        return 0;
}

/* --- nghttp2 callbacks --- */

static bool mem_eq(const uint8_t *v, size_t len, const char *s) {
        return len == strlen(s) && memcmp(v, s, len) == 0;
}

static char *mem_string(const uint8_t *v, size_t len) {
        /* A value with a NUL in it is no value we would accept. */
        if (memchr(v, 0, len))
                return NULL;
        return strndup((const char *) v, len);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *userdata) {
        GrpcConnection *conn = userdata;
        GrpcCall *c;

        if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
                return 0;
        c = calloc(1, sizeof(GrpcCall));
        if (!c)
                return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        c->n_ref = 1;           /* the stream's */
        c->server = conn->server;
        c->conn = conn;
        c->stream_id = frame->hd.stream_id;
        c->encoding_ok = c->timeout_ok = true;
        c->next = conn->calls;
        if (conn->calls)
                conn->calls->prev = c;
        conn->calls = c;
        if (nghttp2_session_set_stream_user_data(session, c->stream_id, c) < 0) {
                call_detach(c);
                return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
        return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *userdata) {
        GrpcCall *c = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

        /* Only the request's own header block counts; a client's trailers
         * carry nothing we use. */
        if (!c || frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
                return 0;
        /* RFC 7541's accounting (32 bytes per field on top of its text). */
        c->header_bytes += namelen + valuelen + 32;
        if (c->header_bytes > GRPC_MAX_HEADER_BYTES)
                return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;   /* resets the stream */

        if (mem_eq(name, namelen, ":method"))
                c->post = mem_eq(value, valuelen, "POST");
        else if (mem_eq(name, namelen, ":path")) {
                free(c->path);
                c->path = mem_string(value, valuelen);
        } else if (mem_eq(name, namelen, "content-type")) {
                _cleanup_free_ char *ct = mem_string(value, valuelen);
                c->content_type_ok = ct && grpc_content_type_ok(ct);
        } else if (mem_eq(name, namelen, "grpc-encoding"))
                c->encoding_ok = mem_eq(value, valuelen, "identity");
        else if (mem_eq(name, namelen, "grpc-timeout")) {
                _cleanup_free_ char *t = mem_string(value, valuelen);
                uint64_t usec, now;

                c->timeout_ok = t && grpc_timeout_parse(t, &usec) >= 0;
                if (c->timeout_ok && sd_event_now(c->server->event, CLOCK_MONOTONIC, &now) >= 0)
                        c->deadline = usec > UINT64_MAX - now ? UINT64_MAX : now + usec;
        }
        return 0;
}

/* The request's headers are complete. nghttp2 checks none of them (no HTTP
 * messaging: grpc clients send the socket path as :authority, which it
 * would refuse), so everything a gRPC request must have is checked here. */
static void call_headers_done(GrpcCall *c) {
        c->headers_done = true;
        if (!c->post)
                (void) call_answer_status(c, 405, GRPC_STATUS_INTERNAL, "gRPC requests are POST");
        else if (!c->content_type_ok)
                (void) call_answer_status(c, 415, GRPC_STATUS_INTERNAL, "content-type is not application/grpc");
        else if (!c->encoding_ok)
                (void) call_answer_status(c, 200, GRPC_STATUS_UNIMPLEMENTED, "only the identity grpc-encoding is supported");
        else if (!c->timeout_ok)
                (void) call_answer_status(c, 200, GRPC_STATUS_INTERNAL, "malformed grpc-timeout");
        else if (!c->path || !(c->method = c->server->lookup(c->path, c->server->userdata)))
                (void) grpc_call_fail(c, GRPC_STATUS_UNIMPLEMENTED, "unknown method %s", strna(c->path));
}

/* The client's side of the stream ended: the request is whole. */
static void call_request_done(GrpcCall *c) {
        _cleanup_(grpc_call_unrefp) GrpcCall *ref = NULL;
        const uint8_t *msg;
        size_t len;
        int r;

        if (c->answered || c->dispatched || !c->headers_done)
                return;
        r = grpc_reader_finish(&c->reader, &msg, &len);
        if (r < 0) {
                (void) grpc_call_fail(c, grpc_status_from_reader_error(r), "%s", c->reader.error);
                return;
        }
        c->dispatched = true;
        ref = grpc_call_ref(c);
        c->server->dispatch(c, c->method, msg, len, c->server->userdata);
        call_release_request(c);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *userdata) {
        GrpcCall *c;

        if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
                return 0;
        c = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
        if (!c)
                return 0;
        if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
                call_headers_done(c);
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
                call_request_done(c);
        return 0;
}

static int on_data_chunk_recv(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
                              size_t len, void *userdata) {
        GrpcConnection *conn = userdata;
        GrpcCall *c = nghttp2_session_get_stream_user_data(session, stream_id);
        size_t before;
        int r;

        /* DATA of an answered call (refused early) is dropped unread. */
        if (!c || c->answered || c->dispatched || !c->headers_done)
                return 0;
        if (conn->buffered + len > GRPC_MAX_CONNECTION_BUFFERED) {
                (void) grpc_call_fail(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "too many request bytes on this connection");
                return 0;
        }
        before = c->reader.allocated;
        r = grpc_reader_feed(&c->reader, data, len);
        if (r < 0) {
                conn->buffered -= MIN(conn->buffered, before);
                (void) grpc_call_fail(c, grpc_status_from_reader_error(r), "%s", c->reader.error);
                return 0;
        }
        conn->buffered += c->reader.allocated - before;
        return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *userdata) {
        GrpcCall *c = nghttp2_session_get_stream_user_data(session, stream_id);

        if (c)
                call_detach(c);
        return 0;
}

/* --- connections --- */

/* nghttp2 hands out one frame per nghttp2_session_mem_send(); an answer is
 * three (HEADERS, DATA, trailers). Gather them, so that one answer, or many
 * answered in one turn, is one write and wakes the client once. */
#define CONNECTION_OUT_GATHER (64U * 1024U)

static int connection_flush(GrpcConnection *conn) {
        for (;;) {
                ssize_t w;

                while (conn->out_len < CONNECTION_OUT_GATHER) {
                        const uint8_t *data;
                        ssize_t n = nghttp2_session_mem_send(conn->session, &data);

                        if (n < 0)
                                return -EIO;
                        if (n == 0)
                                break;
                        if (conn->out_len + (size_t) n > conn->out_allocated) {
                                size_t a = MAX(conn->out_len + (size_t) n, 2 * conn->out_allocated);
                                uint8_t *o = realloc(conn->out, a);

                                if (!o)
                                        return -ENOMEM;
                                conn->out = o;
                                conn->out_allocated = a;
                        }
                        /* nghttp2's buffer is valid only until its next call. */
                        memcpy(conn->out + conn->out_len, data, (size_t) n);
                        conn->out_len += (size_t) n;
                }
                if (conn->out_off == conn->out_len)
                        return 0;

                w = send(conn->fd, conn->out + conn->out_off, conn->out_len - conn->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? 0 : -errno;
                }
                conn->out_off += (size_t) w;
                if (conn->out_off < conn->out_len)
                        return 0;       /* the socket is full: wait for EPOLLOUT */
                conn->out_off = conn->out_len = 0;
                if (conn->out_allocated > 4 * CONNECTION_OUT_GATHER) {
                        /* A big answer went out: do not keep its buffer. */
                        conn->out = mfree(conn->out);
                        conn->out_allocated = 0;
                }
        }
}

static void connection_process(GrpcConnection *conn) {
        bool pending, want_read;
        int r;

        r = connection_flush(conn);
        if (r < 0) {
                log_debug_errno(r, "Dropping a CRI connection: %m");
                connection_free(conn);
                return;
        }
        pending = conn->out_off < conn->out_len;
        want_read = nghttp2_session_want_read(conn->session);
        if (!pending && !want_read && !nghttp2_session_want_write(conn->session)) {
                connection_free(conn);
                return;
        }
        (void) sd_event_source_set_io_events(conn->io, (want_read && !pending ? EPOLLIN : 0) | (pending ? EPOLLOUT : 0));
}

static int connection_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        GrpcConnection *conn = userdata;

        if (revents & EPOLLIN) {
                uint8_t buf[65536];
                ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                        connection_free(conn);
                        return 0;
                }
                if (n > 0) {
                        ssize_t k;

                        conn->in_io = true;
                        k = nghttp2_session_mem_recv(conn->session, buf, (size_t) n);
                        conn->in_io = false;
                        if (k < 0) {
                                /* A fatal protocol error; nghttp2 queued a GOAWAY. */
                                (void) connection_flush(conn);
                                connection_free(conn);
                                return 0;
                        }
                }
        } else if (revents & (EPOLLHUP | EPOLLERR)) {
                connection_free(conn);
                return 0;
        }
        connection_process(conn);
        return 0;
}

static int connection_on_defer(sd_event_source *s, void *userdata) {
        connection_process(userdata);
        return 0;
}

static void connection_free(GrpcConnection *conn) {
        GrpcServer *server = conn->server;

        while (conn->calls)
                call_detach(conn->calls);
        if (conn->prev)
                conn->prev->next = conn->next;
        else
                server->connections = conn->next;
        if (conn->next)
                conn->next->prev = conn->prev;
        server->n_connections--;
        if (conn->session)
                nghttp2_session_del(conn->session);
        sd_event_source_disable_unref(conn->io);
        sd_event_source_disable_unref(conn->defer);
        safe_close(conn->fd);
        free(conn->out);
        free(conn);
}

static int connection_setup(GrpcConnection *conn) {
        GrpcServer *s = conn->server;
        nghttp2_settings_entry settings[] = {
                { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, GRPC_MAX_STREAMS },
                { NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, GRPC_MAX_HEADER_BYTES },
                /* Larger than HTTP/2's 64 KiB default so that a big request
                 * (an image pull's auth, a container's config) flows in one go. */
                { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1U << 20 },
        };
        int r;

        if (nghttp2_session_server_new2(&conn->session, s->callbacks, conn, s->option) < 0) {
                conn->session = NULL;
                return -ENOMEM;
        }
        r = sd_event_add_io(s->event, &conn->io, conn->fd, EPOLLIN, connection_on_io, conn);
        if (r < 0)
                return r;
        r = sd_event_add_defer(s->event, &conn->defer, connection_on_defer, conn);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(conn->defer, SD_EVENT_OFF);
        if (nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, settings, ELEMENTSOF(settings)) < 0 ||
            nghttp2_session_set_local_window_size(conn->session, NGHTTP2_FLAG_NONE, 0, 4U << 20) < 0)
                return -ENOMEM;
        connection_kick(conn);
        return 0;
}

int grpc_server_add_connection(GrpcServer *s, int fd) {
        _cleanup_close_ int fd_owned = fd;
        GrpcConnection *conn;
        int r;

        if (s->n_connections >= GRPC_MAX_CONNECTIONS)
                return -EMFILE;
        conn = calloc(1, sizeof(GrpcConnection));
        if (!conn)
                return -ENOMEM;
        conn->server = s;
        conn->fd = TAKE_FD(fd_owned);
        conn->next = s->connections;
        if (s->connections)
                s->connections->prev = conn;
        s->connections = conn;
        s->n_connections++;

        r = connection_setup(conn);
        if (r < 0)
                connection_free(conn);  /* takes half-built connections */
        return r;
}

static int server_on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        GrpcServer *s = userdata;

        /* A bounded batch per wakeup, so that a flood of connects cannot
         * starve the connections already there. */
        for (unsigned i = 0; i < 64; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                int r;

                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning_errno(errno, "Failed to accept a CRI connection: %m");
                        break;
                }
                r = grpc_server_add_connection(s, cfd);
                if (r < 0)
                        log_warning_errno(r, "Refusing a CRI connection: %m");
        }
        return 0;
}

int grpc_server_add_listener(GrpcServer *s, int fd) {
        _cleanup_close_ int fd_owned = fd;
        sd_event_source **l, *src;
        int r;

        r = RET_NERRNO(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK));
        if (r < 0)
                return r;
        l = reallocarray(s->listeners, s->n_listeners + 1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        s->listeners = l;
        r = sd_event_add_io(s->event, &src, fd, EPOLLIN, server_on_accept, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_io_fd_own(src, true);
        TAKE_FD(fd_owned);
        s->listeners[s->n_listeners++] = src;
        return 0;
}

unsigned grpc_server_n_connections(GrpcServer *s) {
        return s->n_connections;
}

GrpcServer *grpc_server_free(GrpcServer *s) {
        if (!s)
                return NULL;
        /* Tell every client we are going (GOAWAY, as far as its socket
         * takes it without waiting), so that it reconnects rather than
         * reporting a broken connection. Calls still pending are cancelled. */
        for (GrpcConnection *c = s->connections; c; c = c->next)
                if (nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR) >= 0)
                        (void) connection_flush(c);
        while (s->connections)
                connection_free(s->connections);
        for (size_t i = 0; i < s->n_listeners; i++)
                sd_event_source_disable_unref(s->listeners[i]);
        free(s->listeners);
        nghttp2_session_callbacks_del(s->callbacks);
        nghttp2_option_del(s->option);
        sd_event_unref(s->event);
        return mfree(s);
}

int grpc_server_new(sd_event *event, GrpcLookup lookup, GrpcDispatch dispatch, void *userdata, GrpcServer **ret) {
        _cleanup_(grpc_server_freep) GrpcServer *s = NULL;

        s = calloc(1, sizeof(GrpcServer));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->lookup = lookup;
        s->dispatch = dispatch;
        s->userdata = userdata;
        if (nghttp2_session_callbacks_new(&s->callbacks) < 0 || nghttp2_option_new(&s->option) < 0)
                return -ENOMEM;
        nghttp2_session_callbacks_set_on_begin_headers_callback(s->callbacks, on_begin_headers);
        nghttp2_session_callbacks_set_on_header_callback(s->callbacks, on_header);
        nghttp2_session_callbacks_set_on_frame_recv_callback(s->callbacks, on_frame_recv);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(s->callbacks, on_data_chunk_recv);
        nghttp2_session_callbacks_set_on_stream_close_callback(s->callbacks, on_stream_close);
        /* grpc clients send the unix socket's path as :authority, which
         * nghttp2's HTTP checks refuse; call_headers_done() checks what a
         * gRPC request needs instead. */
        nghttp2_option_set_no_http_messaging(s->option, 1);
        *ret = TAKE_PTR(s);
        return 0;
}
